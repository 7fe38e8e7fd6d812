import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { runDirOf } from '../helpers/cli';
import { FULL, libExperiment, readRecords, report, rng, startLibRunner } from './torture';

type Op =
  | { k: 'w'; at: number; data: string }
  | { k: 'sync' }
  | { k: 'dirsync' }
  | { k: 'create' }
  | { k: 'state'; data: string }
  | { k: 'snap'; data: string };

/** The journal bytes after applying the writes among `ops` to `base` (what the journal held, durably, before them). */
function applyWrites(ops: readonly Op[], base: Buffer): Buffer {
  let buf = Buffer.from(base);
  for (const op of ops) {
    if (op.k !== 'w') continue;
    const data = Buffer.from(op.data, 'base64');
    if (buf.length < op.at + data.length) buf = Buffer.concat([buf, Buffer.alloc(op.at + data.length - buf.length)]);
    data.copy(buf, op.at);
  }
  return buf;
}

test(
  "crash-consistency model: every prefix of the run's file operations, with un-synced bytes lost, zeroed or garbage and un-synced renames undone, resumes with everything durable kept",
  { timeout: FULL ? 3_600_000 : 240_000 },
  async () => {
    const n = 40;
    const dir = tmpDir();
    const file = libExperiment(dir, n);
    const out = path.join(tmpDir(), 'ops.json');
    const starts = path.join(tmpDir(), 'starts.log');
    // A first session stops part way: it leaves a unit snapshot covering its journal, which the
    // recorded session resumes from (reading only the journal after it) and replaces at its end.
    const first = await startLibRunner(file, 4, { TORTURE_STOP_AFTER: '12', TORTURE_STARTS: path.join(tmpDir(), 'first.log') }).done;
    assert.equal(first.code, 130, first.stderr);
    const base = fs.readFileSync(path.join(runDirOf(dir), 'journal.jsonl'));
    const firstSnapshot = fs.readFileSync(path.join(runDirOf(dir), 'snapshot.bin'));
    const rec = spawn(process.execPath, [path.join(__dirname, 'crashRecorder.cjs'), file, '4'], {
      stdio: 'inherit',
      env: { ...process.env, RECORD_ROOT: dir, RECORD_OUT: out, TORTURE_STARTS: starts },
    });
    assert.equal(await new Promise((r) => rec.on('exit', r)), 0);
    const ops: Op[] = JSON.parse(fs.readFileSync(out, 'utf8'));
    const runDir = runDirOf(dir);
    const final = fs.readFileSync(path.join(runDir, 'journal.jsonl'));
    assert.ok(applyWrites(ops, base).equals(final), 'the recording reproduces the journal byte for byte');
    const counts = {
      writes: ops.filter((o) => o.k === 'w').length,
      syncs: ops.filter((o) => o.k === 'sync').length,
      stateRenames: ops.filter((o) => o.k === 'state').length,
      snapshotRenames: ops.filter((o) => o.k === 'snap').length,
      dirSyncs: ops.filter((o) => o.k === 'dirsync').length,
    };
    assert.ok(counts.writes > 5 && counts.syncs > 5 && counts.stateRenames > 0 && counts.snapshotRenames > 0, JSON.stringify(counts));

    const seed = Number(process.env.TORTURE_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const points = FULL ? ops.map((_, i) => i + 1) : Array.from({ length: 10 }, () => 1 + Math.floor(random() * ops.length));
    const variants = [
      'as written',
      'un-synced bytes lost',
      'un-synced bytes zeroed',
      'un-synced bytes garbage',
      'new directory entry lost',
      'snapshot damaged',
    ] as const;
    const f = {
      seed,
      ops: ops.length,
      ...counts,
      states: 0,
      resumed: 0,
      durableLinesLost: 0,
      durableUnitsRerun: 0,
      unitsMissingAfter: 0,
      failures: 0,
      /** Resumes that said they could not use an intact snapshot (only the damaged one may be refused). */
      intactSnapshotRefused: 0,
      damagedSnapshots: 0,
      damagedSnapshotRefused: 0,
    };
    for (const i of points) {
      const prefix = ops.slice(0, i);
      const lastSync = prefix.map((o) => o.k).lastIndexOf('sync');
      const durable = applyWrites(prefix.slice(0, lastSync + 1), base);
      const written = applyWrites(prefix, base);
      // state.json: the last rename that a folder fsync made durable, or, as written, the last rename.
      const renames = prefix.map((o, j) => [o, j] as const).filter(([o]) => o.k === 'state');
      const durableRename = renames.filter(([, j]) => prefix.slice(j).some((o) => o.k === 'dirsync')).pop();
      // snapshot.bin the same way; before any rename of this session, the first session's.
      const snaps = prefix.map((o, j) => [o, j] as const).filter(([o]) => o.k === 'snap');
      const durableSnap = snaps.filter(([, j]) => prefix.slice(j).some((o) => o.k === 'dirsync')).pop();
      // The journal is a new file of this run: its directory entry is durable only once a folder fsync came after it.
      const created = prefix.findIndex((o) => o.k === 'create');
      const entryDurable = created === -1 || prefix.slice(created).some((o) => o.k === 'dirsync');
      // The first point always tries a damaged snapshot, so the quick run covers the fallback too.
      const quick = i === points[0] ? 'snapshot damaged' : variants[Math.floor(random() * variants.length)]!;
      for (const v of FULL ? variants : [quick]) {
        if (v === 'snapshot damaged') f.damagedSnapshots++;
        if (v === 'new directory entry lost' && entryDurable) continue;
        const extra = Math.max(0, written.length - durable.length);
        const journal =
          v === 'as written'
            ? written
            : v === 'un-synced bytes lost'
              ? durable
              : v === 'un-synced bytes zeroed'
                ? Buffer.concat([durable, Buffer.alloc(extra)])
                : Buffer.concat([durable, Buffer.from(Array.from({ length: extra }, (_, j) => (j % 7 === 3 ? 0x0a : 0x41 + (j % 26))))]);
        const state = v === 'as written' ? renames.at(-1)?.[0] : durableRename?.[0];
        const snapOp = v === 'as written' ? snaps.at(-1)?.[0] : durableSnap?.[0];
        let snapshot = snapOp?.k === 'snap' ? Buffer.from(snapOp.data, 'base64') : firstSnapshot;
        // Torn in its body: the digest fails, the resume reads the whole journal.
        if (v === 'snapshot damaged') snapshot = Buffer.concat([snapshot.subarray(0, snapshot.length - 9), Buffer.from('damaged!!')]);
        const copy = tmpDir();
        fs.cpSync(dir, copy, { recursive: true });
        const rd = runDirOf(copy);
        if (v === 'new directory entry lost') fs.rmSync(path.join(rd, 'journal.jsonl'));
        else fs.writeFileSync(path.join(rd, 'journal.jsonl'), journal);
        fs.rmSync(path.join(rd, 'state.json'), { force: true });
        fs.writeFileSync(path.join(rd, 'snapshot.bin'), snapshot);
        if (state && state.k === 'state') fs.writeFileSync(path.join(rd, 'state.json'), Buffer.from(state.data, 'base64'));
        f.states++;
        const startsAfter = path.join(copy, 'starts.log');
        const r = await startLibRunner(path.join(copy, 'e.experiment.json'), 4, { TORTURE_STARTS: startsAfter, TORTURE_NOTES: '1' }).done;
        if (/Did not use the unit-state snapshot/.test(r.stderr)) {
          if (v === 'snapshot damaged') f.damagedSnapshotRefused++;
          else {
            f.intactSnapshotRefused++;
            console.log(`# op ${i}/${ops.length}, ${v}: ${r.stderr.slice(0, 300)}`);
          }
        }
        if (r.code !== 0) {
          f.failures++;
          console.log(`# op ${i}/${ops.length}, ${v}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
          continue;
        }
        f.resumed++;
        const after = fs.readFileSync(path.join(rd, 'journal.jsonl'));
        const whole = durable.lastIndexOf(0x0a) + 1;
        if (!after.subarray(0, whole).equals(durable.subarray(0, whole))) f.durableLinesLost++;
        const durableDone = new Set(
          durable
            .subarray(0, whole)
            .toString()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
            .filter((x) => x.t === 'end' && x.s === 'passed')
            .map((x) => x.u),
        );
        const rerun = fs.existsSync(startsAfter)
          ? fs
              .readFileSync(startsAfter, 'utf8')
              .split('\n')
              .filter((u) => durableDone.has(u))
          : [];
        f.durableUnitsRerun += rerun.length;
        const { records } = readRecords(path.join(rd, 'journal.jsonl'));
        const passed = new Set(records.filter((x) => x.t === 'end' && x.s === 'passed').map((x) => x.u));
        f.unitsMissingAfter += n - passed.size;
      }
    }
    report('crashModel', f);
    assert.deepEqual(
      {
        failures: f.failures,
        durableLinesLost: f.durableLinesLost,
        durableUnitsRerun: f.durableUnitsRerun,
        unitsMissingAfter: f.unitsMissingAfter,
        intactSnapshotRefused: f.intactSnapshotRefused,
        damagedSnapshotUsed: f.damagedSnapshots - f.damagedSnapshotRefused,
      },
      { failures: 0, durableLinesLost: 0, durableUnitsRerun: 0, unitsMissingAfter: 0, intactSnapshotRefused: 0, damagedSnapshotUsed: 0 },
      JSON.stringify(f),
    );
  },
);

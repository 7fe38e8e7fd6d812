import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { unitFolderName } from '../../src/core/ids';
import { runDirOf } from '../helpers/cli';
import { FULL, libExperiment, readRecords, report, rng, startLibRunner } from './torture';

const RUNNER = path.join(__dirname, 'faultRunner.cjs');
const KINDS = ['open', 'write', 'fsync', 'rename', 'mkdir'] as const;
const ERRNOS = ['ENOSPC', 'EIO', 'EACCES'];

function faulty(
  file: string,
  root: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string; log: { counts: Record<string, number>; injected: boolean; afterFailedFsync: number } }> {
  const log = path.join(root, '..', `${path.basename(root)}.fault.json`);
  const child = spawn(process.execPath, [RUNNER, file, '8'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, FAULT_ROOT: root, FAULT_LOG: log, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) =>
    child.on('exit', (code) => {
      if (!fs.existsSync(log)) return reject(new Error(`the fault runner wrote no log (exit ${code}): ${stderr.slice(0, 500)}`));
      const counts = JSON.parse(fs.readFileSync(log, 'utf8'));
      fs.rmSync(log);
      resolve({ code, stderr, log: counts });
    }),
  );
}

const done = (runDir: string) =>
  new Set(
    readRecords(path.join(runDir, 'journal.jsonl'))
      .records.filter((x) => (x.t === 'end' && x.s === 'passed') || x.t === 'adopt')
      .map((x) => x.u as string),
  );

test(
  'fault injection: the Nth open/write/fsync/rename/mkdir fails with ENOSPC, EIO or EACCES — a clear stop, readable state, a resume that loses nothing',
  { timeout: FULL ? 3_600_000 : 240_000 },
  async () => {
    const n = 60;
    const seed = Number(process.env.TORTURE_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const probe = tmpDir();
    const base = await faulty(libExperiment(probe, n), probe, { FAULT_N: '0' });
    assert.equal(base.code, 0, base.stderr);
    for (const k of KINDS) assert.ok(base.log.counts[k]! > 0, `the fs layer sees ${k} calls: ${JSON.stringify(base.log.counts)}`);
    const f = {
      seed,
      opsPerRun: base.log.counts,
      faults: 0,
      stoppedCleanly: 0,
      absorbed: 0,
      crashes: 0,
      unreadableAfter: 0,
      resumesFailed: 0,
      lost: 0,
      rerunAfterJournaled: 0,
      writesAfterFailedFsync: 0,
    };
    const perKind = FULL ? 24 : 3;
    for (const kind of KINDS) {
      const total = base.log.counts[kind]!;
      const picks = new Set<number>([1, total]);
      while (picks.size < Math.min(perKind, total)) picks.add(1 + Math.floor(random() * total));
      for (const nth of picks) {
        for (const errno of FULL ? ERRNOS : [ERRNOS[Math.floor(random() * 3)]!]) {
          const dir = tmpDir();
          const file = libExperiment(dir, n);
          const r = await faulty(file, dir, { FAULT_OP: kind, FAULT_N: String(nth), FAULT_ERRNO: errno });
          const ctx = `seed ${seed}: ${errno} on ${kind} #${nth}`;
          f.faults++;
          f.writesAfterFailedFsync += r.log.afterFailedFsync;
          if (r.code === 0) f.absorbed++;
          else if (r.code === 1 && r.stderr.includes(errno) && !/\n\s+at /.test(r.stderr)) f.stoppedCleanly++;
          else {
            f.crashes++;
            console.log(`# ${ctx}: exit ${r.code}: ${r.stderr.slice(0, 300)}`);
          }
          if (!fs.existsSync(path.join(dir, '.resumable')) || fs.readdirSync(path.join(dir, '.resumable')).length === 0) continue;
          let runDir: string;
          try {
            runDir = runDirOf(dir);
          } catch {
            continue; // the fault came before the frozen config was in place: nothing to keep
          }
          const { bad } = readRecords(path.join(runDir, 'journal.jsonl'));
          const state = path.join(runDir, 'state.json');
          let stateOk = true;
          if (fs.existsSync(state)) {
            try {
              JSON.parse(fs.readFileSync(state, 'utf8'));
            } catch {
              stateOk = false;
            }
          }
          if (bad.length || !stateOk) f.unreadableAfter++;
          const before = done(runDir);
          const logsBefore = new Map(
            fs.existsSync(path.join(runDir, 'units'))
              ? fs
                  .readdirSync(path.join(runDir, 'units'))
                  .map((u) => [u, fs.readFileSync(path.join(runDir, 'units', u, 'runs.log'), 'utf8').split('start').length])
              : [],
          );
          const again = await startLibRunner(file, 8).done;
          if (again.code !== 0) {
            f.resumesFailed++;
            console.log(`# ${ctx}: resume exit ${again.code}: ${again.stderr.slice(0, 300)}`);
            continue;
          }
          const after = done(runDir);
          f.lost += [...before].filter((u) => !after.has(u)).length + (n - after.size);
          for (const u of before) {
            const folder = unitFolderName(u);
            const was = logsBefore.get(folder);
            const now = fs.readFileSync(path.join(runDir, 'units', folder, 'runs.log'), 'utf8').split('start').length;
            if (was !== undefined && now > was) f.rerunAfterJournaled++;
          }
        }
      }
    }
    report('faultInjection', f);
    assert.deepEqual(
      {
        crashes: f.crashes,
        unreadableAfter: f.unreadableAfter,
        resumesFailed: f.resumesFailed,
        lost: f.lost,
        rerunAfterJournaled: f.rerunAfterJournaled,
        writesAfterFailedFsync: f.writesAfterFailedFsync,
      },
      { crashes: 0, unreadableAfter: 0, resumesFailed: 0, lost: 0, rerunAfterJournaled: 0, writesAfterFailedFsync: 0 },
      JSON.stringify(f),
    );
    assert.ok(f.stoppedCleanly > 0, JSON.stringify(f));
  },
);

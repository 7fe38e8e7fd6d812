import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { CLI, cliSync, journalRecords, makeExperiment, runDirOf } from '../helpers/cli';

// A closed pipe is not a crash (issue 12, item 9): `resumable repair DIR | head -1` exited 1
// with an EPIPE stack trace and applied the repair only sometimes; `resumable run ... | head`
// killed the runner while units ran. Every command, with its stdout (and separately its
// stderr) a real pipe whose reader goes away: at once, or after the first byte (as `head -c1`
// does). The command must go on: same exit code as with a reader, its work done in full.

type Stream = 'stdout' | 'stderr';
type When = 'at once' | 'after the first byte';
const MODES: readonly { stream: Stream; when: When }[] = [
  { stream: 'stdout', when: 'at once' },
  { stream: 'stdout', when: 'after the first byte' },
  { stream: 'stderr', when: 'at once' },
  { stream: 'stderr', when: 'after the first byte' },
];

interface Closed {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** What the other stream carried (the one still read). */
  other: string;
  /** Bytes the closed stream's reader got before it went away. */
  got: number;
}

/** Runs the CLI with `stream` read by a reader that goes away `when`; the other stream is read to the end. */
function withClosed(args: string[], cwd: string, stream: Stream, when: When): Promise<Closed> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const closed = child[stream];
  const open = child[stream === 'stdout' ? 'stderr' : 'stdout'];
  let got = 0;
  if (when === 'at once') closed.destroy();
  else
    closed.once('data', (d: Buffer) => {
      got = d.length;
      // Closes the read end: the child's next write fails with EPIPE.
      closed.destroy();
    });
  let other = '';
  open.on('data', (d) => (other += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, other, got })));
}

const context = (args: string[], m: { stream: Stream; when: When }, r: Closed) =>
  `resumable ${args.join(' ')} with ${m.stream} closed ${m.when}: exit ${r.code} (signal ${r.signal}); ${m.stream === 'stdout' ? 'stderr' : 'stdout'}:\n${r.other}`;

/** No stack trace, no EPIPE report, no internal error: only when stderr is the stream still read. */
function assertNoCrash(r: Closed, m: { stream: Stream }, ctx: string): void {
  assert.equal(r.signal, null, ctx);
  if (m.stream === 'stdout') assert.doesNotMatch(r.other, /EPIPE|ERR_STREAM|\n\s+at |internal error|Error:/, ctx);
}

/** A finished run whose journal lost the outcomes of all but its first `keep` units: repair adopts the rest. */
function damaged(dir: string, file: string, keep: number): string {
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  const recs = journalRecords(runDir);
  const kept = new Set(
    recs
      .filter((r) => r.t === 'end' || r.t === 'adopt')
      .slice(0, keep)
      .map((r) => r.u),
  );
  const cut = recs.filter((r) => !['start', 'end', 'adopt'].includes(r.t as string) || kept.has(r.u));
  fs.writeFileSync(path.join(runDir, 'journal.jsonl'), cut.map((r) => JSON.stringify(r) + '\n').join(''));
  return runDir;
}

test('status, list and --help with a closed stdout or stderr: exit 0, no stack trace', { timeout: 180_000 }, async () => {
  const dir = tmpDir();
  // Many items, grouped by id: a status of over 64 KiB (more than a pipe holds), so that its
  // writes go on after the reader has gone even when it closes after the first byte.
  const file = makeExperiment(dir, { n: 1500, concurrency: 16, sleep: '0', extra: { matrix: { model: ['a', 'b'] } } });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  assert.ok(cliSync(['status', runDir, '--by', 'id'], dir).stdout.length > 64 * 1024, 'the status is bigger than a pipe');
  for (const args of [
    ['status'],
    ['status', runDir, '--by', 'id'],
    ['status', file, '--json'],
    ['status', runDir, '--by', 'model', '--json'],
    ['list'],
    ['list', '--json'],
    ['--help'],
  ]) {
    for (const m of MODES) {
      const r = await withClosed(args, dir, m.stream, m.when);
      const ctx = context(args, m, r);
      assert.equal(r.code, 0, ctx);
      assertNoCrash(r, m, ctx);
    }
  }
  // An error (exit 1) stays an error with its stream closed: the exit code is the command's own.
  for (const m of MODES) {
    const r = await withClosed(['status', runDir, '--by', 'nope'], dir, m.stream, m.when);
    assert.equal(r.code, 1, context(['status', '--by', 'nope'], m, r));
  }
});

test('repair with a closed stdout or stderr applies all of its changes and exits 0', { timeout: 180_000 }, async () => {
  for (const m of MODES) {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 12, sleep: '0' });
    const runDir = damaged(dir, file, 4);
    const args = ['repair', runDir];
    const r = await withClosed(args, dir, m.stream, m.when);
    const ctx = context(args, m, r);
    assert.equal(r.code, 0, ctx);
    assertNoCrash(r, m, ctx);
    // All of it: every unit has its outcome in the rewritten journal, the backup is there, and
    // a second repair finds nothing left to do.
    const recs = journalRecords(runDir);
    assert.equal(recs.filter((x) => x.t === 'adopt').length, 8, ctx);
    assert.equal(new Set(recs.filter((x) => x.t === 'end' || x.t === 'adopt').map((x) => x.u)).size, 12, ctx);
    assert.equal(fs.readdirSync(path.join(runDir, 'archive')).filter((d) => d.endsWith('-before-repair')).length, 1, ctx);
    assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')).status, 'completed', ctx);
    assert.match(cliSync(['repair', runDir], dir).stdout, /Nothing to repair/, ctx);

    // --dry-run: nothing written, exit 0.
    const again = damaged(dir, file, 6);
    const before = fs.readFileSync(path.join(again, 'journal.jsonl'), 'utf8');
    const dry = await withClosed(['repair', again, '--dry-run'], dir, m.stream, m.when);
    assert.equal(dry.code, 0, context(['repair', '--dry-run'], m, dry));
    assertNoCrash(dry, m, context(['repair', '--dry-run'], m, dry));
    assert.equal(fs.readFileSync(path.join(again, 'journal.jsonl'), 'utf8'), before, 'a dry run writes nothing');
  }
});

test('`resumable repair DIR | head -1` in a shell: exit 0, no stack trace, the repair applied (6 tries)', { timeout: 180_000 }, () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 10, sleep: '0' });
  for (let i = 0; i < 6; i++) {
    const runDir = damaged(dir, file, 2);
    // bash for PIPESTATUS: the exit code of the CLI, not of head.
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" repair "${runDir}" | head -1; exit "\${PIPESTATUS[0]}"`], {
      cwd: dir,
      encoding: 'utf8',
    });
    const ctx = `try ${i + 1}: exit ${r.status}; stdout ${JSON.stringify(r.stdout)}; stderr:\n${r.stderr}`;
    assert.equal(r.status, 0, ctx);
    assert.equal(r.stderr, '', ctx);
    assert.match(r.stdout, /^Repair of .*: \+8 adopted, 0 dropped\n$/, ctx);
    assert.equal(journalRecords(runDir).filter((x) => x.t === 'adopt').length, 8, ctx);
  }
});

test(
  'run with a closed stdout or stderr finishes every unit with its own exit code (plain, --json, --dry-run)',
  { timeout: 300_000 },
  async () => {
    for (const m of MODES) {
      for (const flags of [[], ['--json']]) {
        const dir = tmpDir();
        // Units long enough that the reader goes away while they run; one of them fails for
        // good, which is still exit 0 (every unit has an outcome).
        const file = makeExperiment(dir, {
          n: 12,
          concurrency: 4,
          sleep: '0.2',
          script:
            'sleep "$UNIT_SLEEP"\ncase "$RESUMABLE_UNIT_ID" in *00003) exit 3;; esac\nprintf \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"\n',
          extra: { retries: { maxAttempts: 1, backoffSeconds: [0, 0] } },
        });
        const args = ['run', file, ...flags];
        const r = await withClosed(args, dir, m.stream, m.when);
        const ctx = context(args, m, r);
        assert.equal(r.code, 0, ctx);
        assertNoCrash(r, m, ctx);
        const runDir = runDirOf(dir);
        const recs = journalRecords(runDir);
        const ends = recs.filter((x) => x.t === 'end');
        assert.equal(new Set(ends.map((x) => x.u)).size, 12, `every unit ended\n${ctx}`);
        assert.deepEqual(
          ends.filter((x) => x.s !== 'passed').map((x) => [x.u, x.s]),
          [['item-00003', 'error']],
          ctx,
        );
        assert.deepEqual([recs.at(-1)!.t, recs.at(-1)!.status], ['runner_end', 'completed'], ctx);
        assert.equal(fs.existsSync(path.join(runDir, 'lock')), false, ctx);

        // --dry-run (and --fresh --dry-run): exit 0, nothing written.
        for (const dry of [['--dry-run'], ['--fresh', '--dry-run']]) {
          const before = fs.readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8');
          const d = await withClosed(['run', file, ...dry, ...flags], dir, m.stream, m.when);
          const dctx = context(['run', ...dry, ...flags], m, d);
          assert.equal(d.code, 0, dctx);
          assertNoCrash(d, m, dctx);
          assert.equal(fs.readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8'), before, dctx);
        }
      }
    }
  },
);

test('a run refused (drift) with a closed stream still exits 1', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 3, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const v = JSON.parse(fs.readFileSync(file, 'utf8'));
  v.seed = 99;
  fs.writeFileSync(file, JSON.stringify(v));
  for (const m of MODES) {
    const r = await withClosed(['run', file], dir, m.stream, m.when);
    assert.equal(r.code, 1, context(['run'], m, r));
    assert.equal(r.signal, null);
  }
});

test('merge with a closed stdout or stderr merges all of it (exit 0); its dry run writes nothing', { timeout: 300_000 }, async () => {
  for (const m of MODES) {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 16, concurrency: 4, sleep: '0' });
    for (const k of [1, 2]) assert.equal(cliSync(['run', file, '--shard', `${k}/2`], dir).code, 0);
    const runDir = runDirOf(dir);
    const dry = await withClosed(['merge', runDir, '--dry-run'], dir, m.stream, m.when);
    assert.equal(dry.code, 0, context(['merge', '--dry-run'], m, dry));
    assertNoCrash(dry, m, context(['merge', '--dry-run'], m, dry));
    assert.equal(fs.existsSync(path.join(runDir, 'journal.jsonl')), false, 'a dry run writes nothing');

    const r = await withClosed(['merge', runDir], dir, m.stream, m.when);
    const ctx = context(['merge'], m, r);
    assert.equal(r.code, 0, ctx);
    assertNoCrash(r, m, ctx);
    const recs = journalRecords(runDir);
    assert.equal(new Set(recs.filter((x) => x.t === 'end' || x.t === 'adopt').map((x) => x.u)).size, 16, ctx);
    assert.ok(!fs.readdirSync(runDir).some((n) => /^journal\.\d+of\d+\.jsonl$/.test(n)), `the shard journals were archived\n${ctx}`);
    const st = JSON.parse(cliSync(['status', runDir, '--json'], dir).stdout);
    assert.deepEqual([st.status, st.done], ['completed', 16], ctx);
  }
});

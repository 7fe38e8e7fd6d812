import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { spawn } from 'node:child_process';
import { cliStart, journalRecords, runDirOf } from '../helpers/cli';
import { waitUntil } from '../helpers/wait';
import { FULL, libExperiment, report } from './torture';

/** Counts the lines of a growing file, reading only what was appended since the last call. */
function lineCounter(file: string): () => number {
  let offset = 0;
  let lines = 0;
  let partial = '';
  return () => {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return lines;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        fs.readSync(fd, buf, 0, buf.length, offset);
        offset = size;
        const text = partial + buf.toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop()!;
        lines += parts.length;
      }
    } finally {
      fs.closeSync(fd);
    }
    return lines;
  };
}

// Units of a few ms once kept the runner's event loop from reaching its poll phase: 1,320
// units done against 131 journaled, state.json at 0, Ctrl+C ignored for seconds; with 1M
// items only kill -9 stopped it.
test(
  'units of a few ms: the journal keeps up, state.json is written while running, and Ctrl+C stops dispatching at once',
  { timeout: FULL ? 900_000 : 180_000 },
  async () => {
    const n = FULL ? 20_000 : 2_000;
    const interruptAt = FULL ? 10_000 : 300;
    const concurrency = 4;
    const dir = tmpDir();
    const doneLog = path.join(dir, 'done.log');
    writeFiles(dir, {
      'items.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `f${i}` })).join('\n') + '\n',
      'e.experiment.json': JSON.stringify({
        name: 'fast',
        items: { file: 'items.jsonl' },
        concurrency,
        // The result, then one line of evidence outside the run folder (O_APPEND: lines never interleave).
        run: {
          command: ['sh', '-c', 'printf \'{"passed":true}\' > "$RESUMABLE_RESULT_FILE" && echo "$RESUMABLE_UNIT_ID" >> "$DONE_LOG"'],
          env: { DONE_LOG: doneLog },
        },
      }),
    });
    const runner = cliStart(['run', path.join(dir, 'e.experiment.json')], dir);
    let exited: string | undefined;
    void runner.done.then((r) => (exited = `the runner exited (${r.code}) first: ${r.stderr.slice(-400)}`));
    const done = lineCounter(doneLog);
    const runDir = await waitUntil(
      'the run folder',
      () => fs.existsSync(path.join(dir, '.resumable')) && runDirOf(dir),
      60_000,
      () => exited,
    );
    const ends = lineCounter(path.join(runDir, 'journal.jsonl'));
    const state = () =>
      (JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')) as { counts: { passed: number } }).counts.passed;

    // Journal lag while it runs: finished units (evidence lines) whose end the journal lacks.
    // The journal is read first, so units finishing between the two reads count as lag too.
    let maxLag = 0;
    let samples = 0;
    let snapshotPassed = 0;
    await waitUntil(
      `state.json to count ${interruptAt} passed units while the run goes on`,
      () => {
        const journalLines = ends(); // header + runner_start + start/end lines: ends ≤ lines / 2
        const finished = done();
        samples++;
        maxLag = Math.max(maxLag, finished - Math.floor(journalLines / 2));
        snapshotPassed = state();
        return snapshotPassed >= interruptAt;
      },
      FULL ? 600_000 : 120_000,
      () => exited,
    );
    const doneAtInterrupt = done();
    runner.child.kill('SIGINT');
    const r = await runner.done;
    const doneAfter = done();

    assert.equal(r.code, 130, r.stderr);
    const recs = journalRecords(runDir);
    const endIds = new Set(recs.filter((x) => x.t === 'end').map((x) => x.u as string));
    const finishedIds = fs.readFileSync(doneLog, 'utf8').trim().split('\n');
    const starts = new Map<string, number>();
    for (const x of recs) if (x.t === 'start') starts.set(x.u as string, (starts.get(x.u as string) ?? 0) + 1);
    const figures = {
      units: n,
      concurrency,
      samples,
      maxJournalLagUnits: maxLag,
      snapshotPassedAtInterrupt: snapshotPassed,
      doneAtInterrupt,
      finishedAfterInterrupt: doneAfter - doneAtInterrupt,
      finishedNotJournaled: finishedIds.filter((id) => !endIds.has(id)).length,
      startedTwice: [...starts.values()].filter((c) => c > 1).length,
    };
    report('fastUnits', figures);
    // Starts and ends are 2 lines a unit; with 4 in flight and group commit a few batches is the bound.
    assert.ok(maxLag <= 50, `journal lag reached ${maxLag} units (${JSON.stringify(figures)})`);
    // In flight at the signal (≤ 4) finish; at most one more round may have been dispatched before the handler ran.
    assert.ok(figures.finishedAfterInterrupt <= 2 * concurrency, `${figures.finishedAfterInterrupt} units finished after Ctrl+C`);
    assert.equal(figures.finishedNotJournaled, 0);
    assert.equal(figures.startedTwice, 0);
  },
);

test(
  'in-process units that return at once: state.json is written while the run goes on, and Ctrl+C stops it',
  { timeout: FULL ? 900_000 : 180_000 },
  async () => {
    const n = FULL ? 1_000_000 : 100_000;
    const dir = tmpDir();
    const file = libExperiment(dir, n);
    const child = spawn(process.execPath, [path.join(__dirname, 'instantRunner.cjs'), file, '4'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let exited: string | undefined;
    void done.then((code) => (exited = `the runner exited (${code}) before its snapshot counted anything: ${stderr.slice(-300)}`));
    const runDir = await waitUntil(
      'the run folder',
      () => fs.existsSync(path.join(dir, '.resumable')) && runDirOf(dir),
      120_000,
      () => exited,
    );
    const passed = () =>
      (JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')) as { counts: { passed: number } }).counts.passed;
    const seen = await waitUntil(
      'state.json to count passed units while the run goes on',
      () => passed() > 0 && passed(),
      120_000,
      () => exited,
    );
    child.kill('SIGINT');
    const code = await done;
    const recs = journalRecords(runDir);
    const ends = recs.filter((r) => r.t === 'end').length;
    report('instantUnits', { units: n, snapshotPassedWhileRunning: seen, journaledAtExit: ends, exitCode: code });
    assert.equal(code, 130, stderr);
    assert.ok(ends < n, `Ctrl+C stopped the run before its end (${ends} of ${n} journaled)`);
    assert.equal(recs.at(-1)?.t, 'runner_end');
  },
);

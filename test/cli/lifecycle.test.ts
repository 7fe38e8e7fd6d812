import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { CLI, cliStart, cliSync, journalRecords, makeExperiment, unitRuns, type CliResult } from '../helpers/cli';
import { ptyStart } from '../helpers/pty';
import { stormOnce } from '../helpers/storm';
import { firstStart, runDirSoFar, unitProcesses, waitFor } from '../helpers/waitFor';

// The runner's life at its edges: the terminal closing under it, nohup, closed pipes, and
// signals arriving faster than it can handle them. Real processes, a real pty, real signals.

/** The run left nothing behind: a last runner_end line with this status, no lock, no unit process. */
function assertEndedClean(runDir: string, status: string, context: string): void {
  const recs = journalRecords(runDir);
  const last = recs.at(-1)!;
  assert.deepEqual([last.t, last.status], ['runner_end', status], `last journal line ${JSON.stringify(last)}\n${context}`);
  assert.equal(fs.existsSync(path.join(runDir, 'lock')), false, `the lock was left behind\n${context}`);
  assert.deepEqual(unitProcesses(runDir), [], `unit processes of the run are still alive\n${context}`);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')).status, status);
}

test(
  'closing the terminal is one Ctrl+C: units in flight finish, the journal ends interrupted, exit 130, nothing left behind',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 6, concurrency: 2, sleep: '1', extra: { graceSeconds: 60 } });
    const p = ptyStart([process.execPath, CLI, 'run', file], dir);
    const runDir = await firstStart(dir);
    await waitFor('the progress output on the terminal', () => p.output().includes('units already done'));
    p.hangup();
    const r = await p.done;
    const context = `exit ${r.code}, signal ${r.signal}; terminal:\n${r.output}`;
    assert.equal(r.code, 130, context);
    assertEndedClean(runDir, 'interrupted', context);
    // First-Ctrl+C behaviour, not a kill: every unit that started finished on its own.
    const recs = journalRecords(runDir);
    const started = recs.filter((x) => x.t === 'start').map((x) => x.u);
    const ended = recs.filter((x) => x.t === 'end');
    assert.deepEqual(ended.map((x) => x.u).sort(), [...started].sort(), context);
    assert.deepEqual(
      ended.filter((x) => x.s !== 'passed'),
      [],
      context,
    );

    const again = cliSync(['run', file], dir);
    assert.equal(again.code, 0, again.stderr);
    for (const [folder, runs] of unitRuns(runDir)) assert.deepEqual(runs, ['start', 'done'], `${folder} ran more than once`);
  },
);

test('SIGHUP to a runner on a live terminal interrupts it like Ctrl+C (exit 130)', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 6, concurrency: 2, sleep: '1', extra: { graceSeconds: 60 } });
  const p = ptyStart([process.execPath, CLI, 'run', file], dir);
  const runDir = await firstStart(dir);
  p.signal('SIGHUP');
  const r = await p.done;
  const context = `exit ${r.code}, signal ${r.signal}; terminal:\n${r.output}`;
  assert.equal(r.code, 130, context);
  assert.match(r.output, /Interrupted/, context);
  assertEndedClean(runDir, 'interrupted', context);
});

test(
  'under nohup, closing the terminal does not stop the run: it completes (exit 0) and notes the SIGHUP once',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 6, concurrency: 2, sleep: '0.5' });
    const p = ptyStart(['nohup', process.execPath, CLI, 'run', file], dir);
    const runDir = await firstStart(dir);
    p.hangup();
    const r = await p.done;
    const log = fs.readFileSync(path.join(dir, 'nohup.out'), 'utf8');
    const context = `exit ${r.code}, signal ${r.signal}; nohup.out:\n${log}`;
    assert.equal(r.code, 0, context);
    assertEndedClean(runDir, 'completed', context);
    assert.equal(journalRecords(runDir).filter((x) => x.t === 'end' && x.s === 'passed').length, 6);
    // The kernel's SIGHUP and the driver's: noted once.
    assert.equal((log.match(/Ignoring SIGHUP/g) ?? []).length, 1, context);
  },
);

test('a runner started with every stream redirected ignores SIGHUP, says so once, and completes', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 6, concurrency: 2, sleep: '0.5' });
  const { child, done } = cliStart(['run', file], dir);
  const runDir = await firstStart(dir);
  child.kill('SIGHUP');
  child.kill('SIGHUP');
  const r = await done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stderr.match(/Ignoring SIGHUP/g) ?? []).length, 1, r.stderr);
  assertEndedClean(runDir, 'completed', r.stderr);
});

/** Runs the CLI with its stdout (and stderr) read by nobody: the pipe's read end is closed at once. */
function withClosedOutput(args: string[], cwd: string, closeStderr: boolean): Promise<CliResult> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.destroy();
  let stderr = '';
  if (closeStderr) child.stderr.destroy();
  else child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout: '', stderr })));
}

test(
  'a closed stdout (`resumable status | head -1`) is no crash: the output is dropped, the exit code stays',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 20, concurrency: 8, sleep: '0' });
    assert.equal(cliSync(['run', file], dir).code, 0);
    for (const args of [['status'], ['status', file, '--json'], ['list'], ['--help'], ['schema']]) {
      const r = await withClosedOutput(args, dir, false);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /EPIPE|Error|at /, args.join(' '));
    }
  },
);

test('a run whose stdout and stderr are closed goes on and completes, exit 0', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 30, concurrency: 4, sleep: '0.05', extra: { retries: { maxAttempts: 1 } } });
  const r = await withClosedOutput(['run', file, '--json'], dir, true);
  assert.equal(r.code, 0);
  const runDir = runDirSoFar(dir)!;
  assertEndedClean(runDir, 'completed', '');
  assert.equal(journalRecords(runDir).filter((x) => x.t === 'end' && x.s === 'passed').length, 30);
});

test(
  'a storm of SIGTERMs while units run ends interrupted with exit 130, as the summary and the journal say',
  { timeout: 180_000 },
  async () => {
    for (let i = 0; i < 3; i++) {
      const r = await stormOnce('first start');
      assert.equal(r.code, 130, r.stderr);
    }
  },
);

test(
  'signals that land after the run has ended change nothing: the exit code stays the one the journal gives',
  { timeout: 180_000 },
  async () => {
    for (let i = 0; i < 3; i++) await stormOnce('runner_end');
  },
);

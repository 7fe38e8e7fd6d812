import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import type { ChildProcess } from 'node:child_process';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';
import { journalSoFar, waitUntil } from '../helpers/wait';

/** Waits until the run's journal has `n` records of type `t`; gives up if the CLI exits first. */
function journalHas(dir: string, child: ChildProcess, t: string, n: number): Promise<unknown> {
  return waitUntil(
    `${n} "${t}" line(s) in the journal`,
    () => journalSoFar(path.join(runDirOf(dir), 'journal.jsonl')).filter((r) => r.t === t).length >= n,
    60_000,
    () => (child.exitCode !== null ? `the CLI exited (${child.exitCode})` : undefined),
  );
}

function resultsOnDisk(runDir: string): number {
  const units = path.join(runDir, 'units');
  return fs.readdirSync(units).filter((f) => fs.existsSync(path.join(units, f, 'result.json'))).length;
}

test('Ctrl+C while workers are busy keeps every finished unit (the 590-runs failure)', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 300, concurrency: 16, sleep: '0.3' });
  const { child, done } = cliStart(['run', file], dir);
  // More than one slot's worth done: the interrupt comes with workers busy and work behind them.
  await journalHas(dir, child, 'end', 17);
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  const runDir = runDirOf(dir);
  const state = JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8'));
  const onDisk = resultsOnDisk(runDir);
  assert.ok(onDisk > 16, `expected work done before the interrupt, got ${onDisk}`);
  assert.equal(state.status, 'interrupted');
  assert.equal(
    state.counts.passed,
    onDisk,
    'state.json counts every result on disk, including units that finished during the grace period',
  );
  const journalPassed = journalRecords(runDir).filter((x) => x.t === 'end' && x.s === 'passed').length;
  assert.equal(journalPassed, onDisk);
  assert.equal(state.counts.running, 0);

  const again = cliSync(['run', file], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`${onDisk} of 300 units already done`));
  for (const [folder, runs] of unitRuns(runDir)) assert.deepEqual(runs, ['start', 'done'], `${folder} ran more than once`);
});

test(
  'units still running after the grace period are killed (whole process group) and run again on resume',
  { timeout: 60_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 6, concurrency: 3, sleep: '30', extra: { graceSeconds: 1 } });
    const { child, done } = cliStart(['run', file], dir);
    await journalHas(dir, child, 'start', 3);
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    // Units of 30 s with a grace of 1 s: ended by the runner (interrupted), not by finishing.
    const runDir = runDirOf(dir);
    const ends = journalRecords(runDir).filter((x) => x.t === 'end');
    assert.equal(ends.length, 3);
    assert.ok(ends.every((e) => e.s === 'interrupted'));
    // The sleeps (grandchildren of the runner) died with their group.
    const ps = cliSync(['status', file, '--json'], dir);
    assert.equal(JSON.parse(ps.stdout).counts.pending, 6);
  },
);

test('a second Ctrl+C kills at once; nothing finished is lost', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  // Units of 3 s and a grace of 60 s: those in flight at the second Ctrl+C can only end killed.
  const file = makeExperiment(dir, { n: 200, concurrency: 8, sleep: '3', extra: { graceSeconds: 60 } });
  const { child, done } = cliStart(['run', file], dir);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  await journalHas(dir, child, 'end', 8);
  child.kill('SIGINT');
  // Two signals sent together may arrive as one: the second goes once the first was taken.
  await waitUntil(
    'the CLI to take the first interrupt',
    () => /■ Stopping: waiting for/.test(stderr),
    60_000,
    () => (child.exitCode !== null ? `the CLI exited (${child.exitCode})` : undefined),
  );
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  const runDir = runDirOf(dir);
  const killed = journalRecords(runDir).filter((x) => x.t === 'end' && x.s === 'interrupted');
  assert.ok(killed.length > 0, 'the units in flight were killed at the second Ctrl+C, not waited for');
  const onDisk = resultsOnDisk(runDir);
  const again = cliSync(['run', file], dir);
  assert.equal(again.code, 0, again.stderr);
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.equal(status.counts.passed, 200);
  // Results written before the kill were counted (journaled or adopted), never re-run.
  for (const [folder, runs] of unitRuns(runDir)) {
    const firstDone = runs.indexOf('done');
    assert.ok(firstDone === -1 || runs.lastIndexOf('start') < firstDone, `${folder}: ${runs.join(',')}`);
    const files = fs.readdirSync(path.join(runDir, 'units', folder));
    assert.ok(files.includes('result.json'), folder);
    assert.deepEqual(
      files.filter((f) => f.startsWith('result.json.before')),
      [],
      `${folder}: a finished result was set aside for a re-run`,
    );
  }
  assert.ok(onDisk > 0);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';
import { takeoverTrial } from '../helpers/takeover';
import { journalSoFar, waitUntil } from '../helpers/wait';
import * as fs from 'node:fs';
import * as path from 'node:path';

test(
  'a runner on another host, frozen past the stale time and taken over, starts nothing when it wakes and stops saying why (invariant 3)',
  { timeout: 180_000 },
  async () => {
    const t = await takeoverTrial(tmpDir(), { units: 60, concurrency: 4, sleep: '0.2' });
    assert.equal(t.oldRunner.code, 1, `the old runner must stop: ${t.oldRunner.stderr}`);
    assert.match(t.oldRunner.stderr, /Lost the run lock to pid \d+ on /);
    assert.equal(t.startedByOldAfterWake, 0, 'the old runner started units after it woke');
    assert.equal(t.newRunner.code, 0, t.newRunner.stderr);
    assert.match(t.newRunner.stderr, /Took over the run lock: no heartbeat for 1\d\d s from resumable-test-node-a/);
    assert.equal(t.startedTwice, 0, 'a unit ran under both runners');
    assert.equal(t.passed, t.units);
  },
);

test('a live runner on this host is never taken over, even by a runner whose clock is 3 minutes ahead', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 40, concurrency: 4, sleep: '0.1' });
  const a = cliStart(['run', file], dir);
  let exited: string | undefined;
  void a.done.then((r) => (exited = `the holder exited (${r.code}) first`));
  const runDir = await waitUntil(
    'the run folder',
    () => fs.existsSync(path.join(dir, '.resumable')) && runDirOf(dir),
    60_000,
    () => exited,
  );
  await waitUntil(
    'the holder to finish a unit',
    () => journalSoFar(path.join(runDir, 'journal.jsonl')).some((r) => r.t === 'end'),
    60_000,
    () => exited,
  );
  // What a clock 3 minutes ahead sees: a heartbeat 3 minutes old.
  const old = new Date(Date.now() - 180_000);
  fs.utimesSync(path.join(runDir, 'lock'), old, old);
  const b = cliSync(['run', file], dir);
  assert.equal(b.code, 1, b.stderr);
  assert.match(b.stderr, new RegExp(`already being run by pid ${a.child.pid} on`));
  assert.equal((await a.done).code, 0);
  for (const [folder, runs] of unitRuns(runDir)) assert.deepEqual(runs, ['start', 'done'], folder);
});

test('a runner stopped with Ctrl+Z keeps its run, and the refusal says it is stopped and how to go on', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 30, concurrency: 2, sleep: '0.1' });
  const a = cliStart(['run', file], dir);
  const runDir = await waitUntil('the run folder', () => fs.existsSync(path.join(dir, '.resumable')) && runDirOf(dir));
  await waitUntil('the holder to finish a unit', () => journalSoFar(path.join(runDir, 'journal.jsonl')).some((r) => r.t === 'end'));
  a.child.kill('SIGSTOP');
  const old = new Date(Date.now() - 180_000);
  fs.utimesSync(path.join(runDir, 'lock'), old, old);
  const b = cliSync(['run', file], dir);
  a.child.kill('SIGCONT');
  assert.equal(b.code, 1, b.stderr);
  assert.match(b.stderr, /that process is stopped, e\.g\. by Ctrl\+Z/);
  assert.match(b.stderr, new RegExp(`kill -CONT ${a.child.pid}`));
  assert.equal((await a.done).code, 0);
});

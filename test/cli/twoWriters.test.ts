import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, sleep } from '../helpers/cli';

test('a runner paused past the stale time and taken over writes not one journal line after it wakes (invariant 3)', { timeout: 90_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 120, concurrency: 4, sleep: '0.1', extra: { graceSeconds: 3 } });
  const a = cliStart(['run', file], dir);
  await sleep(1200);
  a.child.kill('SIGSTOP');
  const runDir = runDirOf(dir);
  // Nobody heartbeats a stopped runner: make its lock look 3 minutes old instead of waiting.
  const old = new Date(Date.now() - 180_000);
  fs.utimesSync(path.join(runDir, 'lock'), old, old);

  const b = cliSync(['run', file], dir);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /Took over the run lock: no heartbeat for/);
  const journalAfterB = fs.readFileSync(path.join(runDir, 'journal.jsonl'));
  const stateAfterB = JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8'));
  assert.equal(stateAfterB.counts.passed, 120);

  a.child.kill('SIGCONT');
  const ra = await a.done;
  assert.equal(ra.code, 1, `the old runner must stop: ${ra.stderr}`);
  assert.match(ra.stderr, /Lost the run lock|lock .* was removed/);
  await sleep(300);
  assert.deepEqual(fs.readFileSync(path.join(runDir, 'journal.jsonl')), journalAfterB, 'not a byte appended by the old runner');
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.equal(status.status, 'completed');
  assert.equal(status.counts.passed, 120);
  assert.equal(journalRecords(runDir).filter((r) => r.t === 'runner_end').length >= 1, true);
});

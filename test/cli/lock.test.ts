import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';
import { journalSoFar, waitUntil } from '../helpers/wait';

test('a second runner on the same run is refused, naming the holder (invariant 3)', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 30, concurrency: 2, sleep: '0.2' });
  const first = cliStart(['run', file], dir);
  // It holds the lock once it has started a unit.
  await waitUntil(
    'the first runner to start a unit',
    () => journalSoFar(path.join(runDirOf(dir), 'journal.jsonl')).some((r) => r.t === 'start'),
    60_000,
    () => (first.child.exitCode !== null ? `it exited (${first.child.exitCode})` : undefined),
  );
  const second = cliSync(['run', file], dir);
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`already being run by pid ${first.child.pid} on ${os.hostname()}`));
  assert.doesNotMatch(second.stderr, /\n\s+at /);
  const r = await first.done;
  assert.equal(r.code, 0, r.stderr);
  for (const [folder, runs] of unitRuns(runDirOf(dir))) assert.deepEqual(runs, ['start', 'done'], folder);
});

function deadPid(): number {
  const r = spawnSync('sh', ['-c', 'echo $$']);
  return Number(String(r.stdout).trim());
}

test('a lock left by a dead runner on this host is taken over, and said so', async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 5, concurrency: 2, sleep: '0' });
  assert.equal(cliSync(['run', file, '--concurrency', '1'], dir).code, 0);
  const runDir = runDirOf(dir);
  fs.writeFileSync(
    path.join(runDir, 'lock'),
    JSON.stringify({ schemaVersion: 1, pid: deadPid(), host: os.hostname(), startedAt: Date.now(), token: 'old' }),
  );
  const r = cliSync(['run', file, '--retry-failed'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Took over the run lock: its runner \(pid \d+\) is gone/);
  assert.equal(fs.existsSync(path.join(runDir, 'lock')), false, 'released at the end');
});

test('a lock whose heartbeat is older than 2 minutes is taken over (runner on another host)', async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 5, concurrency: 2, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  const lock = path.join(runDir, 'lock');
  fs.writeFileSync(
    lock,
    JSON.stringify({ schemaVersion: 1, pid: 1, host: 'some-other-node', startedAt: Date.now() - 600_000, token: 'old' }),
  );
  const fresh = cliSync(['run', file], dir);
  assert.equal(fresh.code, 1, 'a fresh heartbeat from another host is respected');
  assert.match(fresh.stderr, /pid 1 on some-other-node/);
  const old = new Date(Date.now() - 180_000);
  fs.utimesSync(lock, old, old);
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /Took over the run lock: no heartbeat for 1\d\d s/);
  assert.match(r.stderr, /Fenced the journal/);
});

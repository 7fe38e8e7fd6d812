import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';
import { journalSoFar, waitUntil } from '../helpers/wait';

/** pids of live processes that carry this run's folder in their environment. */
function unitProcesses(runDir: string): number[] {
  const needle = `RESUMABLE_RUN_DIR=${runDir}\u0000`;
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z') && fs.readFileSync(`/proc/${p}/environ`, 'latin1').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Waits until every unit has written `starts` start lines into its runs.log (its shell is running). */
function unitsStarted(dir: string, n: number, starts: number, child: ChildProcess): Promise<unknown> {
  return waitUntil(
    `${n} units to have started ${starts} time(s)`,
    () => {
      const runs = [...unitRuns(runDirOf(dir)).values()];
      return runs.length === n && runs.every((r) => r.filter((x) => x === 'start').length >= starts);
    },
    60_000,
    () => (child.exitCode !== null ? `the runner exited (${child.exitCode})` : undefined),
  );
}

test(
  'units left running by a SIGKILLed runner are awaited, then adopted: never two processes of one unit',
  { timeout: 60_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 4, concurrency: 4, sleep: '2', extra: { graceSeconds: 10 } });
    const { child, done } = cliStart(['run', file], dir);
    await unitsStarted(dir, 4, 1, child);
    child.kill('SIGKILL');
    await done;
    const runDir = runDirOf(dir);
    assert.equal(unitProcesses(runDir).length > 0, true, 'the units outlived their runner');
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Found \d+ unit process group\(s\) left by the previous runner: \d+ finished, 0 killed/);
    assert.match(r.stderr, /Adopted 4 result/);
    for (const [folder, runs] of unitRuns(runDir)) assert.deepEqual(runs, ['start', 'done'], folder);
  },
);

test(
  'orphans still running after the grace period are killed (whole group) before their units run again',
  { timeout: 60_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 3, concurrency: 3, sleep: '30', extra: { graceSeconds: 1 } });
    const { child, done } = cliStart(['run', file], dir);
    await unitsStarted(dir, 3, 1, child);
    child.kill('SIGKILL');
    await done;
    const runDir = runDirOf(dir);
    const orphans = unitProcesses(runDir);
    assert.ok(orphans.length >= 3, `expected the sh and sleep processes, got ${orphans.length}`);
    const resumed = cliStart(['run', file], dir);
    // The new attempts have started: by then the orphans must be gone (killed before their units ran again).
    await waitUntil(
      'the resumed runner to start every unit again',
      () => journalSoFar(path.join(runDir, 'journal.jsonl')).filter((r) => r.t === 'start').length >= 6,
      60_000,
      () => (resumed.child.exitCode !== null ? `it exited (${resumed.child.exitCode})` : undefined),
    );
    await unitsStarted(dir, 3, 2, resumed.child);
    const alive = (pid: number) => fs.existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    for (const pid of orphans) assert.equal(alive(pid), false, `orphan ${pid} still alive`);
    resumed.child.kill('SIGKILL');
    await resumed.done;
    for (const [folder, runs] of unitRuns(runDir))
      assert.deepEqual(runs, ['start', 'start'], `${folder}: one killed orphan, one new attempt`);
    for (const pid of unitProcesses(runDir)) process.kill(pid, 'SIGKILL');
  },
);

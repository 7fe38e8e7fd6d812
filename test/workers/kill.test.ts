import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, runDirOf, sleep } from '../helpers/cli';
import { journalSoFar, runDirSoFar, unitProcesses, waitFor } from '../helpers/waitFor';
import { PY_PRELUDE, workerExperiment } from './helpers';

/** Waits until the run folder exists and its journal shows `n` unit starts; returns the run folder. */
async function startsSeen(dir: string, n: number): Promise<string> {
  const runDir = await waitFor('the run folder', () => runDirSoFar(dir));
  await waitFor(`${n} unit starts`, () => journalSoFar(runDir).filter((r) => r.t === 'start').length >= n);
  return runDir;
}

test('a SIGKILLed runner leaves no worker behind, even one busy in a unit (/proc checked)', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = workerExperiment(dir, {
    n: 4,
    python: PY_PRELUDE + `\ndef handle(u):\n    ran(u)\n    time.sleep(60)\n    return True\nserve(handle)\n`,
  });
  const { child, done } = cliStart(['run', file], dir);
  const runDir = await startsSeen(dir, 2);
  // Both workers are in a unit (they wrote runs.log) when the runner dies.
  await waitFor(
    'both units running',
    () => fs.existsSync(path.join(dir, 'runs.log')) && fs.readFileSync(path.join(dir, 'runs.log'), 'utf8').split('\n').length > 2,
  );
  const before = unitProcesses(runDir);
  assert.ok(before.length >= 2, `workers alive before the kill: ${before.join()}`);
  child.kill('SIGKILL');
  await done;
  await waitFor('no process of the run left', () => unitProcesses(runDir).length === 0, 20_000);
});

test(
  'Ctrl+C with units in flight: no new unit is sent, those in flight finish within the grace and count',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const file = workerExperiment(dir, {
      n: 20,
      python: PY_PRELUDE + `\ndef handle(u):\n    ran(u)\n    time.sleep(0.8)\n    return True\nserve(handle)\n`,
    });
    const { child, done } = cliStart(['run', file], dir);
    const runDir = await startsSeen(dir, 2);
    // A live run's workers, as status shows them (from state.json, written every second).
    await waitFor('state.json with workers', () => {
      try {
        return JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')).workers?.live === 2;
      } catch {
        return false;
      }
    });
    const shown = cliSync(['status', file], dir);
    assert.match(shown.stdout, /workers\s+2 workers \(started 2\)/, shown.stdout);
    const startedBefore = journalSoFar(runDir).filter((r) => r.t === 'start').length;
    child.kill('SIGINT');
    const r = await done;
    assert.equal(r.code, 130, r.stderr);
    const recs = journalRecords(runDir);
    const ended = recs.filter((x) => x.t === 'end');
    // Those in flight at the Ctrl+C finished (passed), not killed; at most one more could have been sent before the signal landed.
    assert.ok(ended.length >= startedBefore, `${ended.length} ends for ${startedBefore} starts`);
    assert.deepEqual(
      ended.filter((x) => x.s !== 'passed').map((x) => x.s),
      [],
    );
    assert.ok(recs.filter((x) => x.t === 'start').length <= startedBefore + 2, 'no new units after the Ctrl+C');
    await waitFor('the workers gone', () => unitProcesses(runDir).length === 0, 20_000);
    const again = cliSync(['run', file], dir);
    assert.equal(again.code, 0, again.stderr);
    const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.equal(status.counts.passed, 20);
  },
);

test(
  'SIGKILL at random instants over a worker run, resume each time: nothing lost, nothing counted twice',
  { timeout: 300_000 },
  async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100000);
    let s = seed;
    const random = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
    const dir = tmpDir();
    const file = workerExperiment(dir, {
      n: 300,
      python: PY_PRELUDE + `\ndef handle(u):\n    ran(u)\n    time.sleep(0.02)\n    return {"passed": True, "unit": u.id}\nserve(handle)\n`,
      extra: { concurrency: 4 },
    });
    let kills = 0;
    for (let round = 0; round < 40 && kills < 10; round++) {
      const { child, done } = cliStart(['run', file], dir);
      const runDir = await waitFor('the run folder', () => runDirSoFar(dir));
      const startsAtLaunch = journalSoFar(runDir).filter((r) => r.t === 'start').length;
      // Killed once this runner dispatched something, at a random moment after.
      await Promise.race([waitFor('a new start', () => journalSoFar(runDir).filter((r) => r.t === 'start').length > startsAtLaunch), done]);
      await sleep(random() * 600);
      child.kill('SIGKILL');
      const r = await done;
      if (r.code === 0) break;
      assert.equal(r.signal, 'SIGKILL', `seed ${seed}: ${r.stderr}`);
      kills++;
    }
    const final = cliSync(['run', file], dir);
    assert.equal(final.code, 0, `seed ${seed}: ${final.stderr}`);
    assert.ok(kills >= 5, `seed ${seed}: only ${kills} kills landed`);
    const runDir = runDirOf(dir);
    const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.equal(status.counts.passed, 300, `seed ${seed}`);
    const finals = new Map<string, number>();
    for (const r of journalRecords(runDir))
      if ((r.t === 'end' && r.s === 'passed') || r.t === 'adopt') finals.set(r.u as string, (finals.get(r.u as string) ?? 0) + 1);
    assert.equal(finals.size, 300, `seed ${seed}`);
    assert.deepEqual(
      [...finals].filter(([, n]) => n !== 1),
      [],
      `seed ${seed}: units counted more than once`,
    );
    for (const folder of fs.readdirSync(path.join(runDir, 'units'))) {
      const files = fs.readdirSync(path.join(runDir, 'units', folder));
      assert.ok(files.includes('result.json'), `seed ${seed}: ${folder} has no result`);
      assert.deepEqual(
        files.filter((f) => f.startsWith('result.json.before')),
        [],
        `seed ${seed}: ${folder} had a finished result set aside`,
      );
    }
    await waitFor('no worker left', () => unitProcesses(runDir).length === 0, 20_000);
    console.log(`worker kill loop: seed ${seed}, ${kills} kills, 300 units, all counted once`);
  },
);

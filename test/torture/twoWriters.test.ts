import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, sleep } from '../helpers/cli';
import { FULL, report, startLibRunner } from './torture';
import { journalSoFar, waitUntil } from '../helpers/wait';
import { takeoverTrial } from '../helpers/takeover';

test(
  'two writers: a second CLI, and a library process, on a run the CLI holds are refused by name; the holder finishes alone',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 40, concurrency: 4, sleep: '0.2' });
    const holder = cliStart(['run', file], dir);
    // Only once the holder has started units does it hold the lock: wait for that, not a time.
    const runDir = await waitUntil("the holder's run folder", () => fs.existsSync(path.join(dir, '.resumable')) && runDirOf(dir));
    await waitUntil('the holder to start a unit', () => journalSoFar(path.join(runDir, 'journal.jsonl')).some((r) => r.t === 'start'));
    const second = cliSync(['run', file], dir);
    assert.equal(second.code, 1);
    assert.match(second.stderr, new RegExp(`pid ${holder.child.pid}\\b`), second.stderr);
    const lib = await startLibRunner(file, 4).done;
    assert.equal(lib.code, 1, lib.stderr);
    assert.match(lib.stderr, new RegExp(`pid ${holder.child.pid}\\b`), lib.stderr);
    assert.equal((await holder.done).code, 0);
    const recs = journalRecords(runDirOf(dir));
    assert.equal(recs.filter((r) => r.t === 'runner_start').length, 1, 'only the holder wrote');
    report('twoWritersCliLib', { refusedCli: 1, refusedLibrary: 1, runnerStarts: 1 });
  },
);

test('two writers: a library process holds the run; the CLI is refused naming it', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 30000 });
  const lib = startLibRunner(file, 1);
  // Only once the library process holds the lock (else the CLI would take the run itself).
  const holds = () =>
    fs.existsSync(path.join(dir, '.resumable')) &&
    fs.readdirSync(path.join(dir, '.resumable')).some((d) => fs.existsSync(path.join(dir, '.resumable', d, 'lock')));
  for (let i = 0; i < 100 && !holds(); i++) await sleep(50);
  assert.ok(holds(), 'the library process took the lock');
  const refused = cliSync(['run', file], dir);
  assert.equal(refused.code, 1, refused.stderr);
  assert.match(refused.stderr, /pid \d+ on/);
  lib.killAfter(0);
  await lib.done;
  assert.ok(path.isAbsolute(runDirOf(dir)));
});

// The break: on ext4 the new lock reused the old one's inode, so a holder frozen past the
// stale time and taken over kept dispatching when it woke (36–43 of 60 units ran twice).
test(
  'takeover: a frozen runner on another host, taken over and woken while the new one dispatches, starts nothing',
  { timeout: FULL ? 900_000 : 180_000 },
  async () => {
    const trials = FULL ? 8 : 1;
    const f = { trials, units: 0, startedByOldAfterWake: 0, startedTwice: 0, oldStoppedWithLostLock: 0, newCompleted: 0 };
    for (let i = 0; i < trials; i++) {
      const t = await takeoverTrial(tmpDir(), { units: FULL ? 120 : 40, concurrency: 4, sleep: '0.1' });
      f.units += t.units;
      f.startedByOldAfterWake += t.startedByOldAfterWake;
      f.startedTwice += t.startedTwice;
      if (t.oldRunner.code === 1 && /Lost the run lock/.test(t.oldRunner.stderr)) f.oldStoppedWithLostLock++;
      if (t.newRunner.code === 0 && t.passed === t.units) f.newCompleted++;
    }
    report('takeover', f);
    assert.equal(f.startedByOldAfterWake, 0);
    assert.equal(f.startedTwice, 0);
    assert.equal(f.oldStoppedWithLostLock, trials);
    assert.equal(f.newCompleted, trials);
  },
);

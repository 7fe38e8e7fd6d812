import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { runDirSoFar } from '../helpers/waitFor';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, sleep, unitRuns } from '../helpers/cli';

/** mulberry32: reproducible "random" kill instants; the seed is in every failure message. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every state file must parse after any kill; the journal may only have a torn last line. */
function assertStateFilesParse(runDir: string, ctx: string): void {
  // A kill between the run folder's mkdir and its first files leaves them missing: nothing torn to check.
  if (!fs.existsSync(path.join(runDir, 'journal.jsonl'))) return;
  JSON.parse(fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8'));
  if (fs.existsSync(path.join(runDir, 'state.json'))) {
    const text = fs.readFileSync(path.join(runDir, 'state.json'), 'utf8');
    assert.doesNotThrow(() => JSON.parse(text), `${ctx}: state.json does not parse: ${text.slice(0, 200)}`);
  }
  const lines = fs.readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8').split('\n');
  lines.pop(); // the part after the last newline may be torn
  lines.forEach((l, i) => assert.doesNotThrow(() => JSON.parse(l), `${ctx}: journal line ${i + 1} does not parse`));
}

test(
  'SIGKILL at random instants, resume each time: nothing finished is lost or run again (invariants 1, 2)',
  { timeout: 240_000 },
  async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 100000);
    const random = rng(seed);
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 800, concurrency: 8, sleep: '0.15' });
    const kills = Number(process.env.KILLS ?? 24);
    let killed = 0;
    while (killed < kills) {
      const { child, done } = cliStart(['run', file], dir);
      await sleep(80 + random() * 900);
      child.kill('SIGKILL');
      const r = await done;
      if (r.code === 0) break;
      assert.equal(r.signal, 'SIGKILL', `seed ${seed}: runner exited by itself: ${r.stderr}`);
      killed++;
      // Killed before it made the run folder (.resumable/ may exist already, empty): nothing to check yet.
      const runDir = runDirSoFar(dir);
      if (runDir) assertStateFilesParse(runDir, `seed ${seed}, kill ${killed}`);
    }
    const final = cliSync(['run', file], dir);
    assert.equal(final.code, 0, `seed ${seed}: ${final.stderr}`);
    assert.ok(killed >= 20, `seed ${seed}: expected at least 20 kills, got ${killed}`);

    const runDir = runDirOf(dir);
    const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.equal(status.counts.passed, 800, `seed ${seed}: ${JSON.stringify(status.counts)}`);
    assert.equal(status.status, 'completed');

    // Counted exactly once: one final outcome (end passed, or adopt) per unit in the journal.
    const finals = new Map<string, number>();
    for (const r of journalRecords(runDir)) {
      if ((r.t === 'end' && r.s === 'passed') || r.t === 'adopt') finals.set(r.u as string, (finals.get(r.u as string) ?? 0) + 1);
    }
    assert.equal(finals.size, 800);
    assert.deepEqual(
      [...finals.values()].filter((n) => n !== 1),
      [],
      `seed ${seed}: units counted more than once`,
    );

    // Never run again once the result was on disk: no "start" after a "done", and no result set aside.
    for (const [folder, runs] of unitRuns(runDir)) {
      const firstDone = runs.indexOf('done');
      assert.ok(
        firstDone === -1 || runs.lastIndexOf('start') < firstDone,
        `seed ${seed}: ${folder} ran again after its result was written: ${runs.join(',')}`,
      );
      assert.ok(fs.existsSync(path.join(runDir, 'units', folder, 'result.json')), `seed ${seed}: ${folder} has no result`);
      const aside = fs.readdirSync(path.join(runDir, 'units', folder)).filter((f) => f.startsWith('result.json.before'));
      assert.deepEqual(aside, [], `seed ${seed}: ${folder} had a finished result set aside for a re-run`);
    }
    // No orphaned temp files of write-file-atomic after the resume.
    assert.deepEqual(
      fs.readdirSync(runDir).filter((f) => /^state\.json\.\d+$/.test(f) || /^experiment\.json\.\d+$/.test(f)),
      [],
    );
    console.log(`kill loop: seed ${seed}, ${killed} kills, 800 units, all counted once`);
  },
);

test('a unit that wrote its result is adopted when the runner dies before journaling it', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  // The unit writes its result, then kills its runner (its parent) before the runner can journal it.
  const script = [
    'echo start >> "$RESUMABLE_UNIT_DIR/runs.log"',
    'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"',
    'echo done >> "$RESUMABLE_UNIT_DIR/runs.log"',
    'if [ "$RESUMABLE_ITEM_ID" = "item-00002" ]; then kill -9 $PPID; fi',
  ].join('\n');
  const file = makeExperiment(dir, { n: 5, concurrency: 1, script });
  const first = cliSync(['run', file], dir);
  assert.equal(first.signal, 'SIGKILL');
  const runDir = runDirOf(dir);
  const before = journalRecords(runDir).filter((r) => r.t === 'end' && r.u === 'item-00002');
  assert.deepEqual(before, [], 'the journal missed the unit (that is the point)');

  // Units before it may be adopted too: their journal lines may not have been durable yet.
  const dry = cliSync(['run', file, '--dry-run'], dir);
  assert.match(dry.stdout, /adopt: .*item-00002/);
  const second = cliSync(['run', file], dir);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /Adopted \d result/);
  const adopted = journalRecords(runDir)
    .filter((r) => r.t === 'adopt')
    .map((r) => r.u);
  assert.ok(adopted.includes('item-00002'), adopted.join());
  for (const [folder, runs] of unitRuns(runDir)) assert.deepEqual(runs, ['start', 'done'], folder);
});

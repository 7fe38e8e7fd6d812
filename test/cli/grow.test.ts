import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';

function edit(file: string, change: (v: Record<string, unknown>) => void): void {
  const v = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(v);
  fs.writeFileSync(file, JSON.stringify(v, null, 2));
}

function addItems(dir: string, ids: string[]): void {
  fs.appendFileSync(path.join(dir, 'items.jsonl'), ids.map((id) => JSON.stringify({ id }) + '\n').join(''));
}

/** How many times each unit folder's command started (runs.log), by folder name. */
function starts(runDir: string): Record<string, number> {
  return Object.fromEntries([...unitRuns(runDir)].map(([f, lines]) => [f, lines.filter((l) => l === 'start').length]));
}

function statusJson(target: string, cwd: string): { total: number; counts: Record<string, number>; runDir: string } {
  const r = cliSync(['status', target, '--json'], cwd);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('rows added to the items continue the same run: only the new units run, every finished one is kept', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 6, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  addItems(dir, ['item-new-1', 'item-new-2']);

  // Before it runs, status of the file points at the run it grows (not "Not started yet").
  const st = cliSync(['status', file], dir);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /6\/6/);
  assert.match(st.stdout, /grew since this run was started: 2 units added \(item-new-1, item-new-2\)/);
  assert.doesNotMatch(st.stdout, /Not started/);
  const dry = cliSync(['run', file, '--dry-run'], dir);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout + dry.stderr, /would run 2, skip 6/);

  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /The experiment grew: 2 units added \(item-new-1, item-new-2\)\. Continuing run exp-[0-9a-f]{8}/);
  assert.match(r.stderr, /6 of 8 units already done; 2 to run/);
  assert.equal(runDirOf(dir), runDir, 'the same run folder');
  const s = starts(runDir);
  assert.equal(Object.keys(s).length, 8);
  assert.ok(
    Object.values(s).every((n) => n === 1),
    `every unit ran once: ${JSON.stringify(s)}`,
  );
  assert.deepEqual(statusJson(file, dir).counts.passed, 8);
  // The config it grew from is kept, and the frozen config names it.
  const frozen = JSON.parse(fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8'));
  assert.equal(frozen.lineage.length, 1);
  assert.equal(frozen.lineage[0].units, 6);
  assert.ok(fs.readdirSync(path.join(runDir, 'archive')).some((n) => n.endsWith('-experiment.json')));

  // The next run of the same file resumes it: nothing to do, nothing re-run.
  const again = cliSync(['run', file], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /8 of 8 units already done; 0 to run/);
  assert.doesNotMatch(again.stderr, /grew/);

  // Back to the file it was started with (the folder named by that config): it grows back.
  const lines = fs.readFileSync(path.join(dir, 'items.jsonl'), 'utf8').trim().split('\n');
  fs.writeFileSync(path.join(dir, 'items.jsonl'), lines.slice(0, 6).join('\n') + '\n');
  const dryBack = cliSync(['run', file, '--dry-run'], dir);
  assert.equal(dryBack.code, 0, dryBack.stderr);
  assert.match(dryBack.stdout + dryBack.stderr, /would run 0, skip 6/);
  const back = cliSync(['run', file], dir);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stderr, /0 units added, 2 removed \(item-new-1, item-new-2\)/);
  assert.match(back.stderr, /6 of 6 units already done; 0 to run/);
  assert.equal(runDirOf(dir), runDir);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8')).lineage.length, 2);
});

test('a matrix value added and repeat raised run only the new cells; removed rows leave the counts and stay in the journal', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 3, sleep: '0', extra: { matrix: { model: ['small'], repeat: 1 } } });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  edit(file, (v) => (v.matrix = { model: ['small', 'large'], repeat: 2 }));
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /9 units added/);
  assert.match(r.stderr, /3 of 12 units already done; 9 to run/);
  assert.equal(statusJson(file, dir).counts.passed, 12);
  assert.ok(Object.values(starts(runDir)).every((n) => n === 1));

  // Cut back: one row fewer, one model fewer. Nothing runs; the removed units leave the counts.
  fs.writeFileSync(path.join(dir, 'items.jsonl'), ['item-00000', 'item-00001'].map((id) => JSON.stringify({ id }) + '\n').join(''));
  edit(file, (v) => (v.matrix = { model: ['large'], repeat: 2 }));
  const cut = cliSync(['run', file], dir);
  assert.equal(cut.code, 0, cut.stderr);
  assert.match(cut.stderr, /0 units added, 8 removed/);
  assert.match(cut.stderr, /4 of 4 units already done; 0 to run/);
  const st = statusJson(file, dir);
  assert.equal(st.total, 4);
  assert.equal(st.counts.passed, 4);
  const ended = new Set(
    journalRecords(runDir)
      .filter((x) => x.t === 'end')
      .map((x) => x.u),
  );
  assert.ok(ended.has('item-00002/small/r1'), 'a removed unit stays in the journal');

  // And back again: the removed units' outcomes come back with them; nothing runs again.
  fs.appendFileSync(path.join(dir, 'items.jsonl'), JSON.stringify({ id: 'item-00002' }) + '\n');
  edit(file, (v) => (v.matrix = { model: ['small', 'large'], repeat: 2 }));
  const back = cliSync(['run', file], dir);
  assert.equal(back.code, 0, back.stderr);
  assert.match(back.stderr, /12 of 12 units already done; 0 to run/);
  assert.ok(Object.values(starts(runDir)).every((n) => n === 1));
});

test('a changed row is still refused, naming the item and its field; nothing is written', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 3, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  const before = fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8');
  fs.writeFileSync(
    path.join(dir, 'items.jsonl'),
    ['{"id":"item-00000","tier":"hard"}', '{"id":"item-00001"}', '{"id":"item-00002"}', '{"id":"item-new"}'].join('\n') + '\n',
  );
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /changed in what its units do/);
  assert.match(r.stderr, /items changed \(1\): "item-00000" \(tier\)/);
  assert.match(r.stderr, /Adding or removing items or matrix values, or raising or lowering "repeat", continues the same run/);
  assert.equal(fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8'), before);

  // status of the file says why it has no run under this config, and where the earlier run is.
  const st = cliSync(['status', file], dir);
  assert.equal(st.code, 0, st.stderr);
  assert.match(st.stdout, /Not started under this config\. The experiment changed in what its units do since run exp-[0-9a-f]{8}/);
  assert.match(st.stdout, /Its status: resumable status \.resumable\/exp-[0-9a-f]{8}/);
});

test('shards of a grown run: journals begun before it grew are still its own, and merge takes them', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 8, sleep: '0', concurrency: 4 });
  for (const k of [1, 2]) assert.equal(cliSync(['run', file, '--shard', `${k}/2`], dir).code, 0);
  const runDir = runDirOf(dir);
  addItems(dir, ['item-new-1', 'item-new-2', 'item-new-3']);
  const outs = [1, 2].map((k) => cliSync(['run', file, '--shard', `${k}/2`], dir));
  for (const o of outs) assert.equal(o.code, 0, o.stderr);
  assert.equal(outs.filter((o) => /The experiment grew/.test(o.stderr)).length, 1, 'the run grows once');
  assert.ok(Object.values(starts(runDir)).every((n) => n === 1));
  const m = cliSync(['merge', runDir], dir);
  assert.equal(m.code, 0, m.stderr);
  const st = statusJson(file, dir);
  assert.equal(st.total, 11);
  assert.equal(st.counts.passed, 11);
});

test('two shards that start at once with the grown file grow the run once; every unit runs once', async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 8, sleep: '0', concurrency: 4 });
  for (const k of [1, 2]) assert.equal(cliSync(['run', file, '--shard', `${k}/2`], dir).code, 0);
  const runDir = runDirOf(dir);
  addItems(dir, ['item-new-1', 'item-new-2', 'item-new-3', 'item-new-4']);
  const both = await Promise.all([1, 2].map((k) => cliStart(['run', file, '--shard', `${k}/2`], dir).done));
  for (const o of both) assert.equal(o.code, 0, o.stderr);
  assert.equal(both.filter((o) => /The experiment grew/.test(o.stderr)).length, 1, 'one of them grew it, the other found it grown');
  const frozen = JSON.parse(fs.readFileSync(path.join(runDir, 'experiment.json'), 'utf8'));
  assert.equal(frozen.lineage.length, 1);
  assert.ok(Object.values(starts(runDir)).every((n) => n === 1));
  assert.equal(Object.keys(starts(runDir)).length, 12);
  assert.equal(fs.existsSync(path.join(runDir, 'lock.grow')), false, 'the grow lock is released');
});

test('a repeat added to a run started without one is refused, saying why and what to start with next time', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 2, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), matrix: { repeat: 2 } }));
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /\$\.matrix\.repeat: \(absent\) → 2\n {6}A run started without "repeat" cannot gain one: every unit id would change \(q1 → q1\/r1\)\. Start runs you may repeat later with "repeat": 1\./,
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Run, RunFollower, isUserError, repairRun, systemClock, type Clock, type RunView } from '../../src/core/index';
import { loadExperiment } from '../../src/core/config/load';
import { RunPaths } from '../../src/core/store/paths';
import { readView } from '../../src/core/run/readView';
import { knownItems } from '../../src/core/run/itemsFingerprint';
import { planRun } from '../../src/core/run/plan';
import { indexOfJsonl, LazyUnits } from '../../src/core/config/lazyUnits';
import { createHash } from 'node:crypto';
import { tmpDir, writeFiles } from '../helpers/tmp';

const N = 30;

function experiment(dir: string, extra: Record<string, unknown> = {}): string {
  writeFiles(dir, {
    'items.jsonl':
      Array.from({ length: N }, (_, i) => JSON.stringify({ id: `q${String(i).padStart(2, '0')}`, level: i % 3 })).join('\n') + '\n',
    'e.experiment.json': JSON.stringify({ name: 'snap', items: { file: 'items.jsonl' }, matrix: { model: ['a', 'b'] }, ...extra }),
  });
  return path.join(dir, 'e.experiment.json');
}

/**
 * A clock a few seconds ahead: the dataset these tests write a moment before their first run
 * is then not "racy" (changed within 2 s of its hashing), so its fingerprint is trusted by stat.
 */
const later: Clock = { ...systemClock, now: () => Date.now() + 5000 };

/** A session that stops (as Ctrl+C does) once `stopAt` units started; returns the ids its handler ran and its notes. */
async function session(file: string, stopAt = Infinity): Promise<{ ran: string[]; notes: string[]; runDir: string }> {
  const ran: string[] = [];
  const notes: string[] = [];
  let runDir = '';
  const run = new Run({
    experiment: file,
    concurrency: 2,
    clock: later,
    handler: async ({ unit }) => {
      ran.push(unit.id);
      if (ran.length === stopAt) run.stop();
      return unit.id.endsWith('/b') && unit.id.startsWith('q0') ? { passed: false, why: 'wrong' } : { passed: true };
    },
  });
  run.onEvent((e) => {
    if (e.type === 'note') notes.push(e.message);
    if (e.type === 'start') runDir = e.runDir;
  });
  await run.run();
  return { ran, notes, runDir };
}

/** What a view says, as plain data. */
function plain(v: RunView): unknown {
  const { units, ...run } = v;
  return { units: [...units], run: JSON.parse(JSON.stringify(run)) as unknown };
}

async function viewRead(file: string, runDir: string): Promise<{ view: RunView; fromSnapshot: boolean; notes: string[] }> {
  const exp = await loadExperiment(file, { requireRun: false });
  const notes: string[] = [];
  const r = await readView(exp, new RunPaths(runDir), notes, false, new Set([exp.hash]));
  return { view: r.view, fromSnapshot: r.fromSnapshot, notes };
}

test('a resume reads the unit snapshot and the journal after it, and says the same as a replay of the whole journal', async () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const first = await session(file, 10);
  const snapshot = new RunPaths(first.runDir).unitSnapshot;
  assert.ok(fs.existsSync(snapshot), 'the stopped session left a unit snapshot');
  // Lines after the snapshot: a unit started and ended by hand, as a runner that died after its last snapshot leaves them.
  const journal = new RunPaths(first.runDir).journal;
  fs.appendFileSync(
    journal,
    `{"t":"start","ts":1,"u":"q29/a","a":1}\n{"t":"end","ts":2,"u":"q29/a","a":1,"s":"failed","why":"by hand","d":5}\n`,
  );
  const withSnapshot = await viewRead(file, first.runDir);
  assert.equal(withSnapshot.fromSnapshot, true, withSnapshot.notes.join('\n'));
  fs.renameSync(snapshot, `${snapshot}.aside`);
  const whole = await viewRead(file, first.runDir);
  assert.equal(whole.fromSnapshot, false);
  assert.deepEqual(plain(withSnapshot.view), plain(whole.view));
  assert.equal(withSnapshot.view.units.get('q29/a')?.why, 'by hand');
  fs.renameSync(`${snapshot}.aside`, snapshot);

  const second = await session(file);
  assert.deepEqual(
    second.notes.filter((n) => /snapshot/.test(n)),
    [],
  );
  const doneBefore = new Set([...whole.view.units].filter(([, u]) => u.status === 'passed' || u.status === 'failed').map(([id]) => id));
  assert.deepEqual(
    second.ran.filter((id) => doneBefore.has(id)),
    [],
    'no unit with an outcome before the resume ran again',
  );
  assert.equal(second.ran.length + doneBefore.size, 2 * N);
});

test('a damaged or out-of-date unit snapshot is said and not used: the whole journal is read, nothing is lost', async () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const first = await session(file, 12);
  const paths = new RunPaths(first.runDir);
  const truth = plain((await viewRead(file, first.runDir)).view);

  const good = fs.readFileSync(paths.unitSnapshot);
  fs.writeFileSync(paths.unitSnapshot, good.subarray(0, good.length - 10));
  let r = await viewRead(file, first.runDir);
  assert.equal(r.fromSnapshot, false);
  assert.match(r.notes.join('\n'), /Did not use the unit-state snapshot snapshot\.bin: its body has \d+ bytes/);
  assert.deepEqual(plain(r.view), truth);

  // The journal's last line before the snapshot's offset changed (same length): not the journal it covers.
  fs.writeFileSync(paths.unitSnapshot, good);
  const text = fs.readFileSync(paths.journal, 'utf8');
  const lines = text.split('\n');
  const last = lines.length - 2;
  lines[last] = lines[last]!.replace(/"ts":(\d)/, (_, d: string) => `"ts":${(Number(d) + 1) % 10}`);
  fs.writeFileSync(paths.journal, lines.join('\n'));
  r = await viewRead(file, first.runDir);
  assert.equal(r.fromSnapshot, false);
  assert.match(r.notes.join('\n'), /journal\.jsonl is not the journal it covers any more/);
  fs.writeFileSync(paths.journal, text);

  // A run folder copied elsewhere keeps its snapshot (the mark is the journal's bytes, not its inode).
  const copy = tmpDir();
  fs.cpSync(dir, copy, { recursive: true });
  const copied = await viewRead(path.join(copy, 'e.experiment.json'), path.join(copy, path.relative(dir, first.runDir)));
  assert.equal(copied.fromSnapshot, true, copied.notes.join('\n'));

  // repair rewrites the journal whole (here: it adopts a result a unit left): the snapshot goes
  // first, and the run resumes from the journal alone, the adopted unit not run again.
  const pending = (truth as { units: [string, { status: string }][] }).units.find(([, u]) => u.status === 'pending')![0];
  writeFiles(paths.unitDir(pending), { 'result.json': '{"passed": true}' });
  const repaired = await repairRun(first.runDir, { clock: systemClock });
  assert.equal(repaired.written, true);
  assert.equal(fs.existsSync(paths.unitSnapshot), false);
  const after = await session(file);
  assert.equal(after.ran.includes(pending), false);
  assert.equal(after.ran.length + doneCount(truth) + 1, 2 * N);
});

function doneCount(p: unknown): number {
  return (p as { units: [string, { status: string }][] }).units.filter(([, u]) => ['passed', 'failed', 'error'].includes(u.status)).length;
}

test('status reads the run from its snapshot without its frozen items, and reports what a full read does', async () => {
  const dir = tmpDir();
  const file = experiment(dir, { matrix: { model: ['a', 'b'], repeat: 2 } });
  const first = await session(file, 25);
  fs.appendFileSync(new RunPaths(first.runDir).journal, `{"t":"end","ts":9,"u":"q28/b/r2","a":1,"s":"error","why":"after the snapshot"}\n`);
  const fast = RunFollower.open(first.runDir);
  await fast.poll();
  const fromSnapshot = fast.report(systemClock);
  const full = new RunFollower(first.runDir, fast.frozen);
  fs.rmSync(new RunPaths(first.runDir).unitSnapshot);
  const slow = new RunFollower(first.runDir, fast.frozen);
  await slow.poll();
  const fromJournal = slow.report(systemClock);
  const strip = (r: object) => ({ ...r, runner: null, notes: [] });
  assert.deepEqual(strip(fromSnapshot), strip(fromJournal));
  assert.equal(fromSnapshot.counts.error, 1);
  assert.deepEqual(
    fromSnapshot.groups.map((g) => g.group),
    ['a', 'b'],
  );
  assert.deepEqual(
    full.units.map((u) => u.id),
    fast.units.map((u) => u.id),
  );
});

test('an unchanged items file is known by its fingerprint (a touch too), a changed one is read and hashed again', async () => {
  const dir = tmpDir();
  const file = experiment(dir);
  await session(file, 3);
  const items = path.join(dir, 'items.jsonl');
  const hashed = await loadExperiment(file, { requireRun: false });
  let looked = 0;
  const spy: typeof knownItems = (...a) => {
    looked++;
    return knownItems(...a);
  };
  const known = await loadExperiment(file, { requireRun: false, knownItems: spy, lazyItems: true });
  assert.equal(looked, 1);
  assert.equal(known.hash, hashed.hash);
  assert.equal(known.units.length, 2 * N, 'the items are read when asked for');

  // Touched: its stat changed, its bytes did not.
  const later = new Date(Date.now() + 60_000);
  fs.utimesSync(items, later, later);
  const touched = await loadExperiment(file, { requireRun: false, knownItems: spy });
  assert.equal(touched.hash, hashed.hash);
  assert.equal((await loadExperiment(file, { requireRun: false, knownItems: () => undefined })).hash, hashed.hash);

  // One field changed, same size: a miss, hashed again, a new hash (the runner then refuses it as drift).
  fs.writeFileSync(items, fs.readFileSync(items, 'utf8').replace('"level":0', '"level":9'));
  const changed = await loadExperiment(file, { requireRun: false, knownItems: spy, lazyItems: true });
  assert.notEqual(changed.hash, hashed.hash);
  await assert.rejects(
    session(file),
    (e: unknown) => isUserError(e) && e.hints.some((h) => /items changed \(1\): "q00" \(level\)/.test(h)),
  );
});

test('the units of an indexed dataset, read one by one, are the units expandUnits makes', async () => {
  const dir = tmpDir();
  // Blank lines, a CRLF, non-ASCII ids and fields: the byte offsets must still land on each row.
  writeFiles(dir, {
    'items.jsonl': '{"id":"é1","x":"ü"}\r\n\n   \n{"id":"b2","x":2}\n{"id":"c3","x":[1,2]}\n',
    'e.experiment.json': JSON.stringify({ name: 'lazy', items: { file: 'items.jsonl' }, matrix: { m: ['p', 'q'], repeat: 2 } }),
  });
  const file = path.join(dir, 'e.experiment.json');
  const eager = await loadExperiment(file, { requireRun: false });
  const bytes = fs.readFileSync(path.join(dir, 'items.jsonl'));
  const lazy = new LazyUnits(path.join(dir, 'items.jsonl'), indexOfJsonl(bytes), 'id', eager.config.matrix);
  assert.equal(lazy.count, eager.units.length);
  for (let i = 0; i < lazy.count; i++) {
    const u = lazy.unitAt(i);
    const e = eager.units[i]!;
    assert.deepEqual({ ...u, item: { id: u.item.id, fields: u.item.fields } }, { ...e, item: { id: e.item.id, fields: e.item.fields } });
    assert.equal(u.item.where.line, e.item.where.line);
  }
});

test('a resume of an unchanged dataset reads only the items of the units it runs; a wrong index is caught by the unit ids', async () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const first = await session(file, 20);
  const paths = new RunPaths(first.runDir);
  const lazyExp = await loadExperiment(file, { requireRun: false, knownItems, lazyItems: true });
  assert.ok(lazyExp.lazy, 'the run kept an index of its dataset');
  const r = await readView(lazyExp, paths, [], false, new Set([lazyExp.hash]));
  assert.equal(r.fromSnapshot, true);
  assert.equal(lazyExp.lazy.materialized(), false, 'no item was read for the view');
  const plan = planRun(lazyExp, r.view, {});
  assert.equal(lazyExp.lazy.materialized(), false, 'nor for the plan');
  const eagerExp = await loadExperiment(file, { requireRun: false });
  const expected = planRun(eagerExp, (await readView(eagerExp, paths, [], false, new Set([eagerExp.hash]))).view, {});
  assert.deepEqual(
    plan.todo.map((u) => [u.id, u.item.fields, u.cell, u.group]),
    expected.todo.map((u) => [u.id, u.item.fields, u.cell, u.group]),
  );

  // An index whose offsets point at other rows (its digest made to match): the ids differ, every item is read instead.
  const indexFile = path.join(first.runDir, 'items.index.bin');
  const buf = fs.readFileSync(indexFile);
  const nl = buf.indexOf(10);
  const head = JSON.parse(buf.toString('utf8', 0, nl)) as { count: number; body: string };
  const body = Buffer.from(buf.subarray(nl + 1));
  const offsets = new Float64Array(body.buffer, body.byteOffset, head.count);
  offsets.reverse();
  head.body = createHash('sha256').update(body).digest('hex');
  fs.writeFileSync(indexFile, Buffer.concat([Buffer.from(JSON.stringify(head) + '\n'), body]));
  const wrong = await loadExperiment(file, { requireRun: false, knownItems, lazyItems: true });
  const wrongView = (await readView(wrong, paths, [], false, new Set([wrong.hash]))).view;
  const wrongPlan = planRun(wrong, wrongView, {});
  assert.deepEqual(
    wrongPlan.todo.map((u) => [u.id, u.item.fields]),
    expected.todo.map((u) => [u.id, u.item.fields]),
  );
  assert.equal(wrong.lazy?.materialized(), true);
  const rest = await session(file);
  assert.equal(rest.ran.length, expected.todo.length);
});

test('a shard resumes from its own snapshot, which covers the whole run’s journal as it read it', async () => {
  const dir = tmpDir();
  const file = experiment(dir);
  // An unsharded first session leaves the whole run's journal; then shard 1 of 2 stops part way.
  await session(file, 6);
  const shard = { k: 1, n: 2 };
  const ran: string[] = [];
  const run = new Run({
    experiment: file,
    shard,
    concurrency: 1,
    handler: async ({ unit }) => {
      ran.push(unit.id);
      if (ran.length === 5) run.stop();
      return { passed: true };
    },
  });
  const s = await run.run();
  const paths = new RunPaths(s.runDir, shard);
  assert.ok(fs.existsSync(paths.unitSnapshot), 'the shard left snapshot.1of2.bin');
  const exp = await loadExperiment(file, { requireRun: false });
  const withSnapshot = await readView(exp, paths, [], false, new Set([exp.hash]));
  assert.equal(withSnapshot.fromSnapshot, true);
  fs.renameSync(paths.unitSnapshot, `${paths.unitSnapshot}.aside`);
  const whole = await readView(exp, paths, [], false, new Set([exp.hash]));
  assert.deepEqual(plain(withSnapshot.view), plain(whole.view));
  fs.renameSync(`${paths.unitSnapshot}.aside`, paths.unitSnapshot);
  // The whole run's journal grew since (a line appended by hand): the snapshot holds for what it read, the new line is read after it.
  fs.appendFileSync(new RunPaths(s.runDir).journal, `{"t":"end","ts":9,"u":"q29/b","a":1,"s":"failed","why":"later"}\n`);
  const notes: string[] = [];
  const after = await readView(exp, paths, notes, false, new Set([exp.hash]));
  assert.equal(after.fromSnapshot, true, 'bytes appended after what it read leave its mark as it was');
  assert.equal(after.view.units.get('q29/b')?.status ?? 'not this shard', whole.view.units.has('q29/b') ? 'failed' : 'not this shard');
});

test('a dataset hashed a moment after it changed is known by its bytes, and one changed under an unchanged stat is refused when read', async () => {
  const dir = tmpDir();
  const file = experiment(dir);
  // With the real clock the file is "racy" (written just now): its fingerprint does not trust its stat.
  const run: Run = new Run({ experiment: file, concurrency: 1, handler: async () => (run.stop(), { passed: true }) });
  const s = await run.run();
  const fpFile = path.join(s.runDir, 'items.fingerprint.json');
  const fp = JSON.parse(fs.readFileSync(fpFile, 'utf8')) as { source: Record<string, unknown>; items: object };
  assert.equal(fp.source.trustStat, false);
  assert.equal((await loadExperiment(file, { requireRun: false, knownItems, lazyItems: true })).lazy, undefined, 'not by stat');
  await session(file, 30); // hashed again by its bytes (a hit), and now trusted: the clock is past the racy window
  assert.equal((JSON.parse(fs.readFileSync(fpFile, 'utf8')) as typeof fp).source.trustStat, true);

  // Two pending rows swapped (same length), and the fingerprint made to claim the new stat, as a
  // same-size rewrite in the same clock tick would leave it: the lazy rows' ids betray it.
  const items = path.join(dir, 'items.jsonl');
  const lines = fs.readFileSync(items, 'utf8').split('\n');
  [lines[28], lines[29]] = [lines[29]!, lines[28]!];
  fs.writeFileSync(items, lines.join('\n'));
  const st = fs.statSync(items);
  const now = JSON.parse(fs.readFileSync(fpFile, 'utf8')) as typeof fp;
  Object.assign(now.source, { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
  fs.writeFileSync(fpFile, JSON.stringify(now));
  await assert.rejects(session(file), (e: unknown) => isUserError(e) && /changed since the run hashed its items/.test(e.message));
});

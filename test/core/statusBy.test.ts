import { test } from 'node:test';
import { wilson } from '../../src/core/status/wilson';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock } from '../../src/core/clock';
import type { Item } from '../../src/core/config/items';
import { loadExperiment } from '../../src/core/config/load';
import type { Experiment } from '../../src/core/config/schema';
import { expandUnits } from '../../src/core/config/units';
import { isUserError } from '../../src/core/errors';
import { freeze, writeFrozen } from '../../src/core/model/frozen';
import { emptyCounts } from '../../src/core/model/view';
import { shardOf } from '../../src/core/shard/partition';
import { countGroups, groupUnits, NO_VALUE } from '../../src/core/status/groupBy';
import { RunFollower } from '../../src/core/status/report';
import { reportStatus } from '../../src/core/status/runStatus';
import { runFolderFor } from '../../src/core/store/paths';
import type { JournalRecord } from '../../src/core/store/events';
import { tmpDir, writeFiles } from '../helpers/tmp';

// `status --by`: grouping by an item field or a matrix key (pure, over fixture units), and
// the report's status made to agree with its counts.

const item = (id: string, fields: Record<string, unknown>): Item => ({ id, fields: { id, ...fields }, where: {} });
const ITEMS = [
  item('q1', { tier: 'T0', meta: { lang: 'en' } }),
  item('q2', { tier: 'T1', meta: { lang: 'fr' } }),
  item('q3', { tier: 'T0', meta: {} }),
  item('q4', { model: 'from-the-item' }),
];
/** The schema's matrix type (a record of lists with an optional numeric repeat) is not inferred from a literal. */
const matrix = (m: Record<string, unknown>) => m as Experiment['matrix'];
const UNITS = expandUnits(ITEMS, matrix({ model: ['sonnet', 'haiku'], repeat: 2 }));

test('by default units are grouped by matrix cell, as before', () => {
  const g = groupUnits(UNITS, undefined);
  assert.equal(g.key, '');
  assert.deepEqual(g.names, ['sonnet', 'haiku']);
  assert.deepEqual(
    g.of,
    UNITS.map((u) => u.group),
  );
  assert.deepEqual(groupUnits(UNITS, '  ').names, ['sonnet', 'haiku'], 'a blank key is the default');
});

test('by an item field: groups in config order, units without a value in "(none)", last', () => {
  const g = groupUnits(UNITS, 'tier');
  assert.equal(g.key, 'tier');
  assert.deepEqual(g.names, ['T0', 'T1', NO_VALUE]);
  const count = (name: string) => g.of.filter((x) => x === name).length;
  // 2 models × 2 repeats = 4 units per item.
  assert.deepEqual([count('T0'), count('T1'), count(NO_VALUE)], [8, 4, 4]);
  assert.deepEqual(
    UNITS.filter((_, i) => g.of[i] === NO_VALUE).map((u) => u.item.id),
    ['q4', 'q4', 'q4', 'q4'],
  );
});

test('by a dotted path into the item fields', () => {
  const g = groupUnits(UNITS, 'meta.lang');
  assert.deepEqual(g.names, ['en', 'fr', NO_VALUE]);
  assert.equal(g.of.filter((x) => x === NO_VALUE).length, 8, 'q3 (meta without lang) and q4 (no meta)');
});

test('by a matrix key (and repeat); item.<field> reaches an item field named like a matrix key', () => {
  assert.deepEqual(groupUnits(UNITS, 'model').names, ['sonnet', 'haiku']);
  assert.deepEqual(groupUnits(UNITS, 'repeat').names, ['1', '2']);
  const fromItem = groupUnits(UNITS, 'item.model');
  assert.deepEqual(fromItem.names, ['from-the-item', NO_VALUE]);
  assert.equal(fromItem.key, 'item.model');
});

test('values that are not strings are named by their text; "" is "(empty)"', () => {
  const units = expandUnits([item('a', { n: 1, ok: true, v: '' }), item('b', { n: 10, ok: false, v: null })], {});
  assert.deepEqual(groupUnits(units, 'n').names, ['1', '10']);
  assert.deepEqual(groupUnits(units, 'ok').names, ['true', 'false']);
  assert.deepEqual(groupUnits(units, 'v').names, ['(empty)', NO_VALUE]);
});

test('a key no unit has is a UserError naming it and listing the item fields and matrix keys', () => {
  let caught: unknown;
  try {
    groupUnits(UNITS, 'tyer');
  } catch (e) {
    caught = e;
  }
  assert.ok(isUserError(caught), String(caught));
  const e = caught;
  assert.match(e.message, /No unit has "tyer"/);
  assert.deepEqual(e.hints.slice(0, 2), ['item fields: id, tier, meta.lang, model', 'matrix keys: model, repeat']);
  assert.throws(() => groupUnits(UNITS, 'meta.lnag'), /No unit has "meta.lnag"/);
  assert.throws(
    () => groupUnits(expandUnits(ITEMS, {}), 'repeat'),
    (x: unknown) => isUserError(x) && x.hints.includes('matrix keys: none'),
    'no repeat in the matrix: repeat is no key',
  );
});

test('countGroups: totals and counts per group, in the grouping order', () => {
  const g = groupUnits(UNITS, 'tier');
  const status = (i: number) => (UNITS[i]!.item.id === 'q1' ? 'passed' : UNITS[i]!.item.id === 'q2' ? 'error' : 'pending');
  assert.deepEqual(countGroups(g, status), [
    { group: 'T0', total: 8, counts: { ...emptyCounts(), passed: 4, pending: 4 }, passRate: wilson(4, 4) },
    { group: 'T1', total: 4, counts: { ...emptyCounts(), error: 4 } },
    { group: NO_VALUE, total: 4, counts: { ...emptyCounts(), pending: 4 } },
  ]);
});

test('countGroups: the pass rate is over units with a verdict (an error is not a failed answer), metrics summed and averaged', () => {
  const g = groupUnits(UNITS, 'tier');
  const status = (i: number) => (['passed', 'failed', 'error', 'pending'] as const)[i % 4]!;
  const m = (i: number) => (i % 4 < 2 ? { m: { score: i % 4 === 0 ? 1 : 0.5, ...(i % 2 ? {} : { cost: 2 }) } } : undefined);
  const [t0] = countGroups(g, status, m);
  assert.equal(t0!.group, 'T0');
  assert.deepEqual(t0!.counts, { ...emptyCounts(), passed: 2, failed: 2, error: 2, pending: 2 });
  assert.deepEqual(t0!.passRate, wilson(2, 4));
  assert.equal(t0!.passRate.rate, 0.5);
  assert.deepEqual(t0!.metrics, { score: { sum: 3, n: 4, mean: 0.75 }, cost: { sum: 4, n: 2, mean: 2 } });
  assert.deepEqual(wilson(0, 3), { rate: 0, low: 0, high: wilson(0, 3)!.high });
  assert.ok(Math.abs(wilson(0, 3)!.high - 0.5615) < 1e-4, 'the textbook value for 0 of 3');
  assert.equal(wilson(5, 5)!.high, 1);
  assert.equal(wilson(0, 0), null);
});

test('status agrees with the counts', () => {
  const s = (over: Partial<Parameters<typeof reportStatus>[0]>) =>
    reportStatus({ journal: undefined, snapshot: undefined, runnerAlive: false, done: 0, total: 7, ...over });
  assert.deepEqual(s({}), { status: 'not_started' });
  assert.deepEqual(s({ journal: 'running', runnerAlive: true, done: 3 }), { status: 'running' });
  assert.deepEqual(s({ journal: 'running', runnerAlive: true, done: 7 }), { status: 'running' }, 'a live runner is about to end');
  assert.deepEqual(s({ journal: 'running', done: 3 }), { status: 'interrupted' }, 'its runner died');
  assert.deepEqual(s({ journal: 'paused_rate_limit', done: 3 }), { status: 'interrupted' });
  // Every unit has an outcome: completed, whatever the last runner said.
  for (const journal of ['interrupted', 'running', 'failed', 'paused_rate_limit', undefined] as const)
    assert.deepEqual(s({ journal, done: 7 }), { status: 'completed' }, String(journal));
  assert.deepEqual(s({ journal: 'interrupted', done: 3 }), { status: 'interrupted' });
  assert.deepEqual(s({ journal: 'failed', done: 3 }), { status: 'failed' });
  // "completed" beside 0/7: a state.json left over with an empty journal.
  const stale = s({ snapshot: 'completed', done: 0 });
  assert.equal(stale.status, 'interrupted');
  assert.match(stale.note ?? '', /state\.json says completed, but the journal shows 0 of 7 units/);
  assert.match(s({ journal: 'completed', done: 5 }).note ?? '', /the journal says completed, but the journal shows 5 of 7/);
  assert.deepEqual(s({ done: 3 }), { status: 'interrupted' }, 'results adopted into a run never started');
  assert.deepEqual(s({ snapshot: 'completed', done: 7 }), { status: 'completed' });
});

/** A run folder of `ITEMS`-like items made by hand: its frozen config and the journal lines given. */
async function runFolder(journals: Record<string, JournalRecord[]>): Promise<string> {
  const dir = tmpDir();
  const items = ITEMS.map((i) => JSON.stringify(i.fields)).join('\n') + '\n';
  writeFiles(dir, {
    'items.jsonl': items,
    'e.experiment.json': JSON.stringify({
      name: 'by',
      items: { file: 'items.jsonl' },
      matrix: { model: ['sonnet', 'haiku'] },
      run: { command: ['true'] },
    }),
  });
  const exp = await loadExperiment(path.join(dir, 'e.experiment.json'));
  const runDir = runFolderFor(exp.dir, exp.config.runRoot, exp.config.name, exp.hash);
  fs.mkdirSync(runDir, { recursive: true });
  await writeFrozen(path.join(runDir, 'experiment.json'), () => freeze(exp, 1));
  for (const [name, recs] of Object.entries(journals)) {
    const shard = /^journal\.(\d+of\d+)\.jsonl$/.exec(name)?.[1];
    const header: JournalRecord = { t: 'header', schemaVersion: 1, run: path.basename(runDir), hash: exp.hash, shard, ts: 1 };
    fs.writeFileSync(path.join(runDir, name), [header, ...recs].map((r) => JSON.stringify(r) + '\n').join(''));
  }
  return runDir;
}

const UNIT_IDS = expandUnits(ITEMS, { model: ['sonnet', 'haiku'] }).map((u) => u.id);
const ended = (ids: readonly string[], s: 'passed' | 'failed'): JournalRecord[] =>
  ids.map((u, i) => ({ t: 'end', ts: 10 + i, u, a: 1, s, d: 1 }));

test('RunFollower.report groups by the key given; without one by matrix cell; an unknown key throws or falls back', async () => {
  const q1 = UNIT_IDS.filter((id) => id.startsWith('q1/'));
  const runDir = await runFolder({
    'journal.jsonl': [
      { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
      ...ended(q1, 'passed'),
      { t: 'runner_end', ts: 50, status: 'interrupted' },
    ],
  });
  const f = RunFollower.open(runDir);
  await f.poll();
  const byCell = f.report(systemClock);
  assert.equal(byCell.groupBy, undefined);
  assert.deepEqual(
    byCell.groups.map((g) => [g.group, g.total, g.counts.passed]),
    [
      ['sonnet', 4, 1],
      ['haiku', 4, 1],
    ],
  );
  const byTier = f.report(systemClock, { by: 'tier' });
  assert.equal(byTier.groupBy, 'tier');
  assert.deepEqual(
    byTier.groups.map((g) => [g.group, g.total, g.counts.passed]),
    [
      ['T0', 4, 2],
      ['T1', 2, 0],
      [NO_VALUE, 2, 0],
    ],
  );
  assert.deepEqual(f.groupsOf({ by: 'tier' }).of.slice(0, 2), ['T0', 'T0']);
  assert.throws(
    () => f.report(systemClock, { by: 'nope' }),
    (e: unknown) => isUserError(e) && /exp|by-[0-9a-f]{8}: No unit has "nope"/.test(e.message),
  );
  const fallback = f.report(systemClock, { by: 'nope', unknownBy: 'cell' });
  assert.deepEqual(
    fallback.groups.map((g) => g.group),
    ['sonnet', 'haiku'],
  );
  assert.equal(fallback.groupBy, undefined);
  assert.ok(fallback.notes.some((n) => /no unit has "nope"/.test(n)));
});

test('a sharded run is grouped by the key too, by unit id across the shards', async () => {
  const journals: Record<string, JournalRecord[]> = {};
  for (const k of [1, 2]) {
    const mine = UNIT_IDS.filter((id) => shardOf(id, 2) === k);
    journals[`journal.${k}of2.jsonl`] = [
      { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
      ...ended(mine, k === 1 ? 'passed' : 'failed'),
      { t: 'runner_end', ts: 50, status: 'completed' },
    ];
  }
  const runDir = await runFolder(journals);
  const f = RunFollower.open(runDir);
  await f.poll();
  const r = f.report(systemClock, { by: 'meta.lang' });
  assert.equal(r.shards.length, 2);
  assert.equal(r.status, 'completed');
  assert.equal(r.groupBy, 'meta.lang');
  const expected = ['en', 'fr', NO_VALUE].map((lang) => {
    const ids = UNIT_IDS.filter((id) => {
      const it = ITEMS.find((i) => id.startsWith(`${i.id}/`))!;
      return ((it.fields.meta as { lang?: string } | undefined)?.lang ?? NO_VALUE) === lang;
    });
    return [lang, ids.length, ids.filter((id) => shardOf(id, 2) === 1).length, ids.filter((id) => shardOf(id, 2) === 2).length];
  });
  assert.deepEqual(
    r.groups.map((g) => [g.group, g.total, g.counts.passed, g.counts.failed]),
    expected,
  );
});

test('report: a run whose every unit has an outcome is completed, even when its last runner said interrupted', async () => {
  const runDir = await runFolder({
    'journal.jsonl': [
      { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
      ...ended(UNIT_IDS.slice(0, 3), 'passed'),
      { t: 'runner_end', ts: 30, status: 'interrupted' },
      // What `resumable repair` appends: the rest adopted from the unit folders.
      ...UNIT_IDS.slice(3).map((u, i): JournalRecord => ({ t: 'adopt', ts: 40 + i, u, s: 'failed', why: 'repair' })),
    ],
  });
  const f = RunFollower.open(runDir);
  await f.poll();
  const r = f.report(systemClock);
  assert.deepEqual([r.status, r.done, r.total], ['completed', 8, 8]);
});

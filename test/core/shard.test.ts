import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { shardOf } from '../../src/core/shard/partition';
import { chooseShard, parseShardArg } from '../../src/core/shard/detect';
import { planMerge } from '../../src/core/shard/mergePlan';
import { aggregateShards } from '../../src/core/status/shards';
import { applyRecord, newView } from '../../src/core/model/view';
import type { JournalRecord } from '../../src/core/store/events';
import type { Unit } from '../../src/core/config/units';

test('partition: the same unit always lands in the same shard, in 1..N, whatever the order or process', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 60 }), fc.integer({ min: 1, max: 512 }), (id, n) => {
      const k = shardOf(id, n);
      assert.ok(Number.isInteger(k) && k >= 1 && k <= n);
      assert.equal(shardOf(id, n), k);
    }),
    { numRuns: 2000 },
  );
  // Pinned values: a change of hash would silently re-partition every run in progress.
  assert.deepEqual(
    ['item-00000', 'item-00001', 'a/b', ''].map((id) => shardOf(id, 4)),
    [2, 1, 3, 1],
  );
});

test('partition: shards are balanced within a few percent (10k–50k units, N from 2 to 64)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 64 }),
      fc.integer({ min: 10_000, max: 50_000 }),
      fc.string({ maxLength: 8 }),
      (n, units, prefix) => {
        const sizes = new Array<number>(n).fill(0);
        for (let i = 0; i < units; i++) sizes[shardOf(`${prefix}${i}`, n) - 1]!++;
        const mean = units / n;
        // Binomial spread: allow 5 standard deviations, and at least 5% when shards are large.
        const tol = Math.max(0.05 * mean, 5 * Math.sqrt(mean));
        for (const s of sizes) assert.ok(Math.abs(s - mean) <= tol, `N=${n} units=${units}: shard of ${s} vs mean ${mean.toFixed(0)}`);
      },
    ),
    { numRuns: 25 },
  );
  const sizes = new Array<number>(8).fill(0);
  for (let i = 0; i < 100_000; i++) sizes[shardOf(`item-${i}`, 8) - 1]!++;
  for (const s of sizes) assert.ok(Math.abs(s - 12_500) / 12_500 < 0.02, `100k over 8: ${sizes.join(', ')}`);
});

test('shard from --shard, a Slurm array (any first index or step) and a Kubernetes Indexed Job', () => {
  assert.deepEqual(parseShardArg('2/4'), { k: 2, n: 4 });
  for (const bad of ['0/4', '5/4', '2', 'a/b', '1/0', '-1/4']) assert.throws(() => parseShardArg(bad), /Expected --shard k\/N/);
  const slurm = (id: number, min: number, max: number, step: number, count?: number) =>
    chooseShard(undefined, {
      SLURM_ARRAY_TASK_ID: String(id),
      SLURM_ARRAY_TASK_MIN: String(min),
      SLURM_ARRAY_TASK_MAX: String(max),
      SLURM_ARRAY_TASK_STEP: String(step),
      ...(count !== undefined ? { SLURM_ARRAY_TASK_COUNT: String(count) } : {}),
    });
  assert.deepEqual(slurm(0, 0, 3, 1, 4).shard, { k: 1, n: 4 });
  assert.deepEqual(slurm(3, 0, 3, 1, 4).shard, { k: 4, n: 4 });
  assert.deepEqual(slurm(1, 1, 8, 1, 8).shard, { k: 1, n: 8 }, '--array=1-8');
  assert.deepEqual(slurm(8, 1, 8, 1, 8).shard, { k: 8, n: 8 });
  assert.deepEqual(slurm(4, 0, 14, 2, 8).shard, { k: 3, n: 8 }, '--array=0-14:2');
  assert.deepEqual(slurm(14, 0, 14, 2).shard, { k: 8, n: 8 }, 'count derived from min/max/step');
  assert.match(slurm(4, 0, 14, 2, 8).source!, /SLURM_ARRAY_TASK_ID=4 \(array 0-14:2, 8 tasks\): task 2 of the array/);
  assert.throws(() => slurm(4, 1, 9, 1, 3), /not an evenly spaced range/, '--array=1,4,9');
  assert.throws(() => chooseShard(undefined, { SLURM_ARRAY_TASK_ID: '3' }), /cannot tell how many shards/);
  assert.throws(
    () => chooseShard(undefined, { SLURM_ARRAY_TASK_ID: 'x', SLURM_ARRAY_TASK_COUNT: '2' }),
    /Expected SLURM_ARRAY_TASK_ID to be an integer, got "x"/,
  );
  assert.deepEqual(chooseShard(undefined, { JOB_COMPLETION_INDEX: '2', RESUMABLE_SHARD_COUNT: '5' }), {
    shard: { k: 3, n: 5 },
    source: 'JOB_COMPLETION_INDEX=2 of RESUMABLE_SHARD_COUNT=5',
  });
  assert.throws(
    () => chooseShard(undefined, { JOB_COMPLETION_INDEX: '5', RESUMABLE_SHARD_COUNT: '5' }),
    /Expected 0 ≤ JOB_COMPLETION_INDEX < RESUMABLE_SHARD_COUNT/,
  );
  assert.throws(() => chooseShard(undefined, { JOB_COMPLETION_INDEX: '0' }), /RESUMABLE_SHARD_COUNT is not/);
  assert.deepEqual(chooseShard('1/2', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }).shard, { k: 1, n: 2 }, '--shard wins');
  assert.deepEqual(chooseShard(undefined, {}), { shard: undefined, source: undefined });
  assert.equal(
    chooseShard(undefined, { SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '1' }).shard,
    undefined,
    'one shard of one is the whole run',
  );
});

const units = (n: number): Unit[] => Array.from({ length: n }, (_, i) => ({ id: `u${i}`, group: '' }) as Unit);
const ended = (id: string, s: 'passed' | 'failed' | 'error' = 'passed', ts = 1): JournalRecord[] => [
  { t: 'start', ts, u: id, a: 1 },
  { t: 'end', ts: ts + 1, u: id, a: 1, s },
];

test('merge plan: completeness by unit id — missing, duplicated, misplaced and unknown units are named, never counted away', () => {
  const us = units(40);
  const n = 2;
  const mine = (k: number) => us.filter((u) => shardOf(u.id, n) === k).map((u) => u.id);
  const [a, b] = [mine(1), mine(2)];
  const stranger = b[0]!;
  const plan = planMerge(
    us,
    [
      {
        name: 'journal.1of2.jsonl',
        shard: { k: 1, n },
        records: [...a.slice(1).flatMap((id) => ended(id)), ...ended(stranger), ...ended('ghost')],
      },
      // Shard 2 ran its units but one of them only started (killed), and a unit of shard 1 went missing there.
      {
        name: 'journal.2of2.jsonl',
        shard: { k: 2, n },
        records: [...b.flatMap((id) => ended(id, 'failed')), { t: 'start', ts: 9, u: a[0]!, a: 1 }],
      },
    ],
    [],
  );
  assert.deepEqual(plan.missing, [a[0]]);
  assert.deepEqual(plan.duplicated, [{ id: stranger, in: ['journal.1of2.jsonl', 'journal.2of2.jsonl'] }]);
  assert.deepEqual(plan.misplaced, [{ id: stranger, in: 'journal.1of2.jsonl', belongsTo: '2of2' }]);
  assert.deepEqual(plan.unknown, ['ghost']);
  assert.equal(plan.done, 39);
  // Counts alone would say complete: 40 outcomes for 40 units.
  assert.equal(plan.records.filter((r) => r.t === 'end').length, 40 + 1);
});

test("merge plan: a unit done in the whole run's journal and again in its shard is not a duplicate; left-out shards are listed apart", () => {
  const us = units(20);
  const n = 2;
  const b = us.filter((u) => shardOf(u.id, n) === 2).map((u) => u.id);
  const plan = planMerge(
    us,
    [
      { name: 'journal.jsonl', records: us.flatMap((u) => ended(u.id, 'failed')) },
      { name: 'journal.2of2.jsonl', shard: { k: 2, n }, records: ended(b[0]!, 'passed', 50) },
    ],
    [],
  );
  assert.deepEqual([plan.missing, plan.duplicated, plan.done], [[], [], 20]);
  const view = newView(us.map((u) => u.id));
  for (const r of plan.records) applyRecord(view, r);
  assert.equal(view.units.get(b[0]!)!.status, 'passed', 'the shard, newer, wins');
  const left = planMerge(us, [{ name: 'journal.2of2.jsonl', shard: { k: 2, n }, records: b.flatMap((id) => ended(id)) }], [{ k: 1, n }]);
  assert.deepEqual(left.missing, []);
  assert.equal(left.leftOut.length, 20 - b.length);
});

test('aggregate: per-shard state (running, paused, interrupted, done, missing, stale) and totals by unit id', () => {
  const us = units(30);
  const n = 3;
  const ks = Uint32Array.from(us.map((u) => shardOf(u.id, n)));
  const of = (k: number) => us.filter((_, i) => ks[i] === k).map((u) => u.id);
  const now = 1_000_000;
  const base = newView(us.map((u) => u.id));
  for (const id of of(3)) for (const r of ended(id)) applyRecord(base, r); // shard 3's units done before sharding
  const v1 = newView(of(1));
  applyRecord(v1, { t: 'runner_start', ts: 1, pid: 10, host: 'node-a' });
  applyRecord(v1, { t: 'start', ts: 2, u: of(1)[0]!, a: 1 });
  applyRecord(v1, { t: 'pause', ts: 3, until: now + 60_000, src: 'u1' });
  const v2 = newView(of(2));
  applyRecord(v2, { t: 'runner_start', ts: 1, pid: 11, host: 'node-b' });
  for (const r of ended(of(2)[0]!)) applyRecord(v2, r);
  const agg = aggregateShards(
    us.map((u) => u.id),
    ks,
    base,
    n,
    [
      { k: 1, view: v1, runner: { pid: 10, host: 'node-a', heartbeatAgeMs: 1000, alive: true } },
      { k: 2, view: v2, runner: { pid: 11, host: 'node-b', heartbeatAgeMs: 300_000, alive: false } },
      { k: 3, view: undefined, runner: null },
    ],
    now,
  );
  assert.deepEqual(
    agg.shards.map((s) => [s.k, s.state, s.stale, s.host]),
    [
      [1, 'paused', false, 'node-a'],
      [2, 'interrupted', true, 'node-b'],
      [3, 'done', false, null],
    ],
  );
  assert.equal(agg.counts.passed, of(3).length + 1);
  assert.equal(agg.counts.running, 1);
  assert.equal(agg.status, 'paused_rate_limit');
  assert.equal(agg.rateLimitedUntil, now + 60_000);
  const none = aggregateShards(
    us.map((u) => u.id),
    ks,
    newView(us.map((u) => u.id)),
    n,
    [],
    now,
  );
  assert.deepEqual([none.status, none.shards.map((s) => s.state)], ['not_started', ['missing', 'missing', 'missing']]);
});

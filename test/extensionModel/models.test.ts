import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../../src/core/config/items';
import { expandUnits } from '../../src/core/config/units';
import { applyRecord, emptyCounts, newView } from '../../src/core/model/view';
import { countGroups, groupUnits } from '../../src/core/status/groupBy';
import { unitRows } from '../../src/extension/model/unitRows';
import {
  childrenOf,
  experimentDescription,
  shardDescription,
  shardsDescription,
  type Bucket,
  type ExperimentEntry,
} from '../../src/extension/model/treeModel';
import type { ShardReport } from '../../src/core/status/shards';
import { countdown, statusBarState, statusBarText } from '../../src/extension/model/statusBarState';
import { noticesFor } from '../../src/extension/model/notices';
import { NOW, report } from './reportFixture';

function entry(units: { id: string; group: string; status: Bucket }[], r = report()): ExperimentEntry {
  return { file: r.experimentFile, label: r.name, report: r, units: units.map((u) => ({ ...u, attempts: 1 })) };
}

test('tree: experiment → status buckets (non-empty only) → units, with paging', () => {
  const units = Array.from({ length: 1200 }, (_, i): { id: string; group: string; status: Bucket } => ({
    id: `u${i}`,
    group: '',
    status: i < 1100 ? 'passed' : 'error',
  }));
  const counts = { ...emptyCounts(), passed: 1100, error: 100 };
  const e = entry(units, report({ total: 1200, counts, groups: [{ group: '', total: 1200, counts }] }));
  const [exp] = childrenOf(undefined, [e], new Map(), 500);
  const buckets = childrenOf(exp, [e], new Map(), 500);
  assert.deepEqual(
    buckets.map((b) => b.kind === 'bucket' && [b.bucket, b.count]),
    [
      ['error', 100],
      ['passed', 1100],
    ],
  );
  const passed = buckets[1]!;
  const page1 = childrenOf(passed, [e], new Map(), 500);
  assert.equal(page1.length, 501);
  const more = page1.at(-1)!;
  assert.deepEqual(more.kind === 'more' && [more.shown, more.left], [500, 600]);
  const page3 = childrenOf(passed, [e], new Map([[passed.id, 3]]), 500);
  assert.equal(page3.length, 1100, 'all shown, no more row');
});

test('tree: matrix groups come between the experiment and the buckets', () => {
  const c1 = { ...emptyCounts(), passed: 2 };
  const c2 = { ...emptyCounts(), failed: 1, pending: 1 };
  const r = report({
    groups: [
      { group: 'sonnet', total: 2, counts: c1 },
      { group: 'haiku', total: 2, counts: c2 },
    ],
  });
  const e = entry(
    [
      { id: 'a/sonnet', group: 'sonnet', status: 'passed' },
      { id: 'b/sonnet', group: 'sonnet', status: 'passed' },
      { id: 'a/haiku', group: 'haiku', status: 'failed' },
      { id: 'b/haiku', group: 'haiku', status: 'pending' },
    ],
    r,
  );
  const [exp] = childrenOf(undefined, [e], new Map(), 500);
  const groups = childrenOf(exp, [e], new Map(), 500);
  assert.deepEqual(
    groups.map((g) => g.kind === 'group' && g.group),
    ['sonnet', 'haiku'],
  );
  const haikuBuckets = childrenOf(groups[1], [e], new Map(), 500);
  assert.deepEqual(
    haikuBuckets.map((b) => b.kind === 'bucket' && b.bucket),
    ['failed', 'pending'],
  );
  const failed = childrenOf(haikuBuckets[0], [e], new Map(), 500);
  assert.deepEqual(
    failed.map((u) => u.kind === 'unit' && u.unitId),
    ['a/haiku'],
  );
});

test('experiment description: progress, failures, ETA or state', () => {
  assert.equal(experimentDescription(report(), NOW), 'running · 412/1000 · 400 passed · 10 failed · 2 errors · ETA 1m02s');
  assert.equal(
    experimentDescription(report({ status: 'interrupted', etaMs: null }), NOW),
    'interrupted · 412/1000 · 400 passed · 10 failed · 2 errors',
  );
  assert.equal(experimentDescription(undefined, NOW), 'not started');
  // A worker run's workers while it goes: how many, and how many were replaced.
  assert.equal(
    experimentDescription(report({ workers: { live: 4, started: 6, restarts: 2 } }), NOW),
    'running · 412/1000 · 400 passed · 10 failed · 2 errors · ETA 1m02s · 4 workers · 2 restarts',
  );
  assert.equal(
    experimentDescription(report({ workers: { live: 1, started: 1, restarts: 0 } }), NOW),
    'running · 412/1000 · 400 passed · 10 failed · 2 errors · ETA 1m02s · 1 worker',
  );
});

test('status bar: hidden when idle, progress while running, countdown when paused (paused wins)', () => {
  assert.deepEqual(statusBarState([], NOW), { kind: 'hidden' });
  assert.deepEqual(statusBarState([report({ status: 'completed' })], NOW), { kind: 'hidden' });
  assert.deepEqual(
    statusBarState([report({ runner: { pid: 1, host: 'h', heartbeatAgeMs: 9e5, alive: false } })], NOW),
    { kind: 'hidden' },
    'a dead runner is not running',
  );
  const running = statusBarState([report()], NOW);
  assert.equal(statusBarText(running, NOW), '$(sync~spin) gsm8k 412/1000');
  const until = new Date(2026, 10, 22, 6, 0, 0).getTime();
  const paused = report({ name: 'other', status: 'paused_rate_limit', rateLimitedUntil: until, pauseSource: 'q-7/sonnet', pauseCount: 3 });
  const s = statusBarState([report(), paused], until - 14 * 60_000);
  assert.equal(s.kind, 'paused');
  assert.equal(statusBarText(s, until - 14 * 60_000), '$(watch) other: rate limited · resumes 06:00 (14m)');
  assert.equal(statusBarText(s, until - 30_000), '$(watch) other: rate limited · resumes 06:00 (30s)');
  assert.equal(
    statusBarText(statusBarState([paused], until + 1), until + 1),
    '$(sync~spin) other 412/1000',
    'past the reset, a live runner is running again',
  );
});

test('countdown text', () => {
  assert.deepEqual(
    [countdown(0), countdown(999), countdown(59_000), countdown(60_000), countdown(61_000), countdown(3_900_000)],
    ['0s', '1s', '59s', '1m', '2m', '1h05m'],
  );
});

test('notices: finished once on the transition, long pauses once per pause, interrupted runs found once', () => {
  const seen = new Set<string>();
  const s = { onFinish: true, pauseMinutes: 5, onInterruptedFound: true };
  const done = report({ status: 'completed', done: 1000 });
  assert.deepEqual(
    noticesFor(report(), done, NOW, s, seen).map((n) => n.kind),
    ['finished'],
  );
  assert.deepEqual(noticesFor(done, done, NOW, s, seen), [], 'not again');
  assert.deepEqual(noticesFor(undefined, done, NOW, s, seen), [], 'a run found already complete is no news');
  const spent = report({ status: 'budget_exhausted' });
  assert.deepEqual(
    noticesFor(report(), spent, NOW, s, seen).map((n) => n.kind),
    ['budgetReached'],
    'a live run that reached its budget',
  );
  assert.deepEqual(noticesFor(spent, spent, NOW, s, seen), [], 'not again');
  const paused = report({ status: 'paused_rate_limit', rateLimitedUntil: NOW + 10 * 60_000, pauseCount: 1 });
  assert.deepEqual(
    noticesFor(report(), paused, NOW, s, seen).map((n) => n.kind),
    ['longPause'],
  );
  assert.deepEqual(noticesFor(paused, paused, NOW, s, seen), []);
  const short = report({ status: 'paused_rate_limit', rateLimitedUntil: NOW + 60_000, pauseCount: 2 });
  assert.deepEqual(noticesFor(report(), short, NOW, s, seen), [], 'short pauses are not worth a notification');
  const dead = report({ status: 'interrupted', runner: { pid: 77, host: 'h', heartbeatAgeMs: 5e5, alive: false } });
  const found = noticesFor(undefined, dead, NOW, s, seen);
  assert.equal(found.length, 1);
  assert.match(found[0]!.kind === 'interruptedFound' ? found[0]!.why : '', /pid 77 on h\) is gone/);
  assert.deepEqual(noticesFor(undefined, dead, NOW, s, seen), []);
  const shard = {
    shard: '1of2',
    k: 1,
    n: 2,
    state: 'interrupted' as const,
    stale: false,
    total: 500,
    done: 200,
    counts: emptyCounts(),
    host: 'h',
    pid: 1,
    heartbeatAgeMs: null,
    rateLimitedUntil: null,
    rate: 0,
    spend: null,
    concurrency: null,
  };
  const sharded = report({
    status: 'interrupted',
    runner: null,
    lastActivity: NOW - 5,
    shards: [shard, { ...shard, shard: '2of2', k: 2 }],
  });
  assert.deepEqual(noticesFor(undefined, sharded, NOW, s, seen), [], 'shards are resumed by their scheduler, not offered a Resume here');
});

test('tree: a sharded run shows a Shards row (running/done/missing/stale) above the buckets, one row per shard', () => {
  const shard = (k: number, state: ShardReport['state'], over: Partial<ShardReport> = {}): ShardReport => ({
    shard: `${k}of3`,
    k,
    n: 3,
    state,
    stale: false,
    total: 10,
    done: state === 'done' ? 10 : 4,
    counts: emptyCounts(),
    host: state === 'missing' ? null : 'node-a',
    pid: 1,
    heartbeatAgeMs: 1000,
    rateLimitedUntil: null,
    rate: 0,
    spend: null,
    concurrency: null,
    ...over,
  });
  const shards = [shard(1, 'running'), shard(2, 'done'), shard(3, 'interrupted', { stale: true, host: 'node-b' })];
  const counts = { ...emptyCounts(), passed: 18, running: 2, pending: 10 };
  const e = entry([], report({ total: 30, counts, groups: [{ group: '', total: 30, counts }], shards }));
  const [exp] = childrenOf(undefined, [e], new Map(), 500);
  const kids = childrenOf(exp, [e], new Map(), 500);
  assert.deepEqual(
    kids.map((k) => k.kind),
    ['shards', 'bucket', 'bucket', 'bucket'],
  );
  assert.equal(shardsDescription(shards), '1 running · 1 done · 1 interrupted · 1 stale');
  const rows = childrenOf(kids[0], [e], new Map(), 500);
  assert.deepEqual(
    rows.map((r) => r.kind === 'shard' && shardDescription(r.shard)),
    ['running · 4/10 · node-a', 'done · 10/10 · node-a', 'interrupted · 4/10 · node-b · stale heartbeat'],
  );
  const plain = entry([], report());
  assert.ok(
    !childrenOf(childrenOf(undefined, [plain], new Map(), 500)[0], [plain], new Map(), 500).some((k) => k.kind === 'shards'),
    'no Shards row for a run that is not sharded',
  );
});

test('tree grouped by an item field (resumable.tree.groupBy): group rows from the report, their units from unitRows', () => {
  const item = (id: string, tier?: string): Item => ({ id, fields: tier ? { id, tier } : { id }, where: {} });
  const units = expandUnits([item('q1', 'T0'), item('q2', 'T1'), item('q3', 'T0'), item('q4')], {
    model: ['sonnet', 'haiku'],
  });
  const view = newView(units.map((u) => u.id));
  applyRecord(view, { t: 'end', ts: 1, u: 'q1/sonnet', a: 1, s: 'passed' });
  applyRecord(view, { t: 'end', ts: 2, u: 'q2/haiku', a: 1, s: 'failed' });
  const grouping = groupUnits(units, 'tier');
  const groups = countGroups(grouping, (i) => view.units.get(units[i]!.id)!.status);
  const r = report({ total: units.length, counts: { ...view.counts }, groups, groupBy: 'tier' });
  const e: ExperimentEntry = { file: r.experimentFile, label: r.name, report: r, units: unitRows(units, view, grouping.of) };
  const [exp] = childrenOf(undefined, [e], new Map(), 500);
  const rows = childrenOf(exp, [e], new Map(), 500);
  assert.deepEqual(
    rows.map((g) => g.kind === 'group' && [g.group, g.total]),
    [
      ['T0', 4],
      ['T1', 2],
      ['(none)', 2],
    ],
  );
  // Under each group row, exactly the units of that group, in their buckets.
  const unitsUnder = (g: (typeof rows)[number]) =>
    childrenOf(g, [e], new Map(), 500).flatMap((b) =>
      childrenOf(b, [e], new Map(), 500).map((u) => (u.kind === 'unit' && b.kind === 'bucket' ? `${b.bucket}:${u.unitId}` : '')),
    );
  assert.deepEqual(unitsUnder(rows[0]!), ['passed:q1/sonnet', 'pending:q1/haiku', 'pending:q3/sonnet', 'pending:q3/haiku']);
  assert.deepEqual(unitsUnder(rows[1]!), ['failed:q2/haiku', 'pending:q2/sonnet']);
  assert.deepEqual(unitsUnder(rows[2]!), ['pending:q4/sonnet', 'pending:q4/haiku']);
  // The default (matrix cell) still groups by model.
  const byCell = groupUnits(units, '');
  assert.deepEqual(
    unitRows(units, view, byCell.of).map((u) => u.group),
    units.map((u) => u.group),
  );
});

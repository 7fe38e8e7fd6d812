import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunReport } from '../../src/core/status/report';
import type { ShardReport } from '../../src/core/status/shards';
import { emptyCounts } from '../../src/core/model/view';
import {
  childrenOf,
  experimentDescription,
  groupDescription,
  groupTooltip,
  shardDescription,
  shardsDescription,
  statusText,
  type ExperimentEntry,
} from '../../src/extension/model/treeModel';
import { statusBarState } from '../../src/extension/model/statusBarState';
import { NOW, report } from './reportFixture';

// Spend, budget and the adaptive concurrency in the tree's rows and the status bar's tooltip.

const SPENDING: Partial<RunReport> = {
  spend: { usd: 0.42, tokens: 120_000, attempts: 420 },
  projected: { usd: 1.1, tokens: 310_000, attempts: 1008 },
  concurrency: { limit: 6, max: 32 },
};

test('experiment row: the spend, and the limit of a live run that adapts', () => {
  const head = 'running · 412/1000 · 400 passed · 10 failed · 2 errors · ETA 1m02s';
  assert.equal(experimentDescription(report(SPENDING), NOW), `${head} · $0.420 · concurrency 6/32`);
  assert.equal(
    experimentDescription(report({ ...SPENDING, concurrency: { limit: 32, max: 32 } }), NOW),
    `${head} · $0.420`,
    'at its full limit: nothing to say',
  );
  assert.equal(experimentDescription(report({ spend: { usd: 0, tokens: 45_600, attempts: 3 } }), NOW), `${head} · 45.6k tokens`);
  assert.equal(experimentDescription(report(), NOW), head, 'no spend reported: as before');
});

test('a run stopped on its budget: "budget reached", spent of the budget', () => {
  const r = report({
    status: 'budget_exhausted',
    runner: null,
    etaMs: null,
    spend: { usd: 5.01, tokens: 0, attempts: 500 },
    projected: { usd: 10.2, tokens: 0, attempts: 1008 },
    budget: { maxCostUSD: 5 },
  });
  assert.equal(experimentDescription(r, NOW), 'budget reached · 412/1000 · 400 passed · 10 failed · 2 errors · $5.01 of $5.00');
  assert.equal(statusText('budget_exhausted'), 'budget reached');
  assert.equal(statusText('paused_rate_limit'), 'rate limited');
  assert.equal(statusText('not_started'), 'not started');
  assert.deepEqual(statusBarState([r], NOW), { kind: 'hidden' }, 'not live: no status bar');
});

test('group rows: their units spend in the description and the tooltip', () => {
  const c1 = { ...emptyCounts(), passed: 2, pending: 2 };
  const c2 = { ...emptyCounts(), failed: 1, pending: 3 };
  const r = report({
    total: 8,
    counts: { ...emptyCounts(), passed: 2, failed: 1, pending: 5 },
    groups: [
      { group: 'sonnet', total: 4, counts: c1, spend: { usd: 0.75, tokens: 3000 } },
      { group: 'haiku', total: 4, counts: c2, spend: { usd: 0, tokens: 0 } },
    ],
  });
  const e: ExperimentEntry = { file: r.experimentFile, label: r.name, report: r, units: [] };
  const [exp] = childrenOf(undefined, [e], new Map(), 500);
  const groups = childrenOf(exp, [e], new Map(), 500);
  assert.deepEqual(
    groups.map((g) => g.kind === 'group' && [g.group, groupDescription(g), groupTooltip(g, undefined)]),
    [
      ['sonnet', '2/4 · 100% passed · $0.750', 'matrix cell: sonnet\nSpent $0.750 · 3000 tokens'],
      ['haiku', '1/4 · 0% passed', 'matrix cell: haiku'],
    ],
  );
  assert.equal(groupTooltip({ group: 'T0' }, 'tier'), 'tier: T0');
});

test('shard rows: spend and limit; a shard stopped on the budget says so', () => {
  const shard: ShardReport = {
    shard: '1of2',
    k: 1,
    n: 2,
    state: 'running',
    stale: false,
    total: 500,
    done: 200,
    counts: emptyCounts(),
    host: 'node-a',
    pid: 1,
    heartbeatAgeMs: 1000,
    rateLimitedUntil: null,
    rate: 1,
    spend: { usd: 0.125, tokens: 900, attempts: 200 },
    concurrency: { limit: 3, max: 8, rpm: 60 },
  };
  assert.equal(shardDescription(shard), 'running · 200/500 · node-a · $0.125 · concurrency 3/8');
  assert.equal(
    shardDescription({ ...shard, state: 'budget_exhausted', concurrency: null, spend: null }),
    'budget reached · 200/500 · node-a',
  );
  assert.equal(shardsDescription([shard, { ...shard, k: 2, state: 'budget_exhausted' }]), '1 running · 0 done · 1 budget reached');
});

test('status bar tooltip: spend and concurrency lines, running or paused; none when there is nothing to say', () => {
  const running = statusBarState([report({ ...SPENDING, budget: { maxCostUSD: 5 } })], NOW);
  assert.equal(running.kind, 'running');
  assert.deepEqual(running.kind === 'running' && running.details, [
    'Spent $0.420 of budget $5.00 · 120.0k tokens (projected $1.10 at completion)',
    'concurrency 6/32, adapting',
  ]);
  const paused = statusBarState(
    [
      report({
        ...SPENDING,
        concurrency: { limit: 2, max: 32, rpm: 240 },
        status: 'paused_rate_limit',
        rateLimitedUntil: NOW + 60_000,
        pauseSource: 'q-7/sonnet',
        pauseCount: 1,
      }),
    ],
    NOW,
  );
  assert.deepEqual(paused.kind === 'paused' && paused.details, [
    'Spent $0.420 · 120.0k tokens (projected $1.10 at completion)',
    'concurrency 2/32, adapting · paced 240/min',
  ]);
  const plain = statusBarState([report()], NOW);
  assert.deepEqual(plain.kind === 'running' && plain.details, []);
});

import type { RunStatus } from '../store/events';
import { LOCK_STALE_MS } from '../store/lock';
import { doneCount, emptyCounts, type ConcurrencyView, type Counts, type RunView, type Spend, type UnitView } from '../model/view';
import { etaOfView } from '../model/eta';
import { UnitTable } from '../model/unitTable';
import { addConcurrency, addSpend, noSpend, spendOrNull } from './spendAndConcurrency';

/** Where one shard of a sharded run stands. */
export interface ShardReport {
  readonly shard: string;
  readonly k: number;
  readonly n: number;
  /**
   * `missing`: never started (no journal) and not done; `stale`: says running, heartbeat too old;
   * `budget_exhausted`: its runner stopped on the run's spend limit, units left.
   */
  readonly state: 'running' | 'paused' | 'interrupted' | 'budget_exhausted' | 'done' | 'failed' | 'missing';
  readonly stale: boolean;
  readonly total: number;
  readonly done: number;
  readonly counts: Counts;
  readonly host: string | null;
  readonly pid: number | null;
  readonly heartbeatAgeMs: number | null;
  readonly rateLimitedUntil: number | null;
  readonly rate: number;
  /** What this shard's attempts spent, by its own journal (null: none reported spend). */
  readonly spend: Spend | null;
  /** Its adaptive limit in force, while it runs (null: not running, or at its fixed concurrency). */
  readonly concurrency: ConcurrencyView | null;
}

/** What the follower knows of one shard: its journal's view (its units only) and its lock. */
export interface ShardInput {
  readonly k: number;
  readonly view: RunView | undefined;
  readonly runner: { readonly pid: number; readonly host: string; readonly heartbeatAgeMs: number | null; readonly alive: boolean } | null;
}

export interface ShardedAggregate {
  readonly units: UnitTable;
  readonly counts: Counts;
  readonly shards: ShardReport[];
  readonly status: RunStatus | 'not_started';
  readonly rate: number;
  readonly rateLimitedUntil: number | null;
  /** Every attempt's spend: the whole run's journal and every shard's, added up. */
  readonly spend: Spend;
  /** The live shards' adaptive limits added up (null: no live shard adapts). */
  readonly concurrency: ConcurrencyView | null;
}

/** A shard journal that never mentions a unit leaves it as the whole run's journal says. */
function touched(u: UnitView | undefined): u is UnitView {
  return u !== undefined && (u.status !== 'pending' || u.attempts > 0 || u.lastEnd !== undefined);
}

/**
 * One view of a sharded run, by unit id (never by adding up counts): each unit's status
 * comes from its own shard's journal, or from the whole run's journal (an earlier unsharded
 * run or a merge) when its shard has not touched it. Pure; `shardOfUnit[i]` is units[i]'s shard
 * (computed once by the caller: hashing a million ids on every poll would not be cheap).
 */
export function aggregateShards(
  ids: readonly string[],
  shardOfUnit: ArrayLike<number>,
  base: RunView,
  n: number,
  inputs: readonly ShardInput[],
  now: number,
): ShardedAggregate {
  const byK = new Map(inputs.map((i) => [i.k, i]));
  const perShard = Array.from({ length: n }, () => ({ total: 0, counts: emptyCounts() }));
  const merged = new UnitTable(ids);
  const counts = emptyCounts();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    const k = shardOfUnit[i]!;
    const own = byK.get(k)?.view?.units.get(id);
    const fromBase = base.units.get(id);
    const v = touched(own) ? withBaseSpend(own, fromBase) : (fromBase ?? { status: 'pending' as const, attempts: 0 });
    merged.put(i, v);
    counts[v.status]++;
    perShard[k - 1]!.total++;
    perShard[k - 1]!.counts[v.status]++;
  }
  let rate = 0;
  let rateLimitedUntil: number | null = null;
  const spend = addSpend(noSpend(), base.spend);
  let concurrency: ConcurrencyView | null = null;
  const shards: ShardReport[] = perShard.map((p, i) => {
    const k = i + 1;
    const input = byK.get(k);
    const view = input?.view;
    const runner = input?.runner ?? null;
    const live = runner?.alive === true;
    const done = doneCount(p.counts);
    const paused = live && view?.pause !== undefined && view.pause.until > now;
    let state: ShardReport['state'];
    if (live) state = paused ? 'paused' : 'running';
    else if (done === p.total) state = 'done';
    else if (!view || view.sessions === 0) state = 'missing';
    else if (view.lastStatus === 'failed' || view.lastStatus === 'budget_exhausted') state = view.lastStatus;
    else state = 'interrupted';
    if (view) addSpend(spend, view.spend);
    const shardConcurrency = live && view?.concurrency ? { ...view.concurrency } : null;
    if (shardConcurrency) concurrency = addConcurrency(concurrency, shardConcurrency);
    const shardRate = live && view ? etaOfView(view, now).rate : 0;
    rate += shardRate;
    if (paused && (rateLimitedUntil === null || view.pause!.until > rateLimitedUntil)) rateLimitedUntil = view.pause!.until;
    return {
      shard: `${k}of${n}`,
      k,
      n,
      state,
      stale: runner !== null && runner.heartbeatAgeMs !== null && runner.heartbeatAgeMs > LOCK_STALE_MS,
      total: p.total,
      done,
      counts: p.counts,
      host: runner?.host ?? view?.runner?.host ?? null,
      pid: runner?.pid ?? view?.runner?.pid ?? null,
      heartbeatAgeMs: runner?.heartbeatAgeMs ?? null,
      rateLimitedUntil: paused ? view.pause!.until : null,
      rate: shardRate,
      spend: spendOrNull(view?.spend),
      concurrency: shardConcurrency,
    };
  });
  let status: ShardedAggregate['status'];
  const live = shards.filter((s) => s.state === 'running' || s.state === 'paused');
  if (live.length > 0) status = live.every((s) => s.state === 'paused') ? 'paused_rate_limit' : 'running';
  else if (doneCount(counts) === ids.length) status = 'completed';
  else if (shards.some((s) => s.state === 'failed')) status = 'failed';
  else if (shards.some((s) => s.state === 'budget_exhausted')) status = 'budget_exhausted';
  else if (shards.some((s) => s.state !== 'missing') || base.sessions > 0) status = 'interrupted';
  else status = 'not_started';
  return { units: merged, counts, shards, status, rate, rateLimitedUntil, spend, concurrency };
}

/** A unit its shard ran after the whole run's journal had it (an earlier unsharded run): every attempt's spend counts. */
function withBaseSpend(own: UnitView, base: UnitView | undefined): UnitView {
  if (base?.usd === undefined && base?.tok === undefined) return own;
  return {
    ...own,
    ...(base.usd !== undefined ? { usd: (own.usd ?? 0) + base.usd } : {}),
    ...(base.tok !== undefined ? { tok: (own.tok ?? 0) + base.tok } : {}),
  };
}

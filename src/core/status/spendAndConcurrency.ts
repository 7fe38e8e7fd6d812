import type { Snapshot } from '../model/snapshot';
import type { ConcurrencyView, Spend } from '../model/view';

/** The run's spend limits as a report shows them (null: none set). */
export interface Budget {
  readonly maxCostUSD?: number;
  readonly maxTokens?: number;
}

export function noSpend(): Spend {
  return { usd: 0, tokens: 0, attempts: 0 };
}

/** Adds `s` into `into` (every attempt counts: an earlier session's, a shard's). Returns `into`. */
export function addSpend(into: Spend, s: Spend | null | undefined): Spend {
  if (!s) return into;
  into.usd += s.usd;
  into.tokens += s.tokens;
  into.attempts += s.attempts;
  return into;
}

/** A copy for a report, or null when no attempt reported a cost or tokens. */
export function spendOrNull(s: Spend | null | undefined): Spend | null {
  return s && s.attempts > 0 ? { usd: s.usd, tokens: s.tokens, attempts: s.attempts } : null;
}

/** Two shards' adaptive limits as one: what the fleet may have in flight, and its paced rate. */
export function addConcurrency(a: ConcurrencyView | null, b: ConcurrencyView): ConcurrencyView {
  if (!a) return { ...b };
  const rpm = a.rpm === undefined && b.rpm === undefined ? undefined : (a.rpm ?? 0) + (b.rpm ?? 0);
  return rpm === undefined ? { limit: a.limit + b.limit, max: a.max + b.max } : { limit: a.limit + b.limit, max: a.max + b.max, rpm };
}

/**
 * The spend limits in force: state.json's (written by the runner of the latest session, so a
 * raised budget shows as soon as the run resumes), else the frozen config's (a run folder of an
 * older version has neither). Null when no limit is set.
 */
export function budgetOf(snapshot: Snapshot['budget'] | undefined, frozen: Budget | undefined): Budget | null {
  const b = snapshot !== undefined ? snapshot : frozen;
  if (!b) return null;
  const out: { maxCostUSD?: number; maxTokens?: number } = {};
  if (typeof b.maxCostUSD === 'number') out.maxCostUSD = b.maxCostUSD;
  if (typeof b.maxTokens === 'number') out.maxTokens = b.maxTokens;
  return out.maxCostUSD === undefined && out.maxTokens === undefined ? null : out;
}

/** The limit in state.json, when the live runner wrote it and its journal line is not read yet. */
export function liveSnapshotConcurrency(
  snapshot: Snapshot | undefined,
  runner: { readonly pid: number; readonly host: string } | null,
): ConcurrencyView | null {
  if (!snapshot?.concurrency || !runner || snapshot.pid !== runner.pid || snapshot.host !== runner.host) return null;
  return snapshot.status === 'running' || snapshot.status === 'paused_rate_limit' ? { ...snapshot.concurrency } : null;
}

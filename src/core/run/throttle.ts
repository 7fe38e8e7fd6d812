import type { Experiment } from '../config/schema';
import type { AttemptResult } from '../exec/attempt';
import { AdaptiveLimit } from '../ratelimit/adaptive';
import { TokenBucket } from '../ratelimit/tokenBucket';
import { formatCount, formatUsd } from '../model/spendText';
import type { Spend } from '../model/view';

/** What the other shards of the run are doing, as their files in the run folder last said. */
export interface FleetFacts {
  /** Shards alive now, this one included (1 without shards). */
  readonly liveShards: number;
  /** Spent by the other shards, their units in flight, and the goodput (units a second) the live ones measured. */
  readonly others: { readonly usd: number; readonly tokens: number; readonly inFlight: number; readonly goodput: number };
}

export const NO_FLEET: FleetFacts = { liveShards: 1, others: { usd: 0, tokens: 0, inFlight: 0, goodput: 0 } };

export type BudgetGate = { kind: 'go' } | { kind: 'hold' } | { kind: 'exhausted'; why: string };

/**
 * Everything that decides when the next unit may go, beside the fixed concurrency and a
 * rate-limit pause: the adaptive limit, the per-minute budgets (split over live shards) and
 * the spend limits (summed over the fleet). The scheduler asks; it knows nothing of files.
 */
export class Throttle {
  readonly adaptive: AdaptiveLimit;
  private readonly requests: TokenBucket | undefined;
  private readonly tokens: TokenBucket | undefined;
  private shares = 1;

  constructor(
    max: number,
    private readonly config: Pick<Experiment, 'rateLimit' | 'budget'>,
    private readonly spend: () => Spend,
    private readonly fleet: () => FleetFacts,
    now: number,
  ) {
    this.adaptive = new AdaptiveLimit(max, config.rateLimit.adaptive, now, () => {
      const f = this.fleet();
      return f.liveShards > 1 ? { others: f.others.goodput, live: f.liveShards } : undefined;
    });
    const rpm = config.rateLimit.requestsPerMinute;
    const tpm = config.rateLimit.tokensPerMinute;
    if (rpm !== undefined) this.requests = new TokenBucket(rpm / 60, requestBurst(rpm), now);
    if (tpm !== undefined) this.tokens = new TokenBucket(tpm / 60, tpm / 6, now);
  }

  /** Units allowed in flight now. */
  get limit(): number {
    return this.adaptive.limit;
  }

  /** ms before the next dispatch may go (0: now). */
  delayMs(now: number): number {
    // Per dispatch: the fleet is asked only when a per-minute budget is to be shared.
    if (this.requests || this.tokens) this.followShares(now);
    const paced = this.adaptive.delayMs(now);
    const req = this.requests?.delayMs(1, now) ?? 0;
    const tok = this.tokens?.delayMs(Math.max(1, this.meanTokens()), now) ?? 0;
    return Math.max(paced, req, tok);
  }

  /** Returns the tokens reserved for the unit (settled at its end). */
  dispatched(now: number): number {
    this.adaptive.dispatched(now);
    this.requests?.take(1, now);
    const reserved = this.tokens ? this.meanTokens() : 0;
    this.tokens?.take(reserved, now);
    return reserved;
  }

  /** True when the adaptive limit shown changed (worth a journal line). */
  ended(result: AttemptResult, startedAt: number, reserved: number, now: number): boolean {
    // The reservation made at dispatch is settled with what the attempt reported.
    if (this.tokens) {
      this.tokens.give(reserved, now);
      this.tokens.take(result.usage?.tok ?? 0, now);
    }
    // A quota is not an overload: slowing down does not help, the run parks.
    if (result.status === 'rate_limited') return result.quota === undefined && this.adaptive.rateLimited(startedAt, now);
    if (result.status === 'passed' || result.status === 'failed') return this.adaptive.succeeded(startedAt, now);
    return false;
  }

  /**
   * The spend limits: `hold` while the units in flight (of every shard, at the mean cost so
   * far) could reach the limit, `exhausted` once the spend has reached it.
   */
  budget(inFlight: number): BudgetGate {
    const b = this.config.budget;
    if (b.maxCostUSD === undefined && b.maxTokens === undefined) return { kind: 'go' };
    const mine = this.spend();
    const { others } = this.fleet();
    const usd = mine.usd + others.usd;
    const tokens = mine.tokens + others.tokens;
    if (b.maxCostUSD !== undefined && usd >= b.maxCostUSD)
      return { kind: 'exhausted', why: `spent ${formatUsd(usd)} of budget.maxCostUSD = ${formatUsd(b.maxCostUSD)}` };
    if (b.maxTokens !== undefined && tokens >= b.maxTokens)
      return { kind: 'exhausted', why: `used ${formatCount(tokens)} tokens of budget.maxTokens = ${formatCount(b.maxTokens)}` };
    if (mine.attempts === 0) return { kind: 'go' };
    const coming = inFlight + others.inFlight + 1;
    const perAttempt = { usd: mine.usd / mine.attempts, tokens: mine.tokens / mine.attempts };
    if (b.maxCostUSD !== undefined && usd + coming * perAttempt.usd > b.maxCostUSD) return { kind: 'hold' };
    if (b.maxTokens !== undefined && tokens + coming * perAttempt.tokens > b.maxTokens) return { kind: 'hold' };
    return { kind: 'go' };
  }

  /** A per-minute budget is the whole run's: each live shard takes its share. */
  private followShares(now: number): void {
    const shares = Math.max(1, this.fleet().liveShards);
    if (shares === this.shares) return;
    this.shares = shares;
    const rpm = this.config.rateLimit.requestsPerMinute;
    const tpm = this.config.rateLimit.tokensPerMinute;
    if (rpm !== undefined) this.requests!.setRate(rpm / 60 / shares, requestBurst(rpm / shares), now);
    if (tpm !== undefined) this.tokens!.setRate(tpm / 60 / shares, tpm / 6 / shares, now);
  }

  private meanTokens(): number {
    const s = this.spend();
    return s.attempts > 0 ? s.tokens / s.attempts : 0;
  }
}

/**
 * Requests are paced evenly, one at a time: a burst on top of the steady rate is what a
 * sliding-window limit answers with 429s (a burst of a second's worth, then the rate, put 7
 * requests in a second under a limit of 5).
 */
function requestBurst(_rpm: number): number {
  return 1;
}

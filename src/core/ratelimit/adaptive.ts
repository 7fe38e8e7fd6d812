import { TokenBucket } from './tokenBucket';

/** A rate limit keeps this share of the units in flight. */
const CUT = 0.7;
/**
 * The paced rate after a cut follows TCP CUBIC's curve over the goodput measured at the cut
 * (wMax): 90% of it at once, back to it after K = 10 s, flat around it (where the limit was
 * met), then faster and faster above it (the limit may have been raised, or the measure was
 * low). rate(t) = wMax · (1 + C·(t − K)³), t in seconds since the cut.
 */
const CUBIC_C = 1e-4;
const CUBIC_K = Math.cbrt(0.1 / CUBIC_C);
/** Successes over this window measure the goodput a rate limit was hit at. */
const GOODPUT_WINDOW_MS = 5000;
/** Fewer successes than this in the window: no goodput measured, the cut is to concurrency only. */
const MIN_SUCCESSES = 4;
const MIN_SPAN_MS = 1000;

export class AdaptiveLimit {
  private c: number;
  private lastCutAt = -Infinity;
  /** Goodput (units a second) measured at the last cut, and when that was (monotonic): the pace follows from them. */
  private wMax = Infinity;
  private wMaxAt = 0;
  /** The paced rate last reported as a change (a journal line per 10% of growth, not per success). */
  private reportedRate = Infinity;
  private pacer: TokenBucket | undefined;
  /** Mean time a success took (ms, exponentially weighted): what the paced rate needs in flight. */
  private latencyMs = 0;
  /** End times of successes in the goodput window. */
  private readonly okEnds: number[] = [];
  private lastEventAt = 0;

  constructor(
    readonly max: number,
    readonly enabled: boolean,
    now: number,
    /**
     * Shards of one run: the goodput the other live shards measured, and how many shards are
     * live (this one included). A cut then paces each shard at an equal share of the fleet's
     * goodput: paced from its own, each of three shards took its ramp-up as the limit (75%).
     */
    private readonly fleet?: () => { readonly others: number; readonly live: number } | undefined,
  ) {
    this.c = max;
    this.lastEventAt = now;
  }

  /** Units allowed in flight now. */
  get limit(): number {
    return this.enabled ? Math.max(1, Math.floor(this.c)) : this.max;
  }

  /** Paced dispatches a second at `now` (monotonic), Infinity when no rate limit has been seen. */
  rateAt(now: number): number {
    if (!this.enabled || !Number.isFinite(this.wMax)) return Infinity;
    const t = Math.max(0, now - this.wMaxAt) / 1000;
    return this.wMax * (1 + CUBIC_C * (t - CUBIC_K) ** 3);
  }

  /** The paced rate as of the last event. */
  get rate(): number {
    return this.rateAt(this.lastEventAt);
  }

  get adapting(): boolean {
    return this.enabled && (this.limit < this.max || Number.isFinite(this.wMax));
  }

  /** ms before the next dispatch may go (0: now). */
  delayMs(now: number): number {
    if (!this.pacer) return 0;
    this.followCurve(now);
    return this.pacer.delayMs(1, now);
  }

  dispatched(now: number): void {
    if (this.pacer) this.pacer.take(1, now);
  }

  private followCurve(now: number): void {
    const r = this.rateAt(now);
    this.pacer!.setRate(r, Math.max(1, r * 0.2), now);
  }

  /** A unit that passed or failed (the API answered). True when the limit shown changed. */
  succeeded(startedAt: number, now: number): boolean {
    if (!this.enabled) return false;
    this.okEnds.push(now);
    this.latencyMs = this.latencyMs === 0 ? now - startedAt : this.latencyMs * 0.9 + (now - startedAt) * 0.1;
    while (this.okEnds.length > 0 && this.okEnds[0]! < now - GOODPUT_WINDOW_MS) this.okEnds.shift();
    this.lastEventAt = now;
    if (startedAt < this.lastCutAt) return false;
    const before = this.limit;
    this.c = Math.min(this.max, this.c + 1 / Math.max(1, this.c));
    const r = this.rateAt(now);
    if (Number.isFinite(r) && r > this.reportedRate * 1.1) {
      this.reportedRate = r;
      return true;
    }
    return this.limit !== before;
  }

  /** A rate-limit answer from a unit started at `startedAt`; true when it cut (a new round). */
  rateLimited(startedAt: number, now: number): boolean {
    this.lastEventAt = Math.max(this.lastEventAt, now);
    if (!this.enabled || startedAt < this.lastCutAt) return false;
    this.cut(now);
    return true;
  }

  /**
   * Another shard of the run was cut: the API key is shared, so this one slows down too, but
   * at most once per K seconds of its own: the shards are one flow, and a cut of every shard
   * at each shard's cut compounded (three shards paced at 35% of the limit).
   */
  cutByFleet(now: number): boolean {
    if (!this.enabled || now - this.lastCutAt < CUBIC_K * 1000) return false;
    this.cut(now);
    return true;
  }

  /** Successes a second over the last 5 s, or undefined when too few to say. */
  goodput(now: number): number | undefined {
    while (this.okEnds.length > 0 && this.okEnds[0]! < now - GOODPUT_WINDOW_MS) this.okEnds.shift();
    const n = this.okEnds.length;
    // Between the window's first and last success: a run that just started is not measured
    // over the seconds before its first unit ended (that halved the estimate); over at least a
    // second, so that a burst of ends within milliseconds is not read as thousands a second.
    if (n < MIN_SUCCESSES) return undefined;
    const span = Math.max(MIN_SPAN_MS, this.okEnds[n - 1]! - this.okEnds[0]!);
    return ((n - 1) / span) * 1000;
  }

  private cut(now: number): void {
    this.lastCutAt = now;
    this.lastEventAt = now;
    this.c = Math.max(1, this.c * CUT);
    const own = this.goodput(now);
    if (own === undefined) return;
    const f = this.fleet?.();
    this.wMax = f && f.live > 1 ? (own + f.others) / f.live : own;
    this.wMaxAt = now;
    const paceRate = this.rateAt(now);
    this.reportedRate = paceRate;
    // Once paced, the rate is what limits: cut further, the units in flight would hold the run
    // under the pace it just measured (16 → 2.7 in five cuts, at 70% of the allowed rate).
    this.c = Math.min(this.max, Math.max(this.c, Math.ceil(((paceRate * this.latencyMs) / 1000) * 1.5)));
    const capacity = Math.max(1, paceRate * 0.2);
    if (this.pacer) this.pacer.setRate(paceRate, capacity, now);
    else this.pacer = new TokenBucket(paceRate, capacity, now);
    // The round that hit the limit spent the bucket: start it empty.
    this.pacer.take(capacity, now);
  }
}

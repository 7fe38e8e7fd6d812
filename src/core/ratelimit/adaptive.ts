import { TokenBucket } from './tokenBucket';

/** A rate limit keeps this share of the units in flight, and of the measured goodput as the paced rate. */
const CUT = 0.7;
const PACE_CUT = 0.9;
/** After a cut the paced rate grows by this share of the cut rate per second of successes. */
const PACE_GROWTH_PER_S = 0.01;
/** Successes over this window measure the goodput a rate limit was hit at. */
const GOODPUT_WINDOW_MS = 5000;
/** Under this much history the goodput is not measured: the cut is to concurrency only. */
const MIN_WINDOW_MS = 500;

/**
 * AIMD over two knobs (docs/architecture.md, "Rate limits"): the units allowed in flight and
 * a paced dispatch rate. A rate limit cuts both, once per round: an answer from a unit started
 * before the last cut is the same overload seen late, not a new one (TCP's rule). The paced
 * rate starts unbounded and is set at the first cut to the goodput measured just before it:
 * the rate the API allowed. Successes then raise the limit by one per round of units in flight
 * and the rate by 1% of the cut rate a second, so the run probes upward slowly and the
 * share of requests answered 429 stays small. Pure: time is passed in (monotonic ms).
 */
export class AdaptiveLimit {
  private c: number;
  private lastCutAt = -Infinity;
  private paceRate = Infinity;
  private cutRate = 0;
  /** The paced rate last reported as a change (a journal line per 10% of growth, not per success). */
  private reportedRate = Infinity;
  private pacer: TokenBucket | undefined;
  /** End times of successes in the goodput window. */
  private readonly okEnds: number[] = [];
  private readonly startedAt: number;

  constructor(
    readonly max: number,
    readonly enabled: boolean,
    now: number,
  ) {
    this.c = max;
    this.startedAt = now;
  }

  /** Units allowed in flight now. */
  get limit(): number {
    return this.enabled ? Math.max(1, Math.floor(this.c)) : this.max;
  }

  /** Paced dispatches a second, Infinity when no rate limit has been seen. */
  get rate(): number {
    return this.enabled ? this.paceRate : Infinity;
  }

  get adapting(): boolean {
    return this.enabled && (this.limit < this.max || Number.isFinite(this.paceRate));
  }

  /** ms before the next dispatch may go (0: now). */
  delayMs(now: number): number {
    return this.pacer && Number.isFinite(this.paceRate) ? this.pacer.delayMs(1, now) : 0;
  }

  dispatched(now: number): void {
    if (this.pacer && Number.isFinite(this.paceRate)) this.pacer.take(1, now);
  }

  /** A unit that passed or failed (the API answered). True when the limit shown changed. */
  succeeded(startedAt: number, now: number): boolean {
    if (!this.enabled) return false;
    this.okEnds.push(now);
    while (this.okEnds.length > 0 && this.okEnds[0]! < now - GOODPUT_WINDOW_MS) this.okEnds.shift();
    if (startedAt < this.lastCutAt) return false;
    const before = this.limit;
    this.c = Math.min(this.max, this.c + 1 / Math.max(1, this.c));
    if (Number.isFinite(this.paceRate)) {
      this.paceRate += (this.cutRate * PACE_GROWTH_PER_S) / Math.max(this.paceRate, 1e-3);
      this.pacer!.setRate(this.paceRate, Math.max(1, this.paceRate * 0.2), now);
      if (this.paceRate > this.reportedRate * 1.1) {
        this.reportedRate = this.paceRate;
        return true;
      }
    }
    return this.limit !== before;
  }

  /** A rate-limit answer from a unit started at `startedAt`; true when it cut (a new round). */
  rateLimited(startedAt: number, now: number): boolean {
    if (!this.enabled || startedAt < this.lastCutAt) return false;
    this.cut(now);
    return true;
  }

  /** Another shard of the run was cut: the API key is shared, so this one slows down too. */
  cutByFleet(now: number): boolean {
    if (!this.enabled || now - this.lastCutAt < 1000) return false;
    this.cut(now);
    return true;
  }

  private cut(now: number): void {
    this.lastCutAt = now;
    this.c = Math.max(1, this.c * CUT);
    while (this.okEnds.length > 0 && this.okEnds[0]! < now - GOODPUT_WINDOW_MS) this.okEnds.shift();
    const span = Math.min(GOODPUT_WINDOW_MS, now - this.startedAt);
    if (span < MIN_WINDOW_MS || this.okEnds.length < 2) return;
    const goodput = (this.okEnds.length / span) * 1000;
    this.paceRate = Math.min(this.paceRate, goodput) * PACE_CUT;
    this.cutRate = this.paceRate;
    this.reportedRate = this.paceRate;
    const capacity = Math.max(1, this.paceRate * 0.2);
    if (this.pacer) this.pacer.setRate(this.paceRate, capacity, now);
    else this.pacer = new TokenBucket(this.paceRate, capacity, now);
    // The round that hit the limit spent the bucket: start it empty.
    this.pacer.take(capacity, now);
  }
}

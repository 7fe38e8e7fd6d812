/**
 * A token bucket on a monotonic clock (ms): `rate` tokens a second, at most `capacity` kept.
 * The level may go below zero: an attempt that used more tokens than reserved is a debt the
 * refill pays before the next dispatch.
 */
export class TokenBucket {
  private level: number;
  private last: number;

  constructor(
    private rate: number,
    private capacity: number,
    now: number,
  ) {
    this.level = capacity;
    this.last = now;
  }

  /** Changes the rate (a shard joined or left the fleet) keeping what is in the bucket. */
  setRate(rate: number, capacity: number, now: number): void {
    this.refill(now);
    this.rate = rate;
    this.capacity = capacity;
    this.level = Math.min(this.level, capacity);
  }

  /** ms until `need` tokens are there (0: now). */
  delayMs(need: number, now: number): number {
    this.refill(now);
    const want = Math.min(need, this.capacity);
    if (this.level >= want - 1e-9) return 0;
    return Math.max(1, Math.ceil(((want - this.level) / this.rate) * 1000));
  }

  take(n: number, now: number): void {
    this.refill(now);
    this.level -= n;
  }

  give(n: number, now: number): void {
    this.refill(now);
    this.level = Math.min(this.capacity, this.level + n);
  }

  private refill(now: number): void {
    if (now > this.last) this.level = Math.min(this.capacity, this.level + ((now - this.last) / 1000) * this.rate);
    this.last = Math.max(this.last, now);
  }
}

import type { Unit } from '../config/units';

/**
 * What is left to dispatch, in order: units put back first in line (rate-limited, or not
 * started through no fault of theirs), then retries whose backoff is over, then the plan.
 */
export class UnitQueue {
  private next = 0;
  private readonly front: Unit[] = [];
  /** `readyAt` on the monotonic clock, soonest first. */
  private readonly retries: { unit: Unit; readyAt: number }[] = [];

  constructor(private readonly plan: readonly Unit[]) {}

  get empty(): boolean {
    return this.front.length === 0 && this.retries.length === 0 && this.next >= this.plan.length;
  }

  /** When the soonest retry is ready (monotonic), if one waits. */
  get nextRetryAt(): number | undefined {
    return this.retries[0]?.readyAt;
  }

  hasReady(now: number): boolean {
    return this.front.length > 0 || (this.retries.length > 0 && this.retries[0]!.readyAt <= now) || this.next < this.plan.length;
  }

  take(now: number): Unit | undefined {
    const f = this.front.shift();
    if (f) return f;
    if (this.retries.length > 0 && this.retries[0]!.readyAt <= now) return this.retries.shift()!.unit;
    if (this.next < this.plan.length) return this.plan[this.next++];
    return undefined;
  }

  /** First in line (a unit that could not start). */
  putFirst(unit: Unit): void {
    this.front.unshift(unit);
  }

  /** Before the plan, after other units put back (a rate-limited unit). */
  putBack(unit: Unit): void {
    this.front.push(unit);
  }

  retryAt(unit: Unit, readyAt: number): void {
    this.retries.push({ unit, readyAt });
    this.retries.sort((a, b) => a.readyAt - b.readyAt);
  }
}

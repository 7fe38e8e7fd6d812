import type { Clock, TimerHandle } from '../../core/clock';

export interface RefreshDelays {
  /** Quiet time after the last event before the batch is read (trailing debounce). */
  readonly debounceMs: number;
  /** Longest a batch waits after its first event, however often events keep coming. */
  readonly maxWaitMs: number;
}

/**
 * When the Experiments view re-reads: a trailing debounce with a maximum wait. A run that
 * writes its journal more often than the debounce would otherwise push the read back for as
 * long as it runs (the tree starved). Pure but for the injected clock; tested with a fake one.
 */
export class RefreshTimer {
  private timer: TimerHandle | undefined;
  /** Monotonic time of the batch's first event; undefined between batches. */
  private batchStart: number | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly delays: () => RefreshDelays,
    private readonly onFire: () => void,
  ) {}

  /** An event joined the batch: fire after the debounce, but no later than maxWait after the batch's first event. */
  trigger(): void {
    const now = this.clock.monotonic();
    this.batchStart ??= now;
    const { debounceMs, maxWaitMs } = this.delays();
    const due = Math.min(now + debounceMs, this.batchStart + Math.max(maxWaitMs, debounceMs));
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.fireNow(), due - now);
  }

  /** Ends the batch at once (a caller that reads anyway takes the events gathered so far along). */
  fireNow(): void {
    this.cancel();
    this.onFire();
  }

  cancel(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.batchStart = undefined;
  }
}

/** The view still refreshes at least once a second during a steady stream of journal writes. */
export function refreshDelays(debounceMs: number): RefreshDelays {
  const d = Math.max(0, debounceMs);
  return { debounceMs: d, maxWaitMs: Math.max(1000, d) };
}

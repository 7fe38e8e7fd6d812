/**
 * Time and timers are injected so backoff, rate-limit waits and heartbeats can be tested
 * with a fake clock instead of sleeps.
 */
export interface TimerHandle {
  readonly __timer: true;
}

export interface Clock {
  /** Milliseconds since the epoch: for the journal and display. It can step back (NTP). */
  now(): number;
  /** Milliseconds on a clock that never steps: for how long to wait. Only differences mean anything. */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => clearTimeout(h as unknown as NodeJS.Timeout),
};

/** Resolves after `ms` on the given clock. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const h = clock.setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort(): void {
      clock.clearTimeout(h);
      done();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

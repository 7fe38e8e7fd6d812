/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so
 * retries spread out without ever retrying immediately. `attempt` counts from 1.
 */
export function backoffMs(attempt: number, [firstSeconds, maxSeconds]: readonly [number, number], random: () => number): number {
  const base = Math.min(maxSeconds, firstSeconds * 2 ** Math.max(0, attempt - 1)) * 1000;
  return base / 2 + (base / 2) * random();
}

/** Pause when the API gave no reset time: the default doubles with each pause in a row. */
export function defaultPauseMs(consecutive: number, defaultSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, defaultSeconds * 2 ** Math.max(0, consecutive - 1)) * 1000;
}

/**
 * The margin added to a reset the API gave: a tenth of the wait, at least 0.1 s and at most
 * `bufferSeconds`. A flat 5 s after a one-second limit cost most of the allowed rate; a
 * reset hours away (a clock time, clocks may differ) still gets the full buffer.
 */
export function resetBufferMs(waitMs: number, bufferSeconds: number): number {
  return Math.min(bufferSeconds * 1000, Math.max(100, waitMs / 10));
}

import { etaOfView } from '../model/eta';
import type { RunView } from '../model/view';
import type { RunEvent } from './events';

/** Where the run stands now, with the one ETA (eta.ts) that state.json carries too. */
export function progressEvent(view: RunView, now: number): Extract<RunEvent, { type: 'progress' }> {
  const { rate, etaMs } = etaOfView(view, now);
  return {
    type: 'progress',
    counts: { ...view.counts },
    total: view.units.size,
    rate,
    etaMs,
    rateLimitedUntil: view.pause?.until ?? null,
    concurrency: view.concurrency ?? null,
    spend: view.spend.attempts > 0 ? { ...view.spend } : null,
  };
}

/**
 * A stop request, with what the user waits on: the units in flight and, on the first
 * request, when their grace runs out (the scheduler kills them then).
 */
export function stoppingEvent(request: number, inFlight: number, graceMs: number | undefined, now: number): RunEvent {
  const first = request === 1;
  return {
    type: 'stopping',
    reason: first ? 'interrupt: finishing units in flight' : 'second interrupt: killing units now',
    second: !first,
    inFlight,
    graceUntil: first && inFlight > 0 && graceMs !== undefined ? now + graceMs : null,
  };
}

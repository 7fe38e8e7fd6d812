import { doneCount, type IdleSpan, type RunView } from './view';

export type { IdleSpan };

/** What a rate and an ETA are estimated from. Wall times in ms; pure data, time injected. */
export interface EtaFacts {
  /** Times of this session's unit ends (outcomes only: not rate limits, not adoptions), ascending. */
  readonly ends: readonly number[];
  /** When the session began (its runner's start): the first end's wait counts from there. */
  readonly since?: number;
  /** Spans without dispatch, ascending; their time is left out of the gaps between ends. */
  readonly idle?: readonly IdleSpan[];
  /** Units without an outcome. */
  readonly left: number;
  readonly now: number;
  /** A pause in force: nothing is dispatched before this time. */
  readonly pausedUntil?: number | null;
}

export interface Eta {
  /** Units per second. */
  readonly rate: number;
  readonly etaMs: number | null;
}

/**
 * Weight of the newest gap between ends. The first 1/ALPHA gaps are averaged plainly (the
 * weight is 1/k for the k-th), so a session's first ends, which come together when units run
 * side by side, give the mean rate rather than a burst; after that the memory is ~40 ends:
 * smooth enough not to jump with each unit, quick enough to follow a change of pace.
 */
const ALPHA = 0.05;
/** One end says nothing about a rate yet. */
const MIN_ENDS = 2;
/** Ends in the same millisecond: a gap of zero would make the rate infinite. */
const MIN_GAP_MS = 0.001;

/**
 * The one estimate of rate and ETA: the live line, state.json, `status` and the tree all
 * show this. The rate is an exponentially weighted mean of the gaps between unit ends, on a
 * clock that stops during pauses (a pause is not slowness). A wait since the last end that is
 * longer than the mean counts as a gap already (the rate falls while nothing ends, smoothly),
 * and a known pause adds what is left of it to the ETA.
 */
export function estimateEta(f: EtaFacts): Eta {
  if (f.ends.length < MIN_ENDS) return { rate: 0, etaMs: null };
  const idle = f.idle ?? [];
  const active = (t: number) => t - idleBefore(idle, t, f.now);
  const origin = f.since !== undefined && f.since <= f.ends[0]! ? f.since : undefined;
  let prev = active(origin ?? f.ends[0]!);
  let gap = 0;
  let k = 0;
  for (let i = origin === undefined ? 1 : 0; i < f.ends.length; i++) {
    const t = active(f.ends[i]!);
    k++;
    const a = Math.max(ALPHA, 1 / k);
    gap = a * Math.max(0, t - prev) + (1 - a) * gap;
    prev = t;
  }
  const open = active(f.now) - prev;
  if (open > gap) {
    const a = Math.max(ALPHA, 1 / (k + 1));
    gap = a * open + (1 - a) * gap;
  }
  gap = Math.max(gap, MIN_GAP_MS);
  const pauseLeft = f.pausedUntil != null ? Math.max(0, f.pausedUntil - f.now) : 0;
  return { rate: 1000 / gap, etaMs: f.left <= 0 ? 0 : pauseLeft + f.left * gap };
}

/** Idle time before `t` (an open span lasts until `now`). */
function idleBefore(idle: readonly IdleSpan[], t: number, now: number): number {
  let sum = 0;
  for (const s of idle) {
    if (s.from >= t) break;
    sum += Math.max(0, Math.min(s.to ?? now, t) - s.from);
  }
  return sum;
}

/** `estimateEta` over what a run's journal says, at `now`. */
export function etaOfView(view: RunView, now: number): Eta {
  const since = view.session?.start;
  const ends = since === undefined ? view.recentEnds : view.recentEnds.filter((t) => t >= since);
  const pausedUntil = view.pause && view.pause.until > now ? view.pause.until : null;
  return estimateEta({
    ends,
    since,
    idle: view.session?.idle,
    left: view.units.size - doneCount(view.counts),
    now,
    pausedUntil,
  });
}

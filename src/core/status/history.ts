import type { JournalRecord } from '../store/events';

/** Where the run stood at the end of one time bucket. */
export interface HistoryBucket {
  /** The bucket's end (epoch ms). */
  readonly t: number;
  /** Units with an outcome (passed, failed or error) at that moment. */
  readonly done: number;
  readonly passed: number;
  readonly failed: number;
  readonly error: number;
  /** Attempts that reached an outcome within the bucket (adoptions are not work done here). */
  readonly ended: number;
}

/** A span in which dispatch was paused on a rate limit. */
export interface PauseSpan {
  readonly from: number;
  /** When dispatch resumed (or the runner stopped); `open`: still paused at the history's end. */
  readonly to: number;
  /** The reset the pause waited for (the last one, when it was extended). */
  readonly until: number;
  readonly src: string;
  readonly open: boolean;
}

/** A runner's session: from its start to its end (`open`: no end written yet). */
export interface SessionSpan {
  readonly from: number;
  readonly to: number;
  readonly open: boolean;
}

export interface RunHistory {
  readonly from: number;
  readonly to: number;
  readonly bucketMs: number;
  readonly buckets: readonly HistoryBucket[];
  readonly pauses: readonly PauseSpan[];
  readonly sessions: readonly SessionSpan[];
}

type Outcome = 'passed' | 'failed' | 'error';

/**
 * The run's progress over time from its journals' records: one list per journal (a sharded
 * run has one per shard; unit ids never cross shards), `buckets` equal time slices from the
 * first record to the last (or to `now`, for a run still going). A unit counts as done as the
 * journal's view counts it: from an outcome until it starts again or is requeued. Pauses are
 * per journal, so one shard resuming does not end another's pause. Pure.
 */
export function runHistory(
  journals: readonly (readonly JournalRecord[])[],
  buckets: number,
  o: { readonly now?: number } = {},
): RunHistory {
  const records = ordered(journals);
  if (records.length === 0 || buckets < 1) {
    const t = o.now ?? records[0]?.r.ts ?? 0;
    return { from: t, to: t, bucketMs: 0, buckets: [], pauses: [], sessions: [] };
  }
  let first = Infinity;
  let last = -Infinity;
  for (const { r } of records) {
    first = Math.min(first, r.ts);
    last = Math.max(last, r.ts);
  }
  const to = Math.max(last, o.now ?? last);
  const n = Math.floor(buckets);
  const bucketMs = Math.max(1, Math.ceil((to - first) / n));
  const bucketOf = (ts: number) => Math.min(n - 1, Math.max(0, Math.floor((ts - first) / bucketMs)));

  const outcome = new Map<string, Outcome>();
  const counts = { passed: 0, failed: 0, error: 0 };
  const out: HistoryBucket[] = [];
  let cur = 0;
  let ended = 0;
  const flushTo = (b: number) => {
    for (; cur < b; cur++) {
      out.push({ t: first + (cur + 1) * bucketMs, done: counts.passed + counts.failed + counts.error, ...counts, ended });
      ended = 0;
    }
  };
  const clear = (u: string) => {
    const had = outcome.get(u);
    if (had) counts[had]--;
    outcome.delete(u);
  };
  const set = (u: string, s: Outcome) => {
    clear(u);
    outcome.set(u, s);
    counts[s]++;
  };

  const pauses: PauseSpan[] = [];
  const openPause = new Map<number, { from: number; until: number; src: string }>();
  const sessions: SessionSpan[] = [];
  const openSession = new Map<number, number>();
  const closePause = (j: number, ts: number) => {
    const p = openPause.get(j);
    if (!p) return;
    pauses.push({ ...p, to: Math.max(ts, p.from), open: false });
    openPause.delete(j);
  };
  const closeSession = (j: number, ts: number) => {
    const s = openSession.get(j);
    if (s === undefined) return;
    sessions.push({ from: s, to: Math.max(ts, s), open: false });
    openSession.delete(j);
  };

  for (const { r, j } of records) {
    flushTo(bucketOf(r.ts));
    switch (r.t) {
      case 'start':
        clear(r.u);
        break;
      case 'end':
        if (r.s === 'passed' || r.s === 'failed' || r.s === 'error') {
          set(r.u, r.s);
          ended++;
        } else clear(r.u);
        break;
      case 'adopt':
        if (r.s === 'rate_limited') clear(r.u);
        else set(r.u, r.s);
        break;
      case 'requeue':
        for (const u of r.u) clear(u);
        break;
      case 'pause': {
        const p = openPause.get(j);
        if (p) p.until = r.until;
        else openPause.set(j, { from: r.ts, until: r.until, src: r.src });
        break;
      }
      case 'unpause':
        closePause(j, r.ts);
        break;
      case 'runner_start':
        closePause(j, r.ts);
        closeSession(j, r.ts);
        openSession.set(j, r.ts);
        break;
      case 'runner_end':
        closePause(j, r.ts);
        closeSession(j, r.ts);
        break;
      default:
        break;
    }
  }
  flushTo(n);
  for (const p of openPause.values()) pauses.push({ ...p, to, open: true });
  for (const from of openSession.values()) sessions.push({ from, to, open: true });
  pauses.sort((a, b) => a.from - b.from);
  sessions.sort((a, b) => a.from - b.from);
  return { from: first, to, bucketMs, buckets: out, pauses, sessions };
}

/** Every journal's records in time order; within one journal, the order it was written in. */
function ordered(journals: readonly (readonly JournalRecord[])[]): { r: JournalRecord; j: number }[] {
  const all = journals.flatMap((records, j) => records.map((r) => ({ r, j })));
  // Array.prototype.sort is stable: a journal whose clock stepped back keeps its own order among equals.
  return journals.length > 1 ? all.sort((a, b) => a.r.ts - b.r.ts) : all;
}

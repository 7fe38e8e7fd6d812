import type { EndStatus, JournalRecord, Outcome, RunStatus } from '../store/events';

/** What the journal says about one unit. */
export interface UnitView {
  /** Last outcome, `running` between a start and its end, `pending` otherwise. */
  status: Outcome | 'running' | 'pending';
  /** Attempts that counted against the retry budget (rate limits and interrupts do not). */
  attempts: number;
  /** pid and start time of the attempt in flight, to find it again after a crash. */
  pid?: number;
  pst?: number;
  lastEnd?: number;
  lastDuration?: number;
  why?: string;
}

export interface Counts {
  passed: number;
  failed: number;
  error: number;
  rate_limited: number;
  running: number;
  pending: number;
}

export interface RunView {
  readonly units: Map<string, UnitView>;
  counts: Counts;
  header?: { run: string; hash: string; shard?: string };
  pause?: { until: number; src: string; why?: string };
  pauseCount: number;
  sessions: number;
  /** Who ran it last (from runner_start), for a sharded run's per-shard host. */
  runner?: { pid: number; host: string };
  lastStatus?: RunStatus;
  firstTs?: number;
  lastTs?: number;
  /** Unit ends with their times, for rate and ETA (kept short: only the recent ones). */
  recentEnds: number[];
}

export function emptyCounts(): Counts {
  return { passed: 0, failed: 0, error: 0, rate_limited: 0, running: 0, pending: 0 };
}

export function newView(unitIds: Iterable<string>): RunView {
  const units = new Map<string, UnitView>();
  for (const id of unitIds) units.set(id, { status: 'pending', attempts: 0 });
  const counts = emptyCounts();
  counts.pending = units.size;
  return { units, counts, pauseCount: 0, sessions: 0, recentEnds: [] };
}

const RECENT = 200;

/**
 * Applies one journal record. Units the config does not know (a journal from another
 * config, or a unit removed) are ignored by status but kept for merge and repair.
 */
export function applyRecord(view: RunView, r: JournalRecord): void {
  view.firstTs ??= r.ts;
  view.lastTs = r.ts;
  switch (r.t) {
    case 'header':
      view.header = { run: r.run, hash: r.hash, shard: r.shard };
      return;
    case 'runner_start':
      view.sessions++;
      view.runner = { pid: r.pid, host: r.host };
      view.lastStatus = 'running';
      view.pause = undefined;
      // A runner that died left its units "running": they are pending until proven otherwise.
      for (const u of view.units.values()) if (u.status === 'running') move(view, u, 'pending');
      return;
    case 'runner_end':
      view.lastStatus = r.status;
      for (const u of view.units.values()) if (u.status === 'running') move(view, u, 'pending');
      return;
    case 'merged':
      // Units a killed shard left in flight are pending in the merged run.
      view.lastStatus = r.missing === 0 ? 'completed' : 'interrupted';
      view.pause = undefined;
      for (const u of view.units.values()) if (u.status === 'running') move(view, u, 'pending');
      return;
    case 'start': {
      const u = view.units.get(r.u);
      if (!u) return;
      move(view, u, 'running');
      u.pid = r.pid;
      u.pst = r.pst;
      return;
    }
    case 'end': {
      const u = view.units.get(r.u);
      if (!u) return;
      endUnit(view, u, r.s, r.ts, r.a);
      u.lastDuration = r.d;
      u.why = r.why;
      return;
    }
    case 'adopt': {
      const u = view.units.get(r.u);
      if (!u) return;
      endUnit(view, u, r.s, r.ts, u.attempts + 1);
      u.why = r.why;
      return;
    }
    case 'requeue':
      for (const id of r.u) {
        const u = view.units.get(id);
        if (!u || u.status === 'running') continue;
        move(view, u, 'pending');
        u.attempts = 0;
      }
      return;
    case 'pause':
      view.pause = { until: r.until, src: r.src, why: r.why };
      view.pauseCount++;
      view.lastStatus = 'paused_rate_limit';
      return;
    case 'unpause':
      view.pause = undefined;
      view.lastStatus = 'running';
      return;
  }
}

function endUnit(view: RunView, u: UnitView, s: EndStatus, ts: number, attempt: number): void {
  u.pid = undefined;
  u.pst = undefined;
  if (s === 'interrupted') return move(view, u, 'pending');
  if (s !== 'rate_limited') u.attempts = Math.max(u.attempts, attempt);
  move(view, u, s);
  if (s !== 'rate_limited') {
    u.lastEnd = ts;
    view.recentEnds.push(ts);
    if (view.recentEnds.length > RECENT * 2) view.recentEnds.splice(0, view.recentEnds.length - RECENT);
  }
}

function move(view: RunView, u: UnitView, to: UnitView['status']): void {
  view.counts[u.status]--;
  view.counts[to]++;
  u.status = to;
}

export function isFinal(status: UnitView['status']): boolean {
  return status === 'passed' || status === 'failed' || status === 'error';
}

export function doneCount(c: Counts): number {
  return c.passed + c.failed + c.error;
}

/** Units per second over the recent ends, and the ETA in ms for what is left. */
export function rateAndEta(view: RunView, now: number, total: number): { rate: number; etaMs: number | undefined } {
  const ends = view.recentEnds.slice(-RECENT);
  if (ends.length < 2) return { rate: 0, etaMs: undefined };
  const span = Math.max(1, now - ends[0]!);
  const rate = (ends.length / span) * 1000;
  const left = total - doneCount(view.counts);
  return { rate, etaMs: rate > 0 ? (left / rate) * 1000 : undefined };
}

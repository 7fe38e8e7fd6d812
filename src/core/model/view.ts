import type { EndStatus, JournalRecord, RunStatus } from '../store/events';
import { statusCode, UnitTable, type UnitStatus } from './unitTable';

export type { UnitView } from './unitTable';

/** What the run's attempts spent, as their ends in the journal say (every attempt counts, retries too). */
export interface Spend {
  usd: number;
  tokens: number;
  /** Attempts that reported a cost or tokens: the mean per attempt is spend / attempts. */
  attempts: number;
}

/** The adaptive limit in force (from the journal's last `conc` record of this session). */
export interface ConcurrencyView {
  limit: number;
  max: number;
  /** Paced dispatch rate in units per minute, when one is in force. */
  rpm?: number;
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
  readonly units: UnitTable;
  counts: Counts;
  header?: { run: string; hash: string; shard?: string };
  pause?: { until: number; src: string; why?: string };
  pauseCount: number;
  sessions: number;
  /** Who ran it last (from runner_start), for a sharded run's per-shard host. */
  runner?: { pid: number; host: string };
  lastStatus?: RunStatus;
  /** The last runner ended cleanly (its runner_end is the journal's last word on the run). */
  runnerEnded?: boolean;
  firstTs?: number;
  lastTs?: number;
  /** Unit ends with their times, for rate and ETA (kept short: only the recent ones; adoptions are not ends of work). */
  recentEnds: number[];
  /** The last runner's start and its spans without dispatch (pauses; the last open while paused), for the ETA (eta.ts). */
  session?: { start: number; idle: IdleSpan[] };
  spend: Spend;
  concurrency?: ConcurrencyView;
}

/** A span in which nothing could be dispatched (a rate-limit pause); open while it lasts. */
export interface IdleSpan {
  readonly from: number;
  to?: number;
}

export function emptyCounts(): Counts {
  return { passed: 0, failed: 0, error: 0, rate_limited: 0, running: 0, pending: 0 };
}

export function newView(unitIds: Iterable<string>): RunView {
  const units = new UnitTable(Array.isArray(unitIds) ? (unitIds as string[]) : [...unitIds]);
  const counts = emptyCounts();
  counts.pending = units.size;
  return { units, counts, pauseCount: 0, sessions: 0, recentEnds: [], spend: { usd: 0, tokens: 0, attempts: 0 } };
}

const RECENT = 200;
/** Pauses kept per session for the ETA: older ones lie before the recent ends anyway. */
const IDLE_KEPT = 100;

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
      view.runnerEnded = false;
      view.pause = undefined;
      view.concurrency = undefined;
      view.session = { start: r.ts, idle: [] };
      // A runner that died left its units "running": they are pending until proven otherwise.
      pendAllRunning(view);
      return;
    case 'runner_end':
      view.lastStatus = r.status;
      view.runnerEnded = true;
      closeIdle(view, r.ts);
      pendAllRunning(view);
      return;
    case 'merged':
      // Units a killed shard left in flight are pending in the merged run.
      view.lastStatus = r.missing === 0 ? 'completed' : 'interrupted';
      view.pause = undefined;
      pendAllRunning(view);
      return;
    case 'start': {
      const u = view.units.indexOf(r.u);
      if (u < 0) return;
      move(view, u, 'running');
      view.units.inFlight.set(u, { pid: r.pid, pst: r.pst });
      return;
    }
    case 'end': {
      const u = view.units.indexOf(r.u);
      if (u < 0) return;
      endUnit(view, u, r.s, r.ts, r.a);
      view.units.lastDuration[u] = r.d ?? NaN;
      view.units.setWhy(u, r.why);
      // A rate limit is no outcome: the metrics of the last one stay.
      if (r.s !== 'rate_limited') setMetrics(view, u, r.m);
      if (r.usd !== undefined || r.tok !== undefined) addSpend(view, u, r.usd, r.tok);
      return;
    }
    case 'adopt': {
      const u = view.units.indexOf(r.u);
      if (u < 0) return;
      endUnit(view, u, r.s, r.ts, view.units.attempts[u]! + 1, false);
      view.units.setWhy(u, r.why);
      setMetrics(view, u, r.m);
      if (r.usd !== undefined || r.tok !== undefined) addSpend(view, u, r.usd, r.tok);
      return;
    }
    case 'requeue':
      for (const id of r.u) {
        const u = view.units.indexOf(id);
        if (u < 0 || view.units.statusAt(u) === 'running') continue;
        move(view, u, 'pending');
        view.units.attempts[u] = 0;
      }
      return;
    case 'conc':
      view.concurrency = r.rpm === undefined ? { limit: r.c, max: r.max } : { limit: r.c, max: r.max, rpm: r.rpm };
      return;
    case 'pause':
      view.pause = { until: r.until, src: r.src, why: r.why };
      view.pauseCount++;
      view.lastStatus = 'paused_rate_limit';
      // A pause extended while it lasts is one span.
      if (view.session && !openIdle(view)) {
        view.session.idle.push({ from: r.ts });
        if (view.session.idle.length > IDLE_KEPT) view.session.idle.shift();
      }
      return;
    case 'unpause':
      view.pause = undefined;
      view.lastStatus = 'running';
      closeIdle(view, r.ts);
      return;
  }
}

function openIdle(view: RunView): IdleSpan | undefined {
  const last = view.session?.idle.at(-1);
  return last && last.to === undefined ? last : undefined;
}

function closeIdle(view: RunView, ts: number): void {
  const open = openIdle(view);
  if (open) open.to = Math.max(ts, open.from);
}

function pendAllRunning(view: RunView): void {
  const st = view.units.status;
  if (view.counts.running === 0) return;
  const running = statusCode('running');
  for (let i = 0; i < st.length; i++) if (st[i] === running) move(view, i, 'pending');
}

function setMetrics(view: RunView, u: number, m: Record<string, number> | undefined): void {
  if (m === undefined) view.units.metrics.delete(u);
  else view.units.metrics.set(u, m);
}

function addSpend(view: RunView, u: number, usd: number | undefined, tok: number | undefined): void {
  view.spend.attempts++;
  if (usd !== undefined && Number.isFinite(usd)) {
    // Sums of binary fractions drift (0.12000000000000009): money is kept to a billionth of a dollar.
    view.spend.usd = roundUsd(view.spend.usd + usd);
    view.units.usd.set(u, roundUsd((view.units.usd.get(u) ?? 0) + usd));
  }
  if (tok !== undefined && Number.isFinite(tok)) {
    view.spend.tokens += tok;
    view.units.tok.set(u, (view.units.tok.get(u) ?? 0) + tok);
  }
}

function roundUsd(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

/** Spend at completion if the attempts still to come cost what the ones so far did on average. */
export function projectedSpend(view: RunView): Spend | undefined {
  const s = view.spend;
  if (s.attempts === 0) return undefined;
  const left = view.units.size - doneCount(view.counts);
  const perAttempt = { usd: s.usd / s.attempts, tokens: s.tokens / s.attempts };
  return { usd: s.usd + perAttempt.usd * left, tokens: Math.round(s.tokens + perAttempt.tokens * left), attempts: s.attempts + left };
}

function endUnit(view: RunView, u: number, s: EndStatus, ts: number, attempt: number, work = true): void {
  view.units.inFlight.delete(u);
  if (s === 'interrupted') return move(view, u, 'pending');
  if (s !== 'rate_limited') view.units.attempts[u] = Math.max(view.units.attempts[u]!, attempt);
  move(view, u, s);
  if (s !== 'rate_limited') {
    view.units.lastEnd[u] = ts;
    if (!work) return;
    view.recentEnds.push(ts);
    if (view.recentEnds.length > RECENT * 2) view.recentEnds.splice(0, view.recentEnds.length - RECENT);
  }
}

function move(view: RunView, u: number, to: UnitStatus): void {
  view.counts[view.units.statusAt(u)]--;
  view.counts[to]++;
  view.units.status[u] = statusCode(to);
}

export function isFinal(status: UnitStatus): boolean {
  return status === 'passed' || status === 'failed' || status === 'error';
}

export function doneCount(c: Counts): number {
  return c.passed + c.failed + c.error;
}

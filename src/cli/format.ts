import type { Counts } from '../core/run/view';

/** 75 → "1m15s"; for ETAs and countdowns. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Local wall-clock time of an instant, HH:MM:SS. */
export function formatClock(t: number): string {
  const d = new Date(t);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function formatCounts(c: Counts): string {
  const parts = [`passed ${c.passed}`, `failed ${c.failed}`, `error ${c.error}`];
  if (c.rate_limited) parts.push(`rate-limited ${c.rate_limited}`);
  if (c.running) parts.push(`running ${c.running}`);
  return parts.join(' · ');
}

export interface ProgressFacts {
  readonly name: string;
  readonly done: number;
  readonly total: number;
  readonly counts: Counts;
  readonly rate: number;
  readonly etaMs: number | null;
  readonly pausedUntil: number | null;
  readonly now: number;
}

/** The one live line: done/total, outcome counts, rate, ETA — or the pause countdown. */
export function progressLine(f: ProgressFacts): string {
  const head = `${f.name} ${f.done}/${f.total}`;
  if (f.pausedUntil !== null && f.pausedUntil > f.now) {
    return `${head} · ${formatCounts(f.counts)} · ⏸ rate limited · resumes ${formatClock(f.pausedUntil)} (in ${formatDuration(f.pausedUntil - f.now)})`;
  }
  const rate = f.rate > 0 ? ` · ${f.rate >= 10 ? f.rate.toFixed(0) : f.rate.toFixed(1)}/s` : '';
  const eta = f.etaMs !== null && f.done < f.total ? ` · ETA ${formatDuration(f.etaMs)}` : '';
  return `${head} · ${formatCounts(f.counts)}${rate}${eta}`;
}

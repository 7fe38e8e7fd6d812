import type { Counts } from '../core/model/view';
import { formatClock, formatDuration } from '../core/time';

import { formatConcurrency, formatSpend } from '../core/model/spendText';
import type { ConcurrencyView, Spend } from '../core/model/view';

// One formatter for both faces: src/core/time.ts, src/core/model/spendText.ts.
export { formatClock, formatDuration, formatSpend };

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
  readonly concurrency?: ConcurrencyView | null;
  readonly spend?: Spend | null;
}

/** The one live line: done/total, outcome counts, rate, ETA — or the pause countdown. */
export function progressLine(f: ProgressFacts): string {
  const head = `${f.name} ${f.done}/${f.total}`;
  if (f.pausedUntil !== null && f.pausedUntil > f.now) {
    return `${head} · ${formatCounts(f.counts)} · ⏸ rate limited · resumes ${formatClock(f.pausedUntil)} (in ${formatDuration(f.pausedUntil - f.now)})`;
  }
  const rate = f.rate > 0 ? ` · ${f.rate >= 10 ? f.rate.toFixed(0) : f.rate.toFixed(1)}/s` : '';
  const eta = f.etaMs !== null && f.done < f.total ? ` · ETA ${formatDuration(f.etaMs)}` : '';
  const conc = formatConcurrency(f.concurrency);
  const spent = f.spend ? ` · ${formatSpend(f.spend)}` : '';
  return `${head} · ${formatCounts(f.counts)}${rate}${eta}${conc ? ` · ${conc}` : ''}${spent}`;
}

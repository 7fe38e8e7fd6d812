import type { ConcurrencyView, Spend } from './view';

/** "$1.23 · 45.6k tokens": what was spent, in the words every face uses (CLI, status, tree, status bar). */
export function formatSpend(s: Pick<Spend, 'usd' | 'tokens'>): string {
  const parts: string[] = [];
  if (s.usd > 0) parts.push(formatUsd(s.usd));
  if (s.tokens > 0) parts.push(`${formatCount(s.tokens)} tokens`);
  return parts.length > 0 ? parts.join(' · ') : 'nothing';
}

export function formatUsd(usd: number): string {
  return usd >= 100
    ? `$${usd.toFixed(0)}`
    : usd >= 1
      ? `$${usd.toFixed(2)}`
      : usd >= 0.01
        ? `$${usd.toFixed(3)}`
        : `$${usd.toPrecision(2)}`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

/** "concurrency 6/32, adapting · 240/min": the adaptive limit in force, or undefined at the fixed one. */
export function formatConcurrency(c: ConcurrencyView | null | undefined): string | undefined {
  if (!c) return undefined;
  const paced = c.rpm !== undefined ? ` · paced ${formatCount(c.rpm)}/min` : '';
  if (c.limit >= c.max && c.rpm === undefined) return undefined;
  return `concurrency ${c.limit}/${c.max}, adapting${paced}`;
}

/** "4 workers · 2 restarts" for a worker run while it goes. */
export function formatWorkers(w: { live: number; restarts: number } | null | undefined): string | undefined {
  if (!w) return undefined;
  const live = `${w.live} worker${w.live === 1 ? '' : 's'}`;
  return w.restarts > 0 ? `${live} · ${w.restarts} restart${w.restarts === 1 ? '' : 's'}` : live;
}

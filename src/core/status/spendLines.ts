import { formatConcurrency, formatCount, formatSpend, formatUsd } from '../model/spendText';
import type { ConcurrencyView, Spend } from '../model/view';
import type { Budget } from './spendAndConcurrency';

/**
 * What `status`, the tree and the status bar say of a report's spend and concurrency, in the
 * words of src/core/model/spendText.ts. Pure.
 */
export interface SpendFacts {
  readonly spend: Pick<Spend, 'usd' | 'tokens'> | null;
  readonly projected: Pick<Spend, 'usd' | 'tokens'> | null;
  readonly budget: Budget | null;
  readonly done: number;
  readonly total: number;
}

/** "$0" rather than "$0.0" beside a budget when nothing was spent yet. */
function usd(v: number): string {
  return v === 0 ? '$0' : formatUsd(v);
}

/**
 * "$0.42 · 120k tokens (projected $1.10 at completion)"; with a budget, each limited quantity
 * says its limit: "$1.20 of budget $5.00 · 120k tokens (projected $3.10 at completion)",
 * "$0.42 · 120k of budget 500k tokens (…)". The projection is left out once nothing is left to
 * run, and says ", over budget" when it passes a limit. Undefined: nothing spent and no budget.
 */
export function spendLine(r: SpendFacts): string | undefined {
  const s = r.spend ?? { usd: 0, tokens: 0 };
  const b = r.budget;
  if (!r.spend && !b) return undefined;
  let spent: string;
  if (!b) spent = formatSpend(s);
  else {
    const parts: string[] = [];
    if (b.maxCostUSD !== undefined) parts.push(`${usd(s.usd)} of budget ${formatUsd(b.maxCostUSD)}`);
    else if (s.usd > 0) parts.push(formatUsd(s.usd));
    if (b.maxTokens !== undefined) parts.push(`${formatCount(s.tokens)} of budget ${formatCount(b.maxTokens)} tokens`);
    else if (s.tokens > 0) parts.push(`${formatCount(s.tokens)} tokens`);
    spent = parts.join(' · ');
  }
  const p = r.projected;
  if (!p || r.done >= r.total || (p.usd <= s.usd && p.tokens <= s.tokens)) return spent;
  // The money when there is some; tokens too when they are what is limited (or all there is).
  const tokens = s.usd === 0 || b?.maxTokens !== undefined ? p.tokens : 0;
  const over = (b?.maxCostUSD !== undefined && p.usd > b.maxCostUSD) || (b?.maxTokens !== undefined && p.tokens > b.maxTokens);
  return `${spent} (projected ${formatSpend({ usd: p.usd, tokens })} at completion${over ? ', over budget' : ''})`;
}

/**
 * The short form for a row's description: "$0.42", "$1.20 of $5.00", "120k tokens",
 * "120k of 500k tokens". Undefined: nothing spent and no budget.
 */
export function spendShort(r: Pick<SpendFacts, 'spend' | 'budget'>): string | undefined {
  const s = r.spend ?? { usd: 0, tokens: 0 };
  const b = r.budget;
  const parts: string[] = [];
  if (s.usd > 0 || b?.maxCostUSD !== undefined)
    parts.push(b?.maxCostUSD !== undefined ? `${usd(s.usd)} of ${formatUsd(b.maxCostUSD)}` : formatUsd(s.usd));
  if ((s.tokens > 0 && parts.length === 0) || b?.maxTokens !== undefined)
    parts.push(
      b?.maxTokens !== undefined ? `${formatCount(s.tokens)} of ${formatCount(b.maxTokens)} tokens` : `${formatCount(s.tokens)} tokens`,
    );
  return parts.length > 0 ? parts.join(' · ') : undefined;
}

/** "6/32": the adaptive limit of a live run in a few characters; undefined at the fixed concurrency. */
export function concurrencyShort(c: ConcurrencyView | null | undefined): string | undefined {
  return c && formatConcurrency(c) !== undefined ? `${c.limit}/${c.max}` : undefined;
}

/**
 * The tooltip lines of a run (the tree's and the status bar's): "Spent $0.42 · 120k tokens
 * (projected $1.10 at completion)" and "concurrency 6/32, adapting · paced 240/min", each only
 * when there is something to say.
 */
export function spendAndConcurrencyLines(r: SpendFacts & { readonly concurrency: ConcurrencyView | null }): string[] {
  const out: string[] = [];
  const spent = spendLine(r);
  if (spent !== undefined) out.push(`Spent ${spent}`);
  const conc = formatConcurrency(r.concurrency);
  if (conc !== undefined) out.push(conc);
  return out;
}

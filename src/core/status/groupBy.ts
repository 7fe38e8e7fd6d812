import type { Unit } from '../config/units';
import { keySource, keyValue, NO_VALUE, unknownKeyError } from '../shard/unitKeys';
import { emptyCounts, type Counts } from '../model/view';

export { NO_VALUE, EMPTY_VALUE } from '../shard/unitKeys';

/**
 * How a report groups its units: by matrix cell (the default, `key` ""), or by one item field
 * or matrix key (`status --by tier`, the tree's `resumable.tree.groupBy`). `of[i]` is units[i]'s
 * group; `names` lists the groups in the order they first appear (config order), "(none)" last.
 */
export interface Grouping {
  readonly key: string;
  readonly of: readonly string[];
  readonly names: readonly string[];
}

/**
 * Groups units by `by`. A plain name is a matrix key when the matrix has it, else an item
 * field; `item.<path>` is always an item field (src/core/shard/unitKeys.ts, shared with
 * `run --only`). A key that no unit has is a UserError listing what there is: a typo should
 * not give one "(none)" group that looks like an answer. Pure.
 */
export function groupUnits(units: readonly Unit[], by: string | undefined): Grouping {
  const key = by?.trim() ?? '';
  const source = key === '' ? undefined : keySource(units, key);
  const of = units.map((u) => (source ? keyValue(u, source) : u.group));
  if (source?.kind === 'item' && of.every((g) => g === NO_VALUE))
    throw unknownKeyError(units, key, { flag: '--by', last: 'Without --by, units are grouped by matrix cell.' });
  const seen = new Set(of);
  const names = [...seen].filter((g) => g !== NO_VALUE);
  if (seen.has(NO_VALUE)) names.push(NO_VALUE);
  return { key, of, names };
}

export interface GroupCount {
  readonly group: string;
  readonly total: number;
  readonly counts: Counts;
  /** What its units' attempts spent; absent on every group when no unit of the run reported spend. */
  readonly spend?: { readonly usd: number; readonly tokens: number };
}

/** What a unit's attempts spent, as the view keeps it (`UnitView.usd` / `tok`). */
export interface UnitSpend {
  readonly usd?: number;
  readonly tok?: number;
}

/**
 * Per-group totals and counts, groups in `g.names` order. `statusOf(i)` is units[i]'s status;
 * `spendOf(i)`, when given, what it spent: then every group has a `spend` as soon as one unit
 * of the run spent something.
 */
export function countGroups(
  g: Grouping,
  statusOf: (i: number) => keyof Counts,
  spendOf?: (i: number) => UnitSpend | undefined,
): GroupCount[] {
  const by = new Map(g.names.map((name) => [name, { group: name, total: 0, counts: emptyCounts(), usd: 0, tokens: 0 }]));
  let spent = false;
  for (let i = 0; i < g.of.length; i++) {
    const c = by.get(g.of[i]!)!;
    c.total++;
    c.counts[statusOf(i)]++;
    const s = spendOf?.(i);
    if (s?.usd !== undefined || s?.tok !== undefined) {
      c.usd += s.usd ?? 0;
      c.tokens += s.tok ?? 0;
      spent ||= c.usd !== 0 || c.tokens !== 0;
    }
  }
  return [...by.values()].map(({ group, total, counts, usd, tokens }) =>
    spent ? { group, total, counts, spend: { usd, tokens } } : { group, total, counts },
  );
}

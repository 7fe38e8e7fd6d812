import { matrixCells, type Unit } from '../config/units';
import type { Experiment } from '../config/schema';
import { keySource, keyValue, NO_VALUE, unknownKeyError } from '../shard/unitKeys';
import { emptyCounts, type Counts } from '../model/view';
import { wilson } from './wilson';

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

/**
 * The grouping by matrix cell of a run of `n` units, from the matrix alone: units are items ×
 * cells × repeats with items outermost (config/units.ts), so unit i is in cell ⌊i / repeats⌋
 * mod cells. Undefined when `n` is no multiple of that (then the units themselves are asked).
 */
export function cellGroups(matrix: Experiment['matrix'], n: number): Grouping | undefined {
  const cells = matrixCells(matrix);
  const names = cells.map((c) => c.map(String).join('/'));
  const repeats = matrix.repeat ?? 1;
  const per = names.length * repeats;
  if (per === 0 || n % per !== 0 || new Set(names).size !== names.length) return undefined;
  const of = new Array<string>(n);
  for (let i = 0; i < n; i++) of[i] = names[Math.floor(i / repeats) % names.length]!;
  return { key: '', of, names: n === 0 ? [] : names };
}

export interface GroupCount {
  readonly group: string;
  readonly total: number;
  readonly counts: Counts;
  /** What its units' attempts spent; absent on every group when no unit of the run reported spend. */
  readonly spend?: { readonly usd: number; readonly tokens: number };
  /**
   * Passed out of the units with a verdict (passed + failed: an error is the run's trouble,
   * not the model's answer), with its 95% Wilson interval; absent while none has a verdict.
   */
  readonly passRate?: { readonly rate: number; readonly low: number; readonly high: number };
  /** `result.metrics` over the units that reported each: sum, how many, mean. */
  readonly metrics?: Readonly<Record<string, MetricSum>>;
}

export interface MetricSum {
  readonly sum: number;
  readonly n: number;
  readonly mean: number;
}

/** What a unit's attempts spent and its metrics, as the view keeps them (`UnitView.usd` / `tok` / `m`). */
export interface UnitSpend {
  readonly usd?: number;
  readonly tok?: number;
  readonly m?: Readonly<Record<string, number>>;
}

/**
 * Per-group totals and counts, groups in `g.names` order. `statusOf(i)` is units[i]'s status;
 * `spendOf(i)`, when given, what it spent and its metrics: then every group has a `spend` as
 * soon as one unit of the run spent something.
 */
export function countGroups(
  g: Grouping,
  statusOf: (i: number) => keyof Counts,
  spendOf?: (i: number) => UnitSpend | undefined,
): GroupCount[] {
  const by = new Map(
    g.names.map((name) => [
      name,
      { group: name, total: 0, counts: emptyCounts(), usd: 0, tokens: 0, m: new Map<string, { sum: number; n: number }>() },
    ]),
  );
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
    if (s?.m)
      for (const [k, v] of Object.entries(s.m)) {
        const acc = c.m.get(k);
        if (acc) {
          acc.sum += v;
          acc.n++;
        } else c.m.set(k, { sum: v, n: 1 });
      }
  }
  return [...by.values()].map(({ group, total, counts, usd, tokens, m }) => {
    const rate = wilson(counts.passed, counts.passed + counts.failed);
    return {
      group,
      total,
      counts,
      ...(spent ? { spend: { usd, tokens } } : {}),
      ...(rate ? { passRate: rate } : {}),
      ...(m.size ? { metrics: Object.fromEntries([...m].map(([k, a]) => [k, { ...a, mean: a.sum / a.n }])) } : {}),
    };
  });
}

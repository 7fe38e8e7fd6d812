import type { Unit } from '../config/units';
import { UserError } from '../errors';
import { emptyCounts, type Counts } from '../model/view';

/** The group of units that have no value for the key (`--by tier` over items without a tier). */
export const NO_VALUE = '(none)';
/** The group of units whose value is the empty string ("" is the "no matrix" group in reports). */
export const EMPTY_VALUE = '(empty)';

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

/** Where a `--by` key points: a matrix key (or `repeat`), or a dotted path into the item's fields. */
type Source = { kind: 'cell' } | { kind: 'matrix'; key: string } | { kind: 'repeat' } | { kind: 'item'; path: readonly string[] };

/**
 * Groups units by `by`. A plain name is a matrix key when the matrix has it, else an item
 * field; `item.<path>` is always an item field (for a field named like a matrix key). A key
 * that no unit has is a UserError listing what there is: a typo should not give one "(none)"
 * group that looks like an answer. Pure.
 */
export function groupUnits(units: readonly Unit[], by: string | undefined): Grouping {
  const source = sourceOf(units, by?.trim() ?? '');
  const of = units.map((u) => groupName(u, source));
  if (source.kind === 'item' && of.every((g) => g === NO_VALUE)) throw unknownKey(units, by!.trim());
  const seen = new Set(of);
  const names = [...seen].filter((g) => g !== NO_VALUE);
  if (seen.has(NO_VALUE)) names.push(NO_VALUE);
  return { key: source.kind === 'cell' ? '' : by!.trim(), of, names };
}

function sourceOf(units: readonly Unit[], by: string): Source {
  if (by === '') return { kind: 'cell' };
  if (by.startsWith('item.') && by.length > 'item.'.length) return { kind: 'item', path: by.slice('item.'.length).split('.') };
  const first = units[0];
  if (first && Object.prototype.hasOwnProperty.call(first.cell, by)) return { kind: 'matrix', key: by };
  if (by === 'repeat' && first?.repeat !== undefined) return { kind: 'repeat' };
  return { kind: 'item', path: by.split('.') };
}

function groupName(u: Unit, s: Source): string {
  switch (s.kind) {
    case 'cell':
      return u.group;
    case 'matrix':
      return valueName(u.cell[s.key]);
    case 'repeat':
      return valueName(u.repeat);
    case 'item':
      return valueName(valueAt(u.item.fields, s.path));
  }
}

function valueAt(fields: unknown, p: readonly string[]): unknown {
  let cur = fields;
  for (const k of p) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur) || !Object.prototype.hasOwnProperty.call(cur, k)) return undefined;
    cur = (cur as Record<string, unknown>)[k];
  }
  return cur;
}

function valueName(v: unknown): string {
  if (v === undefined || v === null) return NO_VALUE;
  if (v === '') return EMPTY_VALUE;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  // Item fields come from JSON, CSV or a path: what is left is an object or an array.
  return JSON.stringify(v) ?? NO_VALUE;
}

/** Fields looked at for the list of what there is: enough to show the shape, cheap on a million items. */
const SAMPLE = 1000;
const DEPTH = 3;
const LISTED = 30;

function unknownKey(units: readonly Unit[], by: string): UserError {
  const fields = new Set<string>();
  const seenItems = new Set<string>();
  for (const u of units) {
    if (seenItems.size >= SAMPLE) break;
    if (seenItems.has(u.item.id)) continue;
    seenItems.add(u.item.id);
    collectPaths(u.item.fields, '', DEPTH, fields);
  }
  const first = units[0];
  const matrix = first ? Object.keys(first.cell) : [];
  if (first?.repeat !== undefined) matrix.push('repeat');
  const list = (xs: readonly string[]) =>
    xs.length === 0 ? 'none' : xs.slice(0, LISTED).join(', ') + (xs.length > LISTED ? `, … (${xs.length - LISTED} more)` : '');
  return new UserError(`No unit has ${JSON.stringify(by)}: expected an item field (a dotted path like meta.lang) or a matrix key`, {}, [
    `item fields: ${list([...fields])}`,
    `matrix keys: ${list(matrix)}`,
    'Without --by, units are grouped by matrix cell.',
  ]);
}

/** Dotted paths of the leaves (and of objects at the depth limit) of an item's fields. */
function collectPaths(v: unknown, prefix: string, depth: number, out: Set<string>): void {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return;
  for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (child && typeof child === 'object' && !Array.isArray(child) && depth > 1) collectPaths(child, p, depth - 1, out);
    else out.add(p);
    if (out.size >= LISTED * 4) return;
  }
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

import type { Unit } from '../config/units';
import { UserError } from '../errors';

/**
 * What a key names on a unit, one resolution for `status --by`, the tree's groups and
 * `run --only`: a matrix key (or `repeat`), or a dotted path into the item's fields. Here, below
 * both status and run, so the two cannot drift apart.
 */

/** The value of units that have none for the key (`--by tier` over items without a tier). */
export const NO_VALUE = '(none)';
/** The value of units whose value is the empty string ("" is the "no matrix" group in reports). */
export const EMPTY_VALUE = '(empty)';

/** Where a key points: a matrix key (or `repeat`), or a dotted path into the item's fields. */
export type KeySource = { kind: 'matrix'; key: string } | { kind: 'repeat' } | { kind: 'item'; path: readonly string[] };

/**
 * A plain name is a matrix key when the matrix has it, else an item field; `item.<path>` is
 * always an item field (for a field named like a matrix key).
 */
export function keySource(units: readonly Unit[], key: string): KeySource {
  if (key.startsWith('item.') && key.length > 'item.'.length) return { kind: 'item', path: key.slice('item.'.length).split('.') };
  const first = units[0];
  if (first && Object.prototype.hasOwnProperty.call(first.cell, key)) return { kind: 'matrix', key };
  if (key === 'repeat' && first?.repeat !== undefined) return { kind: 'repeat' };
  return { kind: 'item', path: key.split('.') };
}

/** The unit's value for the key as text, `NO_VALUE` when it has none. */
export function keyValue(u: Unit, s: KeySource): string {
  switch (s.kind) {
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

/** A key no unit has, refused with the item fields and matrix keys there are: a typo must not look like an answer. */
export function unknownKeyError(units: readonly Unit[], key: string, what: { flag: string; last: string }): UserError {
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
  return new UserError(
    `No unit has ${JSON.stringify(key)}${what.flag === '--by' ? '' : ` (${what.flag})`}: expected an item field (a dotted path like meta.lang) or a matrix key`,
    {},
    [`item fields: ${listed([...fields])}`, `matrix keys: ${listed(matrix)}`, what.last],
  );
}

/** Up to 30 names, then how many more. */
export function listed(xs: readonly string[]): string {
  return xs.length === 0 ? 'none' : xs.slice(0, LISTED).join(', ') + (xs.length > LISTED ? `, … (${xs.length - LISTED} more)` : '');
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

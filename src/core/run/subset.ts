import type { Unit } from '../config/units';
import { UserError } from '../errors';
import { keySource, keyValue, listed, NO_VALUE, unknownKeyError } from '../shard/unitKeys';

/** `run --limit N --only key=value --unit id`: the part of the plan to run this time (a smoke test, one slice). */
export interface SubsetFlags {
  /** At most this many of the units that would run, the first in plan order. */
  readonly limit?: number;
  /** A unit's matrix value or item field (`status --by` keys): ORed within one key, ANDed across keys. */
  readonly only?: readonly { readonly key: string; readonly value: string }[];
  /** Only these unit ids. */
  readonly units?: readonly string[];
}

export interface Subset {
  /** The ids asked for by `--only` and `--unit` together; undefined: every unit (only `--limit`). */
  readonly ids?: ReadonlySet<string>;
  readonly limit?: number;
  /** The flags as they would be typed, for messages: `--only model=small --limit 3`. */
  readonly flags: string;
  /** The `--only` and `--unit` flags alone. */
  readonly picked: string;
}

/** Whether any subset flag is set (resolveSubset needs every unit then). */
export function hasSubset(f: SubsetFlags): boolean {
  return f.limit !== undefined || (f.only ?? []).length > 0 || (f.units ?? []).length > 0;
}

/**
 * Checks the subset flags against every unit of the experiment (not only this shard's: a
 * value that is in another shard is not a typo) and resolves them. Undefined when no flag
 * asks for a subset. A key no unit has, a value no unit has, an unknown unit id: a UserError
 * that lists what there is, before anything is opened or written. Pure.
 */
export function resolveSubset(units: readonly Unit[], f: SubsetFlags): Subset | undefined {
  const only = f.only ?? [];
  const wanted = f.units ?? [];
  if (!hasSubset(f)) return undefined;
  if (f.limit !== undefined && (!Number.isInteger(f.limit) || f.limit < 1))
    throw new UserError(`Expected --limit ≥ 1 (an integer), got ${JSON.stringify(f.limit)}`);
  const match: ((u: Unit) => boolean)[] = [];
  for (const [key, values] of byKey(only)) match.push(onlyMatcher(units, key, values));
  if (wanted.length > 0) {
    const known = new Set(units.map((u) => u.id));
    for (const id of wanted) if (!known.has(id)) throw unknownUnit(id, units);
    const asked = new Set(wanted);
    match.push((u) => asked.has(u.id));
  }
  const picked = [...only.map((o) => `--only ${o.key}=${o.value}`), ...wanted.map((id) => `--unit ${id}`)].join(' ');
  const flags = [picked, f.limit !== undefined ? `--limit ${f.limit}` : ''].filter(Boolean).join(' ');
  if (match.length === 0) return { limit: f.limit, flags, picked };
  const ids = new Set(units.filter((u) => match.every((m) => m(u))).map((u) => u.id));
  if (ids.size === 0)
    throw new UserError(`No unit matches all of ${picked}: expected flags that some unit meets together`, {}, [
      'Each flag matches some units on its own; across keys they are ANDed (within one key, ORed).',
    ]);
  return { ids, limit: f.limit, flags, picked };
}

/** Values asked for per key, keys in the order first given. */
function byKey(only: readonly { readonly key: string; readonly value: string }[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const { key, value } of only) out.set(key, [...(out.get(key) ?? []), value]);
  return out;
}

function onlyMatcher(units: readonly Unit[], key: string, values: readonly string[]): (u: Unit) => boolean {
  const source = keySource(units, key);
  const seen = new Set<string>();
  for (const u of units) seen.add(keyValue(u, source));
  if (source.kind === 'item' && seen.size === 1 && seen.has(NO_VALUE))
    throw unknownKeyError(units, key, { flag: `--only ${key}=…`, last: 'The keys are those of `status --by`.' });
  for (const v of values) {
    if (!seen.has(v))
      throw new UserError(`--only ${key}=${v}: no unit has ${key} ${JSON.stringify(v)}; expected one of the values there are`, {}, [
        `values of ${key}: ${listed([...seen])}`,
      ]);
  }
  const asked = new Set(values);
  return (u) => asked.has(keyValue(u, source));
}

const NEAR_SHOWN = 5;

function unknownUnit(id: string, units: readonly Unit[]): UserError {
  const near = nearIds(id, units, NEAR_SHOWN);
  return new UserError(
    `--unit ${id}: no unit has this id; expected the id of a unit of this experiment (like ${units[0]?.id ?? 'q1'})`,
    {},
    [
      near.length
        ? `near ids: ${near.join(', ')}`
        : `ids look like: ${units
            .slice(0, 3)
            .map((u) => u.id)
            .join(', ')}`,
      '`resumable run <file> --dry-run --verbose` lists the ids.',
    ],
  );
}

/**
 * The ids closest to a mistyped one: edit distance within a third of its length (at least
 * 2), nearest first, then those sharing the longest prefix. One pass with a banded distance
 * that gives up early, so a million ids cost little.
 */
export function nearIds(id: string, units: readonly Unit[], n: number): string[] {
  const cutoff = Math.max(2, Math.floor(id.length / 3));
  const close: { id: string; d: number }[] = [];
  let bestPrefix = 0;
  let prefixed: string[] = [];
  for (const u of units) {
    const d = boundedDistance(id, u.id, cutoff);
    if (d <= cutoff) close.push({ id: u.id, d });
    const p = commonPrefix(id, u.id);
    if (p > bestPrefix) [bestPrefix, prefixed] = [p, [u.id]];
    else if (p === bestPrefix && p > 0 && prefixed.length < n) prefixed.push(u.id);
  }
  close.sort((a, b) => a.d - b.d);
  const out = close.slice(0, n).map((c) => c.id);
  for (const p of prefixed) if (out.length < n && !out.includes(p)) out.push(p);
  return out;
}

/** Levenshtein distance, or cutoff + 1 as soon as it must exceed the cutoff. */
function boundedDistance(a: string, b: string, cutoff: number): number {
  if (Math.abs(a.length - b.length) > cutoff) return cutoff + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let min = i;
    for (let j = 1; j <= b.length; j++) {
      const d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(d);
      if (d < min) min = d;
    }
    if (min > cutoff) return cutoff + 1;
    prev = row;
  }
  return prev[b.length]!;
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

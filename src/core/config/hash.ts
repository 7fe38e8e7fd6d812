import { createHash } from 'node:crypto';
import type { ItemFields } from './items';
import type { Experiment } from './schema';

/**
 * What decides a unit's results. Runtime knobs (concurrency, timeouts, retries, rate-limit
 * waits, grace, maxLogBytes) are left out on purpose: a resume may change them freely.
 */
export interface ResultKey {
  readonly items: { readonly count: number; readonly digest: string };
  readonly matrix: Experiment['matrix'];
  readonly command?: readonly string[];
  /** `run.worker` (a worker's argv decides results as a command does); absent for a command, so older runs keep their hash. */
  readonly worker?: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly result: Experiment['result'];
  readonly seed: number;
}

/** `known`: the items' digest from a fingerprint of the unchanged file (itemsSource.ts), so a million items are not hashed again. */
export function resultKey(
  config: Experiment,
  items: readonly { id: string; fields: ItemFields }[] | undefined,
  known?: { readonly count: number; readonly digest: string },
): ResultKey {
  return {
    items:
      known && (items === undefined || known.count === items.length)
        ? { count: known.count, digest: known.digest }
        : itemsDigest(items ?? []),
    matrix: config.matrix,
    command: config.run.command,
    worker: config.run.worker,
    cwd: config.run.cwd,
    env: config.run.env,
    result: keyOfResult(config.result),
    seed: config.seed,
  };
}

export function itemsDigest(items: readonly { id: string; fields: ItemFields }[]): { count: number; digest: string } {
  const h = createHash('sha256');
  for (const it of items) h.update(canonicalJson([it.id, it.fields])).update('\n');
  return { count: items.length, digest: h.digest('hex').slice(0, 16) };
}

/**
 * No result rule is keyed as the rule it used to default to ({ file: "result.json" }), so a
 * run started before rules became optional keeps its hash (and its run folder).
 */
function keyOfResult(r: Experiment['result']): Experiment['result'] {
  // What an attempt spent and its metrics are read, not judged: adding them to a run is not drift.
  const { cost: _cost, tokens: _tokens, metrics: _metrics, ...rule } = r;
  return rule.file === undefined && rule.path === undefined && rule.from === undefined ? { ...rule, file: 'result.json' } : rule;
}

export function hashOf(key: ResultKey): string {
  return createHash('sha256').update(canonicalJson(key)).digest('hex');
}

/** JSON with sorted object keys, so equal values hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export interface FieldChange {
  readonly path: string;
  readonly before: string;
  readonly after: string;
}

/** Field-by-field differences between two result keys, leaves only. */
export function diffResultKeys(before: Partial<ResultKey>, after: Partial<ResultKey>): FieldChange[] {
  const out: FieldChange[] = [];
  walk(before, after, '$');
  return out;

  function walk(a: unknown, b: unknown, path: string): void {
    if (canonicalJson(a) === canonicalJson(b)) return;
    const bothObjects =
      a && b && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b) && !Array.isArray(a);
    if (bothObjects) {
      const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
      for (const k of [...keys].sort()) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      return;
    }
    out.push({ path, before: show(a), after: show(b) });
  }
}

function show(v: unknown): string {
  const s = v === undefined ? '(absent)' : JSON.stringify(v);
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

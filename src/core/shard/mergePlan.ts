import type { Unit } from '../config/units';
import type { JournalRecord } from '../store/events';
import type { Shard } from '../store/paths';
import { applyRecord, isFinal, newView } from '../model/view';
import { shardOf } from './partition';

/** One journal to merge: the whole run's (no shard) or a shard's, with its records in order. */
export interface MergeInput {
  readonly name: string;
  readonly shard?: Shard;
  readonly records: readonly JournalRecord[];
}

export interface MergePlan {
  /** Units with an outcome (passed, failed or error) in some journal. */
  readonly done: number;
  /** Units with no outcome in any journal merged (and not in a shard left out). */
  readonly missing: string[];
  /** Units of shards left out that have no outcome yet: they stay with their shard. */
  readonly leftOut: string[];
  /** Units with an outcome in more than one shard journal, with where. */
  readonly duplicated: { id: string; in: string[] }[];
  /** Units finished in a shard journal that is not theirs (another shard count wrote it). */
  readonly misplaced: { id: string; in: string; belongsTo: string }[];
  /** Ids in the journals that the config does not have. */
  readonly unknown: string[];
  /** Unit records of every journal, whole run first then shards in order: the merged journal's body. */
  readonly records: JournalRecord[];
}

const UNIT_RECORDS = new Set(['start', 'end', 'adopt', 'requeue']);

/**
 * Completeness by unit id, never by counts: each journal is replayed on its own, and every
 * unit of the config must have an outcome in one of them. A unit done both in the whole
 * run's journal and in its shard's is not a duplicate (the shard continued from it: a
 * re-run there was asked for with --retry-*); done in two shard journals, it is.
 */
export function planMerge(units: readonly Unit[], inputs: readonly MergeInput[], leftOut: readonly Shard[]): MergePlan {
  const ids = units.map((u) => u.id);
  const known = new Set(ids);
  const unknown = new Set<string>();
  const doneIn = new Map<string, string[]>();
  const misplaced: MergePlan['misplaced'] = [];
  const records: JournalRecord[] = [];
  const ordered = [...inputs].sort((a, b) => (a.shard?.k ?? 0) - (b.shard?.k ?? 0));
  for (const input of ordered) {
    const view = newView(ids);
    for (const r of input.records) {
      applyRecord(view, r);
      if (!UNIT_RECORDS.has(r.t)) continue;
      records.push(r);
      if ('u' in r && typeof r.u === 'string' && !known.has(r.u)) unknown.add(r.u);
    }
    for (const [id, v] of view.units) {
      if (!isFinal(v.status)) continue;
      if (input.shard) {
        const k = shardOf(id, input.shard.n);
        if (k !== input.shard.k) misplaced.push({ id, in: input.name, belongsTo: `${k}of${input.shard.n}` });
      }
      doneIn.set(id, [...(doneIn.get(id) ?? []), input.name]);
    }
  }
  const baseNames = new Set(inputs.filter((i) => !i.shard).map((i) => i.name));
  const n = leftOut[0]?.n;
  const out = new Set(leftOut.map((s) => s.k));
  const missing: string[] = [];
  const left: string[] = [];
  const duplicated: MergePlan['duplicated'] = [];
  let done = 0;
  for (const id of ids) {
    const where = doneIn.get(id) ?? [];
    const inShards = where.filter((w) => !baseNames.has(w));
    if (inShards.length > 1) duplicated.push({ id, in: inShards });
    if (where.length > 0) done++;
    else if (n !== undefined && out.has(shardOf(id, n))) left.push(id);
    else missing.push(id);
  }
  return { done, missing, leftOut: left, duplicated, misplaced, unknown: [...unknown], records };
}

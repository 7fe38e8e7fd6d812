import type { Unit } from '../config/units';
import type { RunView, UnitView } from '../model/view';

type Status = UnitView['status'];

/** One run as a comparison reads it: its units (from its frozen config) and their state (from its journals). */
export interface CompareSide {
  readonly label: string;
  readonly units: readonly Unit[];
  readonly view: RunView;
}

/**
 * What "the same unit" is across two runs. `id`: the same unit id (same item, same matrix
 * values, same repeat) — runs of one experiment, before and after. `item`: the same item and
 * repeat, whatever the matrix says — two experiments over the same items (another model, a
 * new prompt), each unit of A with the unit of B that has its item; a run whose matrix has
 * several cells per item cannot be matched this way (said as an error).
 */
export type MatchBy = 'id' | 'item';

export interface UnitChange {
  /** The key both runs share (the unit id, or item id + repeat). */
  readonly key: string;
  readonly a: string;
  readonly b: string;
  readonly before: Status;
  readonly after: Status;
  /** Why it ended as it did in B (its error, its failed check). */
  readonly why?: string;
}

export interface GroupDelta {
  /** The matched units' group (matrix cell): B's, or "A's → B's" when paired by item across cells. */
  readonly group: string;
  readonly matched: number;
  readonly passedA: number;
  readonly passedB: number;
  /** Units with a verdict (passed or failed) in each: the pass rate's denominator. */
  readonly verdictsA: number;
  readonly verdictsB: number;
  /** `result.metrics` means over the matched units that reported them, in A and in B. */
  readonly metrics: Readonly<Record<string, { readonly a: number | null; readonly b: number | null }>>;
}

export interface Comparison {
  readonly a: string;
  readonly b: string;
  readonly matchBy: MatchBy;
  readonly matched: number;
  readonly onlyA: readonly string[];
  readonly onlyB: readonly string[];
  /** passed in A, failed or error in B. */
  readonly regressions: readonly UnitChange[];
  /** failed or error in A, passed in B. */
  readonly fixes: readonly UnitChange[];
  /** An error in B where A had an outcome that was not one (failed → error counts; error → error does not). */
  readonly newErrors: readonly UnitChange[];
  /** Other status changes (an outcome in one and none yet in the other, failed ↔ error). */
  readonly otherChanges: number;
  readonly groups: readonly GroupDelta[];
}

export class CompareError extends Error {}

/** A comparison of two runs, unit by unit. Pure: the CLI and the dashboard show it. */
export function compareRuns(a: CompareSide, b: CompareSide, matchBy: MatchBy = 'id'): Comparison {
  const keyed = (s: CompareSide) => {
    const m = new Map<string, Unit>();
    for (const u of s.units) {
      const k = keyOf(u, matchBy);
      if (m.has(k))
        throw new CompareError(
          `${s.label} has more than one unit for item ${JSON.stringify(u.item.id)}${u.repeat ? ` repeat ${u.repeat}` : ''} (its matrix has several cells): match by unit id, or compare runs with one cell per item`,
        );
      m.set(k, u);
    }
    return m;
  };
  const ka = keyed(a);
  const kb = keyed(b);
  const regressions: UnitChange[] = [];
  const fixes: UnitChange[] = [];
  const newErrors: UnitChange[] = [];
  let otherChanges = 0;
  let matched = 0;
  const groups = new Map<string, Acc>();
  const onlyB: string[] = [];
  for (const [k, ub] of kb) {
    const ua = ka.get(k);
    if (!ua) {
      onlyB.push(ub.id);
      continue;
    }
    matched++;
    const va = a.view.units.get(ua.id);
    const vb = b.view.units.get(ub.id);
    const before = va?.status ?? 'pending';
    const after = vb?.status ?? 'pending';
    // Paired by item, the two sides' cells differ (small → large): the group names both.
    const label = matchBy === 'item' && ua.group !== ub.group ? `${ua.group} → ${ub.group}` : ub.group;
    let g = groups.get(label);
    if (!g) groups.set(label, (g = { matched: 0, passedA: 0, passedB: 0, verdictsA: 0, verdictsB: 0, m: new Map() }));
    g.matched++;
    if (before === 'passed') g.passedA++;
    if (after === 'passed') g.passedB++;
    if (before === 'passed' || before === 'failed') g.verdictsA++;
    if (after === 'passed' || after === 'failed') g.verdictsB++;
    addMetrics(g.m, va?.m, 0);
    addMetrics(g.m, vb?.m, 1);
    if (before === after) continue;
    const change: UnitChange = { key: k, a: ua.id, b: ub.id, before, after, ...(vb?.why ? { why: vb.why } : {}) };
    const bad = (s: Status) => s === 'failed' || s === 'error';
    if (before === 'passed' && bad(after)) regressions.push(change);
    else if (bad(before) && after === 'passed') fixes.push(change);
    else otherChanges++;
    if (after === 'error' && before !== 'error') newErrors.push(change);
  }
  const onlyA = [...ka].filter(([k]) => !kb.has(k)).map(([, u]) => u.id);
  return {
    a: a.label,
    b: b.label,
    matchBy,
    matched,
    onlyA,
    onlyB,
    regressions,
    fixes,
    newErrors,
    otherChanges,
    groups: [...groups].map(([group, { m, ...g }]) => ({
      group,
      ...g,
      metrics: Object.fromEntries([...m].map(([k, [a, b]]) => [k, { a: a.n ? a.sum / a.n : null, b: b.n ? b.sum / b.n : null }])),
    })),
  };
}

interface Acc {
  matched: number;
  passedA: number;
  passedB: number;
  verdictsA: number;
  verdictsB: number;
  m: Map<string, [{ sum: number; n: number }, { sum: number; n: number }]>;
}

function addMetrics(into: Acc['m'], m: Readonly<Record<string, number>> | undefined, side: 0 | 1): void {
  for (const [k, v] of Object.entries(m ?? {})) {
    let pair = into.get(k);
    if (!pair)
      into.set(
        k,
        (pair = [
          { sum: 0, n: 0 },
          { sum: 0, n: 0 },
        ]),
      );
    pair[side].sum += v;
    pair[side].n++;
  }
}

function keyOf(u: Unit, by: MatchBy): string {
  return by === 'id' ? u.id : u.repeat ? `${u.item.id}/r${u.repeat}` : u.item.id;
}

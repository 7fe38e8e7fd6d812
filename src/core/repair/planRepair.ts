import type { Outcome, JournalRecord } from '../store/events';
import { isFinal, type RunView } from '../model/view';

export interface FoundResult {
  readonly unitId: string;
  readonly status: Outcome | 'unreadable';
  readonly why?: string;
  /** Its metrics and spend, as its result file says (kept in the adopt line). */
  readonly facts?: { readonly m?: Record<string, number>; readonly usd?: number; readonly tok?: number };
}

export interface RepairPlan {
  /** The journal to write: the good records, then one adopt per result the journal missed. */
  readonly records: JournalRecord[];
  readonly adopted: string[];
  /** Damaged lines that are left out (line numbers), and the torn tail. */
  readonly dropped: number[];
  readonly droppedTornTail: boolean;
  /** Result files that could not be judged (cut short): left for the unit to run again. */
  readonly unreadable: string[];
  readonly changed: boolean;
}

/**
 * Rebuilds a journal from what survived: its good lines and the result files on disk.
 * Pure, so idempotence is easy to see: a second plan over its own output adopts nothing.
 */
export function planRepair(
  good: readonly JournalRecord[],
  view: RunView,
  found: readonly FoundResult[],
  damage: { corruptLines: readonly number[]; tornTail: boolean },
  now: number,
): RepairPlan {
  const records = [...good];
  const adopted: string[] = [];
  const unreadable: string[] = [];
  for (const f of found) {
    const u = view.units.get(f.unitId);
    if (!u || isFinal(u.status)) continue;
    if (f.status === 'unreadable') {
      unreadable.push(f.unitId);
      continue;
    }
    records.push({
      t: 'adopt',
      ts: now,
      u: f.unitId,
      s: f.status,
      why: `repair: result file on disk, not in the journal${f.why ? `: ${f.why}` : ''}`,
      ...f.facts,
    });
    adopted.push(f.unitId);
  }
  const changed = adopted.length > 0 || damage.corruptLines.length > 0 || damage.tornTail;
  return { records, adopted, dropped: [...damage.corruptLines], droppedTornTail: damage.tornTail, unreadable, changed };
}

export function describeRepair(p: RepairPlan): string {
  const parts = [`+${p.adopted.length} adopted`, `${p.dropped.length + (p.droppedTornTail ? 1 : 0)} dropped`];
  if (p.unreadable.length) parts.push(`${p.unreadable.length} unreadable result(s) left to run again`);
  return parts.join(', ');
}

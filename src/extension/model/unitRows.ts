import type { Unit } from '../../core/config/units';
import type { RunView } from '../../core/model/view';
import type { ExperimentEntry } from './treeModel';

/**
 * A run's unit rows for the tree, each in the group the run's report was made with
 * (`groupOf[i]` is units[i]'s: by matrix cell, or by `resumable.tree.groupBy`), so that a
 * group row's counts and the units under it agree. Pure; no I/O.
 */
export function unitRows(units: readonly Unit[], view: RunView, groupOf: readonly string[]): NonNullable<ExperimentEntry['units']> {
  return units.map((u, i) => {
    const v = view.units.get(u.id)!;
    return { id: u.id, group: groupOf[i] ?? u.group, status: v.status, why: v.why, attempts: v.attempts };
  });
}

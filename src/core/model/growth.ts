import { canonicalJson, diffResultKeys, type FieldChange, type ResultKey } from '../config/hash';
import type { LoadedExperiment } from '../config/load';
import { matrixKeys } from '../config/units';
import { unitsOfFrozen, type FrozenExperiment } from './frozen';

/** An item whose fields changed between the run's config and the experiment file. */
export interface ItemChange {
  readonly id: string;
  /** Top-level fields that were added, removed or changed. */
  readonly fields: readonly string[];
}

/**
 * How an experiment file relates to the config its run was started with (invariant 5,
 * docs/architecture.md): the same; grown (units only added or removed: every unit both
 * have is run exactly as before, so its outcome still holds); or changed in what existing
 * units do, which is drift.
 */
export type Growth =
  | { readonly kind: 'same' }
  | {
      readonly kind: 'grows';
      /** Unit ids the experiment file adds, in its order. */
      readonly added: readonly string[];
      /** Unit ids of the run the experiment file no longer has: they stay in the journal and leave the counts. */
      readonly removed: readonly string[];
    }
  | {
      readonly kind: 'drift';
      /** Fields of the config that decide every unit's result (command, env, result rule, seed, matrix keys…). */
      readonly fields: readonly FieldChange[];
      /** Items both have, whose fields differ. */
      readonly items: readonly ItemChange[];
    };

export function growthOf(frozen: FrozenExperiment, exp: LoadedExperiment): Growth {
  if (frozen.hash === exp.hash) return { kind: 'same' };
  const fields = diffResultKeys(unitFree(frozen.key), unitFree(exp.key));
  const before = frozen.config.matrix;
  const after = exp.config.matrix;
  // A unit's id joins its matrix values in key order, and names its repeat: other keys, another
  // order or a repeat that comes or goes give every unit another id (and another command).
  const keysBefore = matrixKeys(before);
  const keysAfter = matrixKeys(after);
  if (keysBefore.join('\0') !== keysAfter.join('\0'))
    fields.push({ path: '$.matrix (its keys)', before: JSON.stringify(keysBefore), after: JSON.stringify(keysAfter) });
  if ((before.repeat === undefined) !== (after.repeat === undefined))
    fields.push({ path: '$.matrix.repeat', before: String(before.repeat ?? '(absent)'), after: String(after.repeat ?? '(absent)') });
  const items = changedItems(frozen.items, exp.items);
  if (fields.length > 0 || items.length > 0) return { kind: 'drift', fields, items };
  const old = new Set(unitsOfFrozen(frozen).map((u) => u.id));
  const now = new Set(exp.units.map((u) => u.id));
  return {
    kind: 'grows',
    added: exp.units.filter((u) => !old.has(u.id)).map((u) => u.id),
    removed: [...old].filter((id) => !now.has(id)),
  };
}

/** The result key without what only says which units there are (the items' rows, the matrix values). */
function unitFree(key: ResultKey): Omit<ResultKey, 'items' | 'matrix'> {
  const { items: _items, matrix: _matrix, ...rest } = key;
  return rest;
}

function changedItems(
  before: readonly { id: string; fields: Record<string, unknown> }[],
  after: readonly { id: string; fields: Record<string, unknown> }[],
): ItemChange[] {
  const old = new Map(before.map((i) => [i.id, i.fields]));
  const out: ItemChange[] = [];
  for (const it of after) {
    const was = old.get(it.id);
    if (!was) continue;
    const names = [...new Set([...Object.keys(was), ...Object.keys(it.fields)])].sort();
    const fields = names.filter((k) => canonicalJson(was[k]) !== canonicalJson(it.fields[k]));
    if (fields.length > 0) out.push({ id: it.id, fields });
  }
  return out;
}

/** "3 added (q101, q102, q103), 1 removed (q007)": for notes and the dry run. */
export function growthText(g: Extract<Growth, { kind: 'grows' }>): string {
  const ex = (l: readonly string[]) => (l.length ? ` (${l.slice(0, 3).join(', ')}${l.length > 3 ? ', …' : ''})` : '');
  const parts = [`${g.added.length} unit${g.added.length === 1 ? '' : 's'} added${ex(g.added)}`];
  if (g.removed.length) parts.push(`${g.removed.length} removed${ex(g.removed)}`);
  return parts.join(', ');
}

import { UserError } from '../errors';
import { idProblem } from '../ids';
import { itemsChecked, type Item } from './items';
import type { Experiment, Scalar } from './schema';

/** One item × one matrix cell × one repeat. */
export interface Unit {
  /** Stable, readable: `<item id>/<value per matrix key>/r<k>`. */
  readonly id: string;
  readonly item: Item;
  /** Matrix values by key (without repeat). */
  readonly cell: Readonly<Record<string, Scalar>>;
  /** 1-based repeat index, or undefined when the matrix has no repeat. */
  readonly repeat?: number;
  /** Matrix values joined: the unit's group in status and the tree ("" without a matrix). */
  readonly group: string;
}

export function matrixKeys(matrix: Experiment['matrix']): string[] {
  return Object.keys(matrix).filter((k) => k !== 'repeat');
}

/** The cross product, in a deterministic order: items outermost, then keys in file order. */
export function expandUnits(items: readonly Item[], matrix: Experiment['matrix']): Unit[] {
  const keys = matrixKeys(matrix);
  // No matrix, no repeat: a unit per item with the item's id, which loadItems already checked
  // (distinct, a valid id); a million units then share one empty cell.
  if (keys.length === 0 && matrix.repeat === undefined && itemsChecked(items)) {
    return items.map((item) => ({ id: item.id, item, cell: NO_CELL, repeat: undefined, group: '' }));
  }
  if (keys.length === 0 && matrix.repeat === undefined) return plainUnits(items);
  const cells = matrixCells(matrix);
  const repeats = matrix.repeat;
  const units: Unit[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    for (const values of cells) {
      const cell: Record<string, Scalar> = {};
      keys.forEach((k, i) => (cell[k] = values[i]!));
      const group = values.map(String).join('/');
      const base = group ? `${item.id}/${group}` : item.id;
      for (let r = 1; r <= (repeats ?? 1); r++) {
        const id = repeats ? `${base}/r${r}` : base;
        if (seen.has(id)) {
          throw new UserError(
            `Unit id ${JSON.stringify(id)} is produced twice (an item id and a matrix value with "/" run into each other); expected distinct unit ids`,
            item.where,
          );
        }
        const problem = idProblem(id);
        if (problem) throw new UserError(`Unit id ${JSON.stringify(id)} ${problem}; check the matrix values`, item.where);
        seen.add(id);
        units.push({ id, item, cell, repeat: repeats ? r : undefined, group });
      }
    }
  }
  return units;
}

const NO_CELL: Readonly<Record<string, Scalar>> = Object.freeze({});

/** A unit per item, ids checked here (items not from loadItems: a frozen config's, which a hand may have edited). */
function plainUnits(items: readonly Item[]): Unit[] {
  const seen = new Set<string>();
  return items.map((item) => {
    if (seen.has(item.id))
      throw new UserError(`Unit id ${JSON.stringify(item.id)} is produced twice; expected distinct unit ids`, item.where);
    const problem = idProblem(item.id);
    if (problem) throw new UserError(`Unit id ${JSON.stringify(item.id)} ${problem}; check the item ids`, item.where);
    seen.add(item.id);
    return { id: item.id, item, cell: NO_CELL, repeat: undefined, group: '' };
  });
}

/** The matrix's cells (values per key, keys in file order), in the order units are made. */
export function matrixCells(matrix: Experiment['matrix']): Scalar[][] {
  return cartesian(matrixKeys(matrix).map((k) => matrix[k] as Scalar[]));
}

function cartesian(lists: Scalar[][]): Scalar[][] {
  return lists.reduce<Scalar[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

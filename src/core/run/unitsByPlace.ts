import type { LoadedExperiment } from '../config/load';
import { UserError } from '../errors';
import type { Unit } from '../config/units';
import type { RunView } from '../model/view';

/** Rows read one by one before the rest are read in one go. */
const LAZY_READS = 20_000;

/** The run's units in config order, each with its place in the view; a unit object only when asked for. */
export interface UnitsByPlace {
  readonly count: number;
  id(k: number): string;
  /** Its index in `view.units` (-1: not in the view, e.g. another shard's). */
  place(k: number): number;
  unit(k: number): Unit;
}

/**
 * A resume of an unchanged, indexed dataset (config/lazyUnits.ts) whose view holds every unit
 * in config order (read from the unit snapshot) takes ids from the view and reads only the
 * items of the units it asks for. Anything else (a shard, a first run, a lazy unit that does
 * not match its id) goes through `exp.units`, every item read.
 */
export function unitsByPlace(exp: LoadedExperiment, view: RunView): UnitsByPlace {
  const table = view.units;
  const lazy = exp.lazy && !exp.lazy.materialized() && table.size === exp.lazy.units.count ? exp.lazy.units : undefined;
  if (lazy) {
    let whole = false;
    let reads = 0;
    return {
      count: lazy.count,
      id: (k) => table.ids[k]!,
      place: (k) => k,
      unit: (k) => {
        // Many units left: one read of the whole file beats a read per row.
        if (++reads > LAZY_READS) whole = true;
        if (!whole) {
          const u = lazy.unitAt(k);
          if (u.id === table.ids[k]) return u;
          // The index or the snapshot is not what it claims: every item is read from now on
          // (reading them checks the dataset against the run's fingerprint: config/load.ts).
          whole = true;
        }
        const u = exp.units[k]!;
        if (u.id !== table.ids[k]) throw notTheRunsUnits(u.id, table.ids[k]!);
        return u;
      },
    };
  }
  const units = exp.units;
  return {
    count: units.length,
    id: (k) => units[k]!.id,
    place: (k) => (table.ids[k] === units[k]!.id ? k : table.indexOf(units[k]!.id)),
    unit: (k) => units[k]!,
  };
}

function notTheRunsUnits(config: string, snapshot: string): UserError {
  return new UserError(
    `The run's unit snapshot has unit ${JSON.stringify(snapshot)} where the experiment has ${JSON.stringify(config)}; refusing to run either in the other's place`,
    {},
    ['Move snapshot.bin out of the run folder and run again: the run is then read from its journal alone.'],
  );
}

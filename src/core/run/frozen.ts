import * as fs from 'node:fs';
import type { LoadedExperiment } from '../config/load';
import type { ResultKey } from '../config/hash';
import type { Experiment } from '../config/schema';
import type { Item, ItemFields } from '../config/items';
import { expandUnits, type Unit } from '../config/units';
import { UserError } from '../errors';
import { readJsonFile, writeJsonAtomic } from '../store/atomicFile';
import { checkSchemaVersion, STORE_SCHEMA_VERSION } from '../store/schemaVersion';

/** experiment.json in the run folder: the resolved config the run was started with. */
export interface FrozenExperiment {
  readonly schemaVersion: number;
  readonly name: string;
  readonly hash: string;
  readonly key: ResultKey;
  readonly experimentFile: string;
  readonly createdAt: number;
  readonly config: Experiment;
  readonly items: readonly { id: string; fields: ItemFields }[];
}

export function freeze(exp: LoadedExperiment, now: number): FrozenExperiment {
  return {
    schemaVersion: STORE_SCHEMA_VERSION, name: exp.config.name, hash: exp.hash, key: exp.key,
    experimentFile: exp.file, createdAt: now, config: exp.config,
    items: exp.items.map((i) => ({ id: i.id, fields: i.fields })),
  };
}

export function readFrozen(file: string): FrozenExperiment | undefined {
  let v: unknown;
  try {
    v = readJsonFile(file);
  } catch (e) {
    throw new UserError(`Expected the run's frozen config to be valid JSON: ${(e as Error).message}`, { file }, ['Run `resumable repair <run folder>` to rebuild it from the experiment file.']);
  }
  if (v === undefined) return undefined;
  checkSchemaVersion((v as { schemaVersion?: unknown }).schemaVersion, file);
  return v as FrozenExperiment;
}

export async function writeFrozen(file: string, frozen: FrozenExperiment): Promise<void> {
  if (fs.existsSync(file)) return;
  await writeJsonAtomic(file, frozen);
}

/** Units of a run, rebuilt from its frozen config alone (status and repair need no dataset). */
export function unitsOfFrozen(frozen: FrozenExperiment): Unit[] {
  const items: Item[] = frozen.items.map((i) => ({ id: i.id, fields: i.fields, where: {} }));
  return expandUnits(items, frozen.config.matrix);
}

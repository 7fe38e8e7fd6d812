import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedExperiment } from '../config/load';
import type { Experiment } from '../config/schema';
import { sameSource, type ItemsDigest, type ItemsSource } from '../config/itemsSource';
import { writeJsonAtomic } from '../store/atomicFile';
import type { RunPaths } from '../store/paths';
import { readRegularFile } from '../store/safeRead';
import { STORE_SCHEMA_VERSION } from '../store/schemaVersion';

/** items.fingerprint.json, beside the frozen config: the dataset file as it was hashed, and its items' digest. */
interface Fingerprint {
  readonly schemaVersion: number;
  readonly source: ItemsSource;
  readonly items: ItemsDigest;
}

const NAME = 'items.fingerprint.json';

/**
 * The digest of a dataset file's items if a run folder of this experiment hashed this very
 * file (same path, spec and stat, or same bytes). Any doubt is a miss: the items are hashed.
 */
export function knownItems(source: ItemsSource, config: Experiment, experimentDir: string): ItemsDigest | undefined {
  const root = path.resolve(experimentDir, config.runRoot);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return undefined;
  }
  const prefix = `${config.name}-`;
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{8}$/.test(name.slice(prefix.length))) continue;
    const fp = readFingerprint(path.join(root, name, NAME));
    if (fp && sameSource(source, fp.source)) return fp.items;
  }
  return undefined;
}

/** Keeps the fingerprint of the file this run's items came from (the caller holds the run's lock). */
export async function saveItemsFingerprint(exp: LoadedExperiment, paths: RunPaths): Promise<void> {
  const source = exp.itemsSource;
  if (!source) return;
  const file = path.join(paths.root, NAME);
  const had = readFingerprint(file);
  const items = exp.key.items;
  const same =
    had &&
    had.items.digest === items.digest &&
    had.items.count === items.count &&
    had.source.size === source.size &&
    had.source.mtimeMs === source.mtimeMs &&
    had.source.ino === source.ino &&
    had.source.sha256 === source.sha256 &&
    had.source.file === source.file &&
    had.source.spec === source.spec;
  if (same) return;
  const fp: Fingerprint = { schemaVersion: STORE_SCHEMA_VERSION, source, items: { count: items.count, digest: items.digest } };
  await writeJsonAtomic(file, fp);
}

function readFingerprint(file: string): Fingerprint | undefined {
  const read = readRegularFile(file, { what: 'an items fingerprint' });
  if (read.kind !== 'text') return undefined;
  try {
    const v = JSON.parse(read.text) as Partial<Fingerprint>;
    const s = v.source;
    const ok =
      v.schemaVersion === STORE_SCHEMA_VERSION &&
      s !== undefined &&
      typeof s.file === 'string' &&
      typeof s.spec === 'string' &&
      typeof s.sha256 === 'string' &&
      [s.size, s.mtimeMs, s.ino].every((x) => typeof x === 'number') &&
      typeof v.items?.digest === 'string' &&
      typeof v.items.count === 'number';
    return ok ? (v as Fingerprint) : undefined;
  } catch {
    return undefined;
  }
}

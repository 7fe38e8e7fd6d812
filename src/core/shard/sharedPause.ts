import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../store/atomicFile';
import type { RunPaths } from '../store/paths';
import { STORE_SCHEMA_VERSION } from '../store/schemaVersion';

/** `ratelimit.<k>of<N>.json`: the last rate-limit pause a shard took, with its reset time. */
export interface SharedPause {
  readonly schemaVersion: number;
  readonly shard: string;
  readonly until: number;
  readonly src: string;
  readonly why?: string;
  readonly ts: number;
}

/**
 * Each shard writes only its own file (no read-modify-write across machines, so no lost
 * update on a shared filesystem); readers take the latest reset among the others.
 */
export async function publishPause(paths: RunPaths, p: Omit<SharedPause, 'schemaVersion' | 'shard'>): Promise<void> {
  if (!paths.shard) return;
  await writeJsonAtomic(paths.sharedPause, { schemaVersion: STORE_SCHEMA_VERSION, shard: `${paths.shard.k}of${paths.shard.n}`, ...p });
}

/** The pause of another shard of this run that is still in force at `now`, the latest one. */
export function pauseOfOtherShards(paths: RunPaths, now: number): SharedPause | undefined {
  if (!paths.shard) return undefined;
  let names: string[];
  try {
    names = fs.readdirSync(paths.root);
  } catch {
    return undefined;
  }
  const mine = path.basename(paths.sharedPause);
  let best: SharedPause | undefined;
  for (const n of names) {
    if (n === mine || !/^ratelimit\.\d+of\d+\.json$/.test(n)) continue;
    let p: SharedPause | undefined;
    try {
      p = readJsonFile(path.join(paths.root, n)) as SharedPause | undefined;
    } catch {
      continue; // Being replaced right now, or damaged: it only ever delays dispatching, so skip it.
    }
    if (!p || typeof p.until !== 'number' || p.until <= now) continue;
    if (!best || p.until > best.until) best = p;
  }
  return best;
}

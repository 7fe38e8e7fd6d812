import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJsonFile, writeJsonAtomic } from '../store/atomicFile';
import type { RunPaths } from '../store/paths';
import { STORE_SCHEMA_VERSION } from '../store/schemaVersion';

/**
 * `ratelimit.<k>of<N>.json`: what one shard tells the others of the run (they share the API
 * key and the budget): its last rate-limit pause, its last adaptive cut, what it has spent and
 * how many units it has in flight, with a heartbeat.
 */
export interface SharedPause {
  readonly schemaVersion: number;
  readonly shard: string;
  readonly until: number;
  readonly src: string;
  readonly why?: string;
  readonly ts: number;
  /** Written at least every second while the shard runs; `live` false once it ended. */
  readonly heartbeat?: number;
  readonly live?: boolean;
  /** Wall time of its last adaptive cut (a rate limit it met). */
  readonly cutAt?: number;
  readonly spend?: { readonly usd: number; readonly tokens: number; readonly attempts: number };
  readonly inFlight?: number;
  /** Its successes a second over the last 5 s (adaptive runs): a cut paces each shard at an equal share of the sum. */
  readonly goodput?: number;
}

export type ShardState = Omit<SharedPause, 'schemaVersion' | 'shard'>;

/** A shard whose heartbeat is older than this is not counted among the live ones (its share of a per-minute budget goes to the others). */
export const LIVE_SHARD_MS = 10_000;

/**
 * Each shard writes only its own file (no read-modify-write across machines, so no lost
 * update on a shared filesystem); readers combine the others'.
 */
export async function publishPause(paths: RunPaths, p: ShardState): Promise<void> {
  if (!paths.shard) return;
  await writeJsonAtomic(paths.sharedPause, { schemaVersion: STORE_SCHEMA_VERSION, shard: `${paths.shard.k}of${paths.shard.n}`, ...p });
}

/** The other shards' files of this run, as they read now (a file being replaced or damaged is skipped). */
export function otherShards(paths: RunPaths): SharedPause[] {
  if (!paths.shard) return [];
  let names: string[];
  try {
    names = fs.readdirSync(paths.root);
  } catch {
    return [];
  }
  const mine = path.basename(paths.sharedPause);
  const found: SharedPause[] = [];
  for (const n of names) {
    if (n === mine || !/^ratelimit\.\d+of\d+\.json$/.test(n)) continue;
    try {
      const p = readJsonFile(path.join(paths.root, n)) as SharedPause | undefined;
      if (p && typeof p.until === 'number') found.push(p);
    } catch {
      // Being replaced right now, or damaged: it only ever delays dispatching, so skip it.
    }
  }
  return found;
}

/** The pause of another shard of this run that is still in force at `now`, the latest one. */
export function pauseOfOtherShards(paths: RunPaths, now: number, others = otherShards(paths)): SharedPause | undefined {
  let best: SharedPause | undefined;
  for (const p of others) if (p.until > now && (!best || p.until > best.until)) best = p;
  return best;
}

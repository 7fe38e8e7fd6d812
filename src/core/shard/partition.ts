import { createHash } from 'node:crypto';
import type { Shard } from '../store/paths';

/**
 * Which shard (1..n) a unit belongs to: sha256 of its id, first 48 bits, modulo n. Depends
 * on nothing but the id and n, so every shard of a run — on any machine, in any order —
 * agrees on the partition without talking to the others.
 */
export function shardOf(unitId: string, n: number): number {
  if (n <= 1) return 1;
  const h = createHash('sha256').update(unitId).digest();
  return (h.readUIntBE(0, 6) % n) + 1;
}

/** True when the unit is this shard's (always true for an unsharded run). */
export function inShard(unitId: string, shard: Shard | undefined): boolean {
  return !shard || shardOf(unitId, shard.n) === shard.k;
}

export function shardTag(shard: Shard): string {
  return `${shard.k}of${shard.n}`;
}

/** `2of4` → {k: 2, n: 4}; undefined for anything else. */
export function parseShardTag(tag: string): Shard | undefined {
  const m = /^(\d+)of(\d+)$/.exec(tag);
  if (!m) return undefined;
  const k = Number(m[1]);
  const n = Number(m[2]);
  return k >= 1 && k <= n ? { k, n } : undefined;
}

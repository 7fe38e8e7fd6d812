import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import { UserError } from '../errors';
import { liveHolder, type LockInfo } from '../store/lock';
import type { Shard } from '../store/paths';
import { parseShardTag, shardTag } from './partition';

/** What a run folder holds at its top: the whole run's journal, and which shards left files. */
export interface RunLayout {
  /** `journal.jsonl` exists: an unsharded run, or the merge of earlier shards. */
  readonly base: boolean;
  /** Shards with a journal, state or lock, sorted by n then k. */
  readonly shards: readonly Shard[];
}

const SHARD_FILE = /^(?:journal|state|lock|ratelimit)\.(\d+of\d+)(?:\.jsonl|\.json)?$/;

export function readLayout(root: string): RunLayout {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return { base: false, shards: [] };
  }
  const tags = new Set<string>();
  for (const n of names) {
    const m = SHARD_FILE.exec(n);
    if (m && parseShardTag(m[1]!)) tags.add(m[1]!);
  }
  const shards = [...tags].map((t) => parseShardTag(t)!).sort((a, b) => a.n - b.n || a.k - b.k);
  return { base: names.includes('journal.jsonl'), shards };
}

/** The shard counts present (normally one, or none). */
export function shardCounts(layout: RunLayout): number[] {
  return [...new Set(layout.shards.map((s) => s.n))];
}

/** Live holders of any lock of this run folder (the whole run's and every shard's). */
export function liveHolders(root: string, clock: Clock): { file: string; holder: LockInfo }[] {
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  const out: { file: string; holder: LockInfo }[] = [];
  for (const n of names) {
    if (n !== 'lock' && !/^lock\.\d+of\d+$/.test(n)) continue;
    const holder = liveHolder(path.join(root, n), clock);
    if (holder) out.push({ file: n, holder });
  }
  return out;
}

/**
 * Shards of one run must agree on how many there are: a unit's shard depends on N, so a
 * shard of another N would run units that another shard also runs.
 */
export function checkShardAgreement(root: string, shard: Shard | undefined, clock: Clock): void {
  const layout = readLayout(root);
  const counts = shardCounts(layout);
  const dir = path.relative(process.cwd(), root) || root;
  const files = (n: number) =>
    layout.shards
      .filter((s) => s.n === n)
      .map((s) => shardTag(s))
      .join(', ');
  if (!shard) {
    if (counts.length === 0) return;
    throw new UserError(
      `This run is split into ${counts.join(' and ')} shards (files of shards ${counts.map(files).join('; ')}); the whole run cannot start on top of them`,
      { file: dir },
      [`Run a shard (\`--shard k/${counts[0]}\`), or merge the shards into one journal first: \`resumable merge ${dir}\`.`],
    );
  }
  const other = counts.filter((n) => n !== shard.n);
  if (other.length > 0) {
    throw new UserError(
      `Shard ${shard.k} of ${shard.n} cannot join this run: it is split into ${other[0]} shards (files of shards ${files(other[0]!)})`,
      { file: dir },
      [
        `Run it as one of those (\`--shard k/${other[0]}\`), or finish and merge them first (\`resumable merge ${dir}\`); any number of shards can then continue from the merged journal.`,
      ],
    );
  }
  const whole = liveHolders(root, clock).find((h) => h.file === 'lock');
  if (whole)
    throw new UserError(
      `Shard ${shard.k} of ${shard.n} cannot start: the whole run is being run by pid ${whole.holder.pid} on ${whole.holder.host}`,
      { file: dir },
      ['Stop it first (Ctrl+C); it keeps everything finished.'],
    );
}

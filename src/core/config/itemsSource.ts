import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { canonicalJson } from './hash';
import type { Experiment } from './schema';
import type { ItemsIndex } from './lazyUnits';

/**
 * What an items file was when its items were hashed: the make/DVC fingerprint (path, size,
 * mtime, inode) and a digest of its bytes, with the items spec that decides how it is read.
 * Kept beside the frozen config (items.fingerprint.json), it lets a resume skip hashing a
 * million unchanged items; a file whose stat changed but whose bytes did not is still a hit.
 */
export interface ItemsSource {
  readonly file: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Changed by any write or rename, never set by hand (utimes, `cp -p`, rsync -t set only mtime). */
  readonly ctimeMs: number;
  readonly ino: number;
  readonly sha256: string;
  /** canonicalJson of the items spec (file, id field) it was read with. */
  readonly spec: string;
}

export interface ItemsDigest {
  readonly count: number;
  readonly digest: string;
  /** Where each item of the (JSON Lines) file starts, when the run kept that too: read when asked for. */
  readonly index?: () => ItemsIndex | undefined;
}

/** The fingerprint of a file read for its items (stat taken before the read: a later change shows as a miss). */
export function sourceOf(file: string, st: Stats, bytes: Buffer, spec: Experiment['items']): ItemsSource {
  return {
    file,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    spec: canonicalJson(spec),
  };
}

/**
 * Whether the file read now is the one a fingerprint was taken of: by its stat, unless the
 * file had changed just before it was hashed (`trustStat` false: a write in the same clock
 * tick as the hash would keep the stat, git's "racy" case), else by its bytes.
 */
export function sameSource(now: ItemsSource, then: ItemsSource & { readonly trustStat?: boolean }): boolean {
  if (now.file !== then.file || now.spec !== then.spec) return false;
  const stat = now.size === then.size && now.mtimeMs === then.mtimeMs && now.ctimeMs === then.ctimeMs && now.ino === then.ino;
  if (stat && then.trustStat !== false) return true;
  return now.sha256 !== '' && now.sha256 === then.sha256;
}

/** A file changed this close before it was hashed is known by its bytes, not its stat. */
export const RACY_MS = 2000;

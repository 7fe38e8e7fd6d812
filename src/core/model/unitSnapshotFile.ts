import * as fs from 'node:fs';
import * as path from 'node:path';
import { markHolds } from '../store/journalMark';
import { decodeUnitSnapshot, type DecodedSnapshot } from './unitSnapshot';

export type SnapshotLoad =
  | { readonly kind: 'absent' }
  /** Of another config (a run that grew): not damage, nothing to say. */
  | { readonly kind: 'other-config' }
  | { readonly kind: 'unusable'; readonly why: string }
  | { readonly kind: 'ok'; readonly snapshot: DecodedSnapshot };

/**
 * The unit snapshot at `file` if it is of config `hash` and covers exactly `journals` (in
 * order), each still the journal it was taken of. What the runner, `status` and the tree
 * read before the journals' new bytes.
 */
export function loadUnitSnapshot(file: string, hash: string, journals: readonly string[]): SnapshotLoad {
  let buf: Buffer;
  try {
    buf = readWhole(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'unusable', why: `it cannot be read (${(e as Error).message})` };
  }
  const decoded = decodeUnitSnapshot(buf);
  if ('problem' in decoded) return { kind: 'unusable', why: decoded.problem };
  const { meta } = decoded.snapshot;
  if (meta.hash !== hash) return { kind: 'other-config' };
  const names = journals.map((f) => path.basename(f));
  if (meta.journals.length !== names.length || meta.journals.some((j, i) => j.name !== names[i]))
    return { kind: 'unusable', why: 'it covers other journals' };
  const stale = meta.journals.find((j, i) => !markHolds(journals[i]!, j));
  if (stale)
    return { kind: 'unusable', why: `${stale.name} is not the journal it covers any more (rewritten by a repair, a fence or a merge)` };
  return { kind: 'ok', snapshot: decoded.snapshot };
}

/** Only a regular file (a FIFO must not hang a run or the editor), read whole. */
function readWhole(file: string): Buffer {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new Error('not a regular file');
    const buf = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = fs.readSync(fd, buf, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    return buf.subarray(0, at);
  } finally {
    fs.closeSync(fd);
  }
}

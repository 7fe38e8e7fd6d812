import * as path from 'node:path';
import { markHolds } from '../store/journalMark';
import { readRegularBytes } from '../store/safeRead';
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
  // Only a regular file: a FIFO must not hang a run or the editor.
  const read = readRegularBytes(file, { what: 'a unit snapshot' });
  if (read.kind === 'absent') return { kind: 'absent' };
  if (read.kind === 'refused') return { kind: 'unusable', why: `it ${read.why}` };
  const decoded = decodeUnitSnapshot(read.bytes);
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

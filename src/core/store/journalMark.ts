import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { peekRegularFile } from './safeRead';

/**
 * What a journal was when a snapshot of it was taken, to tell later that it is still that
 * journal up to `offset`: its header line (made once per journal, with its time) and the
 * bytes just before the offset. Not its inode: a run folder copied or moved (and a fenced
 * journal, a copy of itself) keeps its snapshot. A journal rewritten whole (repair, merge)
 * has its snapshots removed first (rewriteJournal.ts); `--fresh` archives them with it.
 */
export interface JournalMark {
  readonly offset: number;
  /** Lines before `offset`, so that line numbers in later messages stay right. */
  readonly lines: number;
  readonly head: string;
  readonly tail: string;
}

const WINDOW = 4096;

/** Undefined when the journal cannot be read up to `offset` (then no snapshot can cover it). */
export function markOf(file: string, offset: number, lines: number): JournalMark | undefined {
  const seen = sample(file, offset);
  return seen && { offset, lines, ...seen };
}

/** Whether `file` is still the journal `mark` was taken of, at least up to its offset. */
export function markHolds(file: string, mark: JournalMark): boolean {
  const seen = sample(file, mark.offset);
  return seen !== undefined && seen.head === mark.head && seen.tail === mark.tail;
}

function sample(file: string, offset: number): { head: string; tail: string } | undefined {
  return peekRegularFile(file, (fd, st) => {
    if (st.size < offset) return undefined;
    const first = Buffer.alloc(Math.min(offset, 64 * 1024));
    const n = fs.readSync(fd, first, 0, first.length, 0);
    const nl = first.subarray(0, n).indexOf(10);
    const head = digest(first.subarray(0, nl === -1 ? n : nl));
    const from = Math.max(0, offset - WINDOW);
    const win = Buffer.alloc(offset - from);
    const m = fs.readSync(fd, win, 0, win.length, from);
    // The offset is a line start: the byte before it ends a line.
    if (m !== win.length || (offset > 0 && win[win.length - 1] !== 10)) return undefined;
    return { head, tail: digest(win) };
  });
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 32);
}

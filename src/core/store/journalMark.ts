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

/** No journal there yet, none read: what a shard notes of a whole-run journal no run has made (one made later is another). */
const ABSENT = { head: 'absent', tail: 'absent' };

/**
 * The mark of the bytes behind a descriptor: the runner's own journal is marked through the
 * descriptor it wrote with, so a runner whose journal was replaced (a takeover's fence, a
 * repair) marks its own bytes, which the journal in that place then does not match.
 */
export function markOfFd(fd: number, offset: number, lines: number): JournalMark | undefined {
  try {
    const seen = sampleFd(fd, fs.fstatSync(fd), offset);
    return seen && { offset, lines, ...seen };
  } catch {
    return undefined;
  }
}

function sample(file: string, offset: number): { head: string; tail: string } | undefined {
  if (offset === 0 && !fs.existsSync(file)) return ABSENT;
  return peekRegularFile(file, (fd, st) => sampleFd(fd, st, offset));
}

function sampleFd(fd: number, st: fs.Stats, offset: number): { head: string; tail: string } | undefined {
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
}

function digest(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 32);
}

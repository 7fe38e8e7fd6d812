import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import * as path from 'node:path';
import { UserError } from '../errors';
import { asRecord, type JournalRecord } from './events';
import { kindOf } from './safeRead';

export interface JournalProblem {
  readonly line: number;
  readonly offset: number;
  readonly text: string;
}

export interface JournalRead {
  /** Bytes up to the end of the last complete line. */
  readonly goodLength: number;
  /** Bytes after the last newline: a line torn by a crash. Dropped, reported as a note. */
  readonly tornTail?: { offset: number; bytes: number };
  /** Complete lines that do not parse: reported with their numbers, never hiding the others. */
  readonly corrupt: readonly JournalProblem[];
  readonly lines: number;
}

/**
 * Streams a journal from `from` (a line start), calling `onRecord` for each good record.
 * Reads in large chunks and splits on '\n' itself: readline is several times slower on
 * million-line journals, and resume time is dominated by this loop.
 */
export async function readJournal(
  file: string,
  onRecord: (r: JournalRecord, line: number) => void,
  opts: { from?: number; firstLine?: number } = {},
): Promise<JournalRead> {
  // O_NONBLOCK: a FIFO planted as the journal must not block the open (and with it the run).
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw journalError(file, e);
  });
  const corrupt: JournalProblem[] = [];
  let pos = opts.from ?? 0;
  let line = (opts.firstLine ?? 1) - 1;
  if (!fh) return { goodLength: 0, corrupt, lines: 0 };
  try {
    // A folder opens fine for reading; only the first read fails, with an EISDIR that names no path.
    const st = await fh.stat();
    if (st.isDirectory()) throw journalError(file, Object.assign(new Error('is a folder'), { code: 'EISDIR' }));
    if (!st.isFile())
      throw new UserError(`expected a regular file, found ${kindOf(st)}`, { file: path.relative(process.cwd(), file) || file }, [
        'Move it out of the run folder, then run the command again (`resumable repair <run folder>` rebuilds the journal from the unit folders).',
      ]);
    const buf = Buffer.allocUnsafe(1 << 20);
    let carry: Buffer | undefined;
    let lineStart = pos;
    let lastGoodLine = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos).catch((e: NodeJS.ErrnoException) => {
        throw journalError(file, e);
      });
      if (bytesRead === 0) break;
      pos += bytesRead;
      let chunk = buf.subarray(0, bytesRead);
      if (carry) {
        chunk = Buffer.concat([carry, chunk]);
        carry = undefined;
      }
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        line++;
        const text = chunk.toString('utf8', start, nl);
        const rec = parseLine(text);
        if (rec) {
          onRecord(rec, line);
          lastGoodLine = line;
        } else if (text.trim() !== '') corrupt.push({ line, offset: lineStart, text: text.slice(0, 200) });
        lineStart += nl - start + 1;
        start = nl + 1;
      }
      if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
    }
    const first = corrupt[0];
    if (first && first.line > lastGoodLine) {
      // Damage with no good record after it is what a crash leaves past the last fsync (the
      // appended bytes may be garbage, newlines included, on some filesystems): a torn tail
      // of several lines. Damage followed by good records is not, and is reported.
      return {
        goodLength: first.offset,
        tornTail: { offset: first.offset, bytes: pos - first.offset },
        corrupt: [],
        lines: first.line - 1,
      };
    }
    const tornTail = carry && carry.length > 0 ? { offset: lineStart, bytes: carry.length } : undefined;
    return { goodLength: lineStart, tornTail, corrupt, lines: line };
  } finally {
    await fh.close();
  }
}

/**
 * An error opening or reading a journal, naming it: a folder in its place is the user's to
 * move (exit 1, no stack trace); anything else is the system refusing (its code kept).
 */
export function journalError(file: string, e: NodeJS.ErrnoException): Error {
  const shown = path.relative(process.cwd(), file) || file;
  if (e.code === 'EISDIR') {
    return new UserError('expected a file, found a folder', { file: shown }, [
      'Something made a folder where the run keeps its journal. Nothing was changed: move that folder out of the run folder, then run the command again (`resumable repair <run folder>` rebuilds the journal from the unit folders).',
    ]);
  }
  if (e instanceof UserError || String(e.message).includes(file)) return e;
  return Object.assign(new Error(`${shown}: ${e.message}`), { code: e.code });
}

export function parseLine(text: string): JournalRecord | undefined {
  if (text.length === 0 || text.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    return asRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

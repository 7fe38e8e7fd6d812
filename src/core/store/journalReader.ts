import { open } from 'node:fs/promises';
import { asRecord, type JournalRecord } from './events';

export interface JournalProblem { readonly line: number; readonly offset: number; readonly text: string }

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
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const corrupt: JournalProblem[] = [];
  let pos = opts.from ?? 0;
  let line = (opts.firstLine ?? 1) - 1;
  if (!fh) return { goodLength: 0, corrupt, lines: 0 };
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let carry: Buffer | undefined;
    let lineStart = pos;
    let lastGoodLine = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
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
      return { goodLength: first.offset, tornTail: { offset: first.offset, bytes: pos - first.offset }, corrupt: [], lines: first.line - 1 };
    }
    const tornTail = carry && carry.length > 0 ? { offset: lineStart, bytes: carry.length } : undefined;
    return { goodLength: lineStart, tornTail, corrupt, lines: line };
  } finally {
    await fh.close();
  }
}

export function parseLine(text: string): JournalRecord | undefined {
  if (text.length === 0 || text.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    return asRecord(JSON.parse(text));
  } catch {
    return undefined;
  }
}

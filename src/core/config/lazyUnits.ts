import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError, type UserErrorLocation } from '../errors';
import type { Item, ItemFields } from './items';
import type { Experiment, Scalar } from './schema';
import { matrixCells, matrixKeys, type Unit } from './units';

/**
 * Where each item of a JSON Lines dataset starts (byte offset and line number), kept beside
 * the run's fingerprint of that file (items.index.bin): a resume of an unchanged dataset reads
 * only the items of the units it runs, not a million rows.
 */
export interface ItemsIndex {
  readonly offsets: Float64Array;
  readonly lines: Uint32Array;
}

/** The line starts of a JSON Lines text's non-blank lines, in the order loadItems reads them. */
export function indexOfJsonl(bytes: Buffer): ItemsIndex {
  const offsets: number[] = [];
  const lines: number[] = [];
  let start = 0;
  let line = 1;
  while (start <= bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end === -1) end = bytes.length;
    // A blank line (only spaces, tabs or a CR) is skipped by loadItems: no item there.
    let blank = true;
    for (let i = start; i < end && blank; i++) blank = bytes[i] === 32 || bytes[i] === 9 || bytes[i] === 13;
    if (!blank) {
      offsets.push(start);
      lines.push(line);
    }
    if (end === bytes.length) break;
    start = end + 1;
    line++;
  }
  return { offsets: Float64Array.from(offsets), lines: Uint32Array.from(lines) };
}

/**
 * The units of an experiment by number, from its dataset file and the file's index: unit i is
 * item ⌊i / (cells·repeats)⌋ in cell ⌊i / repeats⌋ mod cells, repeat i mod repeats + 1 (the
 * order expandUnits makes). Each item is read and parsed when its unit is asked for.
 */
export class LazyUnits {
  readonly count: number;
  private readonly keys: string[];
  private readonly cells: Scalar[][];
  private readonly repeats: number | undefined;

  constructor(
    private readonly file: string,
    private readonly index: ItemsIndex,
    private readonly idField: string,
    matrix: Experiment['matrix'],
  ) {
    this.keys = matrixKeys(matrix);
    this.cells = matrixCells(matrix);
    this.repeats = matrix.repeat;
    this.count = index.offsets.length * this.cells.length * (this.repeats ?? 1);
  }

  unitAt(i: number): Unit {
    const r = this.repeats ?? 1;
    const per = this.cells.length * r;
    const item = this.itemAt(Math.floor(i / per));
    const values = this.cells[Math.floor(i / r) % this.cells.length]!;
    const cell: Record<string, Scalar> = {};
    this.keys.forEach((k, j) => (cell[k] = values[j]!));
    const group = values.map(String).join('/');
    const base = group ? `${item.id}/${group}` : item.id;
    const repeat = this.repeats ? (i % r) + 1 : undefined;
    return { id: repeat === undefined ? base : `${base}/r${repeat}`, item, cell, repeat, group };
  }

  private itemAt(k: number): Item {
    const where: UserErrorLocation = { file: path.relative(process.cwd(), this.file) || this.file, line: this.index.lines[k] };
    const text = readLine(this.file, this.index.offsets[k]!);
    let fields: unknown;
    try {
      fields = JSON.parse(text);
    } catch (e) {
      throw new UserError(`Expected one JSON object per line: ${(e as Error).message}`, where);
    }
    const raw = (fields as Record<string, unknown> | null)?.[this.idField];
    if (typeof fields !== 'object' || fields === null || (typeof raw !== 'string' && typeof raw !== 'number'))
      throw new UserError(`Expected an object with a string or number id in field "${this.idField}"`, where);
    return { id: String(raw), fields: fields as ItemFields, where };
  }
}

/** The line that starts at `offset` (without its newline). */
function readLine(file: string, offset: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const parts: Buffer[] = [];
    let at = offset;
    for (;;) {
      // Rows are short: a small read first, larger ones for a long row.
      const buf = Buffer.allocUnsafe(parts.length === 0 ? 4096 : 64 * 1024);
      const n = fs.readSync(fd, buf, 0, buf.length, at);
      const nl = buf.subarray(0, n).indexOf(10);
      parts.push(buf.subarray(0, nl === -1 ? n : nl));
      if (nl !== -1 || n === 0) break;
      at += n;
    }
    return Buffer.concat(parts).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

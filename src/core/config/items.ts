import { readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import fg from 'fast-glob';
import { parse as parseCsv } from 'csv-parse/sync';
import { UserError, jsonPath, type UserErrorLocation } from '../errors';
import { idProblem } from '../ids';
import type { Experiment } from './schema';
import { sourceOf, type ItemsSource } from './itemsSource';

export type ItemFields = Record<string, unknown>;

/** One dataset row. `where` points at it for error messages (file and line). */
export interface Item {
  readonly id: string;
  readonly fields: ItemFields;
  readonly where: UserErrorLocation;
}

export interface ItemsContext {
  /** Folder of the experiment file: dataset paths and globs are relative to it. */
  readonly baseDir: string;
  /** The experiment file as shown to the user, for errors that point into it. */
  readonly experimentFile: string;
  readonly lineOf: (p: readonly (string | number)[]) => number | undefined;
  /** Told what a dataset file was when it was read (not for inline values or a glob). */
  readonly onSource?: (source: ItemsSource) => void;
}

export async function loadItems(spec: Experiment['items'], ctx: ItemsContext): Promise<Item[]> {
  const idField = spec.id ?? 'id';
  let rows: Row[];
  if (spec.values) {
    rows = spec.values.map((v, i) => ({
      fields: isPlainObject(v) ? v : { [idField]: v, value: v },
      where: { file: ctx.experimentFile, line: ctx.lineOf(['items', 'values', i]), path: jsonPath(['items', 'values', i]) },
    }));
  } else if (spec.glob) {
    rows = await globRows(spec.glob, spec.capture, ctx);
  } else {
    rows = await fileRows(spec.file!, ctx, spec);
  }
  return toItems(rows, spec.glob ? 'id' : idField);
}

/** Item lists whose ids loadItems checked distinct and valid (frozen items are not: they may have been edited). */
const checked = new WeakSet<readonly Item[]>();

export function itemsChecked(items: readonly Item[]): boolean {
  return checked.has(items);
}

/** A row of a dataset: where it is, or (a JSON Lines file) its line, made into a location only for a message. */
type Row = { fields: unknown; where: UserErrorLocation } | { fields: unknown; file: string; line: number };

/** An item of a JSON Lines file: a million of them share the file name and keep a line number, not a location object each. */
class LineItem implements Item {
  constructor(
    readonly id: string,
    readonly fields: ItemFields,
    private readonly file: string,
    private readonly line: number,
  ) {}
  get where(): UserErrorLocation {
    return { file: this.file, line: this.line };
  }
}

function toItems(rows: readonly Row[], idField: string): Item[] {
  const seen = new Map<string, Row>();
  const items: Item[] = [];
  for (const row of rows) {
    const { fields } = row;
    const where = () => ('where' in row ? row.where : { file: row.file, line: row.line });
    if (!isPlainObject(fields)) throw new UserError(`Expected an object per item, got ${typeName(fields)}`, where());
    const raw = fields[idField];
    if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) {
      // A misspelt `items.id` is the usual cause: the row's own fields say which one was meant.
      const has =
        raw === undefined
          ? ` (this item's fields: ${
              Object.keys(fields)
                .map((k) => JSON.stringify(k))
                .join(', ') || 'none'
            }; "items.id" names the id field)`
          : '';
      throw new UserError(`Expected a string or number id in field "${idField}", got ${typeName(raw)}${has}`, where());
    }
    const id = String(raw);
    const problem = idProblem(id);
    if (problem) throw new UserError(`Item id ${JSON.stringify(id)} ${problem}; expected a plain id such as "q-001" or "a/b"`, where());
    const seenRow = seen.get(id);
    if (seenRow) {
      const first = 'where' in seenRow ? seenRow.where : { line: seenRow.line, path: undefined };
      throw new UserError(
        `Duplicate item id ${JSON.stringify(id)} (first at ${first.line ? `line ${first.line}` : first.path}); expected ids to be unique`,
        where(),
      );
    }
    seen.set(id, row);
    items.push('where' in row ? { id, fields, where: row.where } : new LineItem(id, fields, row.file, row.line));
  }
  checked.add(items);
  return items;
}

async function fileRows(file: string, ctx: ItemsContext, spec: Experiment['items']): Promise<Row[]> {
  const abs = path.resolve(ctx.baseDir, file);
  const shown = path.relative(process.cwd(), abs) || abs;
  let text: string;
  try {
    const st = ctx.onSource ? await stat(abs) : undefined;
    const bytes = await readFile(abs);
    if (st) ctx.onSource!(sourceOf(abs, st, bytes, spec));
    text = bytes.toString('utf8');
  } catch (e) {
    throw unreadable(e, shown, ctx);
  }
  return datasetRows(abs, shown, text, ctx);
}

/**
 * A dataset file's items, read synchronously: for an experiment loaded with `lazyItems`
 * (config/load.ts), whose items are read only if a reader asks for them.
 */
export function loadItemsFileSync(spec: Experiment['items'], ctx: ItemsContext): Item[] {
  const abs = path.resolve(ctx.baseDir, spec.file!);
  const shown = path.relative(process.cwd(), abs) || abs;
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw unreadable(e, shown, ctx);
  }
  return toItems(datasetRows(abs, shown, text, ctx), spec.id ?? 'id');
}

function unreadable(e: unknown, shown: string, ctx: ItemsContext): UserError {
  const code = (e as NodeJS.ErrnoException).code;
  return new UserError(`Expected a readable dataset at ${shown}, got ${code === 'ENOENT' ? 'no such file' : code}`, {
    file: ctx.experimentFile,
    line: ctx.lineOf(['items', 'file']),
    path: '$.items.file',
  });
}

function datasetRows(abs: string, shown: string, text: string, ctx: ItemsContext): Row[] {
  const ext = path.extname(abs).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return jsonlRows(text, shown);
  if (ext === '.csv') return csvRows(text, shown);
  if (ext === '.json') return jsonArrayRows(text, shown);
  throw new UserError(`Expected a .jsonl, .csv or .json dataset, got "${ext || 'no extension'}"`, {
    file: ctx.experimentFile,
    line: ctx.lineOf(['items', 'file']),
    path: '$.items.file',
  });
}

function jsonlRows(text: string, file: string) {
  const rows: Row[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push({ fields: JSON.parse(line), file, line: i + 1 });
    } catch (e) {
      throw new UserError(`Expected one JSON object per line: ${(e as Error).message}`, { file, line: i + 1 });
    }
  });
  return rows;
}

function csvRows(text: string, file: string) {
  let records: { record: Record<string, string>; info: { lines: number } }[];
  try {
    records = parseCsv<(typeof records)[number]>(text, { columns: true, skip_empty_lines: true, bom: true, info: true, trim: false });
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new UserError(`Expected valid CSV with a header row: ${err.message}`, { file, line: err.lines });
  }
  // info.lines is the line where the record ends; a quoted field may span lines.
  return records.map(({ record, info }) => ({ fields: record, where: { file, line: info.lines } }));
}

function jsonArrayRows(text: string, file: string) {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UserError(`Expected a JSON array of items: ${(e as Error).message}`, { file });
  }
  if (!Array.isArray(value)) throw new UserError(`Expected a JSON array of items, got ${typeName(value)}`, { file, path: '$' });
  return (value as unknown[]).map((fields, i) => ({ fields, where: { file, path: jsonPath([i]) } }));
}

async function globRows(pattern: string, capture: string | undefined, ctx: ItemsContext) {
  const matches = await fg(pattern, {
    cwd: ctx.baseDir,
    onlyFiles: !pattern.endsWith('/'),
    onlyDirectories: pattern.endsWith('/'),
    dot: false,
    unique: true,
  });
  const where = { file: ctx.experimentFile, line: ctx.lineOf(['items', 'glob']), path: '$.items.glob' };
  if (matches.length === 0) {
    throw new UserError(
      `Expected the glob ${JSON.stringify(pattern)} to match at least one path under ${ctx.baseDir}, it matched none`,
      where,
    );
  }
  const fieldsOf = captureFields(capture, { file: ctx.experimentFile, line: ctx.lineOf(['items', 'capture']), path: '$.items.capture' });
  // Sorted so the item order (and so dispatch order) does not depend on readdir order. Paths
  // stay relative: a moved or copied experiment folder is the same experiment (not drift).
  return matches.sort().map((rel) => {
    const id = rel.replace(/\/+$/, '');
    return { fields: { ...fieldsOf(id), id, path: id, name: path.basename(id) }, where };
  });
}

/** The named groups of `capture` over a matched path, as item fields; a path it does not match is an error. */
function captureFields(capture: string | undefined, where: UserErrorLocation): (rel: string) => Record<string, string> {
  if (capture === undefined) return () => ({});
  const re = new RegExp(capture);
  const names = [...capture.matchAll(/\(\?<([A-Za-z_][A-Za-z0-9_]*)>/g)].map((m) => m[1]!);
  if (names.length === 0)
    throw new UserError('Expected named groups in "capture", such as (?<tier>T\\d+): they name the item fields', where);
  const taken = names.find((n) => n === 'id' || n === 'path' || n === 'name');
  if (taken) throw new UserError(`Expected a capture group other than "${taken}": a glob item's id, path and name are its path`, where);
  return (rel) => {
    const m = re.exec(rel);
    if (!m)
      throw new UserError(
        `Expected the path ${JSON.stringify(rel)} to match "capture" ${JSON.stringify(capture)}; narrow the glob or widen the pattern`,
        where,
      );
    const out: Record<string, string> = {};
    for (const n of names) if (m.groups?.[n] !== undefined) out[n] = m.groups[n];
    return out;
  };
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v === undefined) return 'nothing';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`.slice(0, 60);
}

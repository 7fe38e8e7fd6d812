import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import fg from 'fast-glob';
import { parse as parseCsv } from 'csv-parse/sync';
import { UserError, jsonPath, type UserErrorLocation } from '../errors';
import { idProblem } from '../ids';
import type { Experiment } from './schema';

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
}

export async function loadItems(spec: Experiment['items'], ctx: ItemsContext): Promise<Item[]> {
  const idField = spec.id ?? 'id';
  let rows: { fields: unknown; where: UserErrorLocation }[];
  if (spec.values) {
    rows = spec.values.map((v, i) => ({
      fields: isPlainObject(v) ? v : { [idField]: v, value: v },
      where: { file: ctx.experimentFile, line: ctx.lineOf(['items', 'values', i]), path: jsonPath(['items', 'values', i]) },
    }));
  } else if (spec.glob) {
    rows = await globRows(spec.glob, spec.capture, ctx);
  } else {
    rows = await fileRows(spec.file!, ctx);
  }
  return toItems(rows, spec.glob ? 'id' : idField);
}

function toItems(rows: { fields: unknown; where: UserErrorLocation }[], idField: string): Item[] {
  const seen = new Map<string, UserErrorLocation>();
  const items: Item[] = [];
  for (const { fields, where } of rows) {
    if (!isPlainObject(fields)) throw new UserError(`Expected an object per item, got ${typeName(fields)}`, where);
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
      throw new UserError(`Expected a string or number id in field "${idField}", got ${typeName(raw)}${has}`, where);
    }
    const id = String(raw);
    const problem = idProblem(id);
    if (problem) throw new UserError(`Item id ${JSON.stringify(id)} ${problem}; expected a plain id such as "q-001" or "a/b"`, where);
    const first = seen.get(id);
    if (first)
      throw new UserError(
        `Duplicate item id ${JSON.stringify(id)} (first at ${first.line ? `line ${first.line}` : first.path}); expected ids to be unique`,
        where,
      );
    seen.set(id, where);
    items.push({ id, fields, where });
  }
  return items;
}

async function fileRows(file: string, ctx: ItemsContext): Promise<{ fields: unknown; where: UserErrorLocation }[]> {
  const abs = path.resolve(ctx.baseDir, file);
  const shown = path.relative(process.cwd(), abs) || abs;
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`Expected a readable dataset at ${shown}, got ${code === 'ENOENT' ? 'no such file' : code}`, {
      file: ctx.experimentFile,
      line: ctx.lineOf(['items', 'file']),
      path: '$.items.file',
    });
  }
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
  const rows: { fields: unknown; where: UserErrorLocation }[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push({ fields: JSON.parse(line), where: { file, line: i + 1 } });
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

import { stringify } from 'csv-stringify/sync';
import { UserError } from '../../core/errors';
import type { UnitView } from '../../core/model/view';
import { handlerValues, resultsOf, type ResultRow } from '../../core/status/results';
import { RunFollower } from '../../core/status/report';
import { resolveSubset } from '../../core/run/subset';
import { err, isDead, out } from '../stdio';
import { cutToWidth, displayWidth as stringWidth } from '../termStyle';
import { runFolderArg } from '../runFolderArg';

export type ResultsFormat = 'table' | 'csv' | 'jsonl' | 'json';

export interface ResultsCommand {
  readonly target: string;
  readonly format: ResultsFormat;
  readonly status: readonly UnitView['status'][];
  /** Extra columns: `item.<path>`, `result.<path>`, or a bare name (an item field if the items have it, else a result field). */
  readonly fields: readonly string[];
  readonly only: readonly { readonly key: string; readonly value: string }[];
}

interface Column {
  readonly name: string;
  readonly get: (r: ResultRow) => unknown;
  /** Asked for with --fields: kept in the table even when empty, and said when no unit has it. */
  readonly asked?: boolean;
}

/**
 * `resumable results`: one row per unit. CSV and JSON Lines stream (a million-unit export
 * holds the run's view, not its rows); the terminal table and `--format json` hold the rows.
 */
export async function resultsCommand(c: ResultsCommand): Promise<number> {
  const runDir = await runFolderArg(c.target, 'results');
  const follower = RunFollower.open(runDir);
  await follower.poll();
  const frozen = follower.frozen;
  const columns = columnsOf(frozen.config.matrix, frozen.items, c.fields, metricNames(frozen.config.result.metrics));
  // `--only` as `run` resolves it: a key or value no unit has is refused with what there is.
  const subset = c.only.length ? resolveSubset(follower.units, { only: c.only }) : undefined;
  const withResult = columns.some((k) => k.name.startsWith('result.'));
  const seen = watchAsked(columns);
  const rows = resultsOf(
    follower,
    {
      status: c.status.length ? c.status : undefined,
      withResult,
      ids: subset?.ids,
    },
    withResult ? await handlerValues(follower) : undefined,
  );
  if (c.format === 'jsonl' || c.format === 'json') {
    const all: Record<string, unknown>[] = [];
    for (const r of rows) {
      const o = objectOf(r, columns);
      if (c.format === 'json') all.push(o);
      else out(JSON.stringify(o) + '\n');
      if (isDead(process.stdout)) return 0;
    }
    if (c.format === 'json') out(JSON.stringify(all, null, 2) + '\n');
    return seen.report();
  }
  if (c.format === 'csv') {
    out(stringify([columns.map((k) => k.name)]));
    // Rows go out in batches: one stringifier per row made more garbage than the run's state.
    let batch: string[][] = [];
    for (const r of rows) {
      batch.push(columns.map((k) => cell(k.get(r))));
      if (batch.length < 1000) continue;
      out(stringify(batch));
      batch = [];
      if (isDead(process.stdout)) return 0;
    }
    if (batch.length) out(stringify(batch));
    return seen.report();
  }
  const table: string[][] = [];
  for (const r of rows) table.push(columns.map((k) => cell(k.get(r))));
  // On a terminal a column no unit has a value in (no spend reported, no reason) is noise.
  const keep = columns.map((k, i) => k.name === 'id' || k.name === 'status' || k.asked || table.some((row) => row[i] !== ''));
  out(
    renderTable(
      columns.filter((_, i) => keep[i]).map((k) => k.name),
      table.map((row) => row.filter((_, i) => keep[i])),
      process.stdout.columns || 0,
    ),
  );
  return seen.report();
}

/**
 * Wraps the --fields columns to note which ever had a value: a misspelt field is said on
 * stderr (with the fields the first result has), not left as a silent empty column.
 */
function watchAsked(columns: Column[]): { report: () => number } {
  const empty = new Set(columns.filter((k) => k.asked).map((k) => k.name));
  let firstResult: string[] | undefined;
  columns.forEach((k, i) => {
    if (!k.asked) return;
    columns[i] = {
      ...k,
      get: (r) => {
        const v = k.get(r);
        if (v !== undefined && v !== null) empty.delete(k.name);
        if (!firstResult && r.result && typeof r.result === 'object') firstResult = Object.keys(r.result);
        return v;
      },
    };
  });
  return {
    report: () => {
      for (const name of empty)
        err(
          `resumable: no unit has a value for ${name} (--fields)${name.startsWith('result.') && firstResult ? `; the first result has ${firstResult.join(', ')}` : ''}\n`,
        );
      return 0;
    },
  };
}

function columnsOf(
  matrix: Record<string, unknown>,
  items: readonly { fields: Record<string, unknown> }[],
  fields: readonly string[],
  metrics: readonly string[],
): Column[] {
  const cols: Column[] = [{ name: 'id', get: (r) => r.id }];
  for (const k of Object.keys(matrix).filter((k) => k !== 'repeat')) cols.push({ name: k, get: (r) => r.matrix[k] });
  if (matrix.repeat !== undefined) cols.push({ name: 'repeat', get: (r) => r.repeat });
  cols.push(
    { name: 'status', get: (r) => r.status },
    { name: 'attempts', get: (r) => r.attempts },
    { name: 'duration_s', get: (r) => (r.durationMs === null ? null : Math.round(r.durationMs) / 1000) },
    { name: 'why', get: (r) => r.why },
    { name: 'usd', get: (r) => r.usd },
    { name: 'tokens', get: (r) => r.tokens },
  );
  // The journal has each unit's metrics: no result file is read for them.
  for (const k of metrics) cols.push({ name: k, get: (r) => r.metrics?.[k] });
  const itemHas = (p: string) => items.some((i) => at(i.fields, p) !== undefined);
  for (const f of fields) {
    const [scope, rest] = f.startsWith('item.')
      ? ['item', f.slice(5)]
      : f.startsWith('result.')
        ? ['result', f.slice(7)]
        : [itemHas(f) ? 'item' : 'result', f];
    if (rest === '') throw new UserError(`Expected --fields to name a field after "${scope}.", got ${JSON.stringify(f)}`);
    cols.push(
      scope === 'item'
        ? { name: `item.${rest}`, get: (r) => at(r.item, rest), asked: true }
        : { name: `result.${rest}`, get: (r) => at(r.result, rest), asked: true },
    );
  }
  return cols;
}

function metricNames(m: string | readonly string[] | undefined): readonly string[] {
  return m === undefined ? [] : typeof m === 'string' ? [m] : m;
}

function at(v: unknown, dotted: string): unknown {
  let cur = v;
  for (const k of dotted.split('.')) cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[k] : undefined;
  return cur;
}

function objectOf(r: ResultRow, columns: readonly Column[]): Record<string, unknown> {
  return Object.fromEntries(columns.map((k) => [k.name, k.get(r) ?? null]));
}

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  return typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** Columns padded by display width (CJK and emoji count two); `why` is cut to what the terminal has left. */
export function renderTable(head: readonly string[], rows: readonly string[][], termWidth: number): string {
  const widths = head.map((h, i) => Math.max(stringWidth(h), ...rows.map((r) => stringWidth(r[i]!))));
  const why = head.indexOf('why');
  if (termWidth > 0 && why >= 0) {
    const others = widths.reduce((a, w, i) => (i === why ? a : a + w + 2), 0);
    widths[why] = Math.max(stringWidth('why'), Math.min(widths[why]!, termWidth - others - 1));
  }
  const pad = (s: string, w: number) => {
    const t = stringWidth(s) > w ? cutToWidth(s, Math.max(0, w - 1)) + '…' : s;
    return t + ' '.repeat(Math.max(0, w - stringWidth(t)));
  };
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => pad(c, widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  return line(head) + rows.map(line).join('') + (rows.length === 0 ? '(no units)\n' : '');
}

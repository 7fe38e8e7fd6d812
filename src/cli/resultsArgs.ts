import { UserError } from '../core/errors';
import type { UnitView } from '../core/model/view';

const FORMATS = ['table', 'csv', 'jsonl', 'json'] as const;
const STATUSES: readonly UnitView['status'][] = ['passed', 'failed', 'error', 'rate_limited', 'running', 'pending'];

export interface ResultsArgs {
  readonly cmd: 'results';
  readonly target: string;
  readonly format: (typeof FORMATS)[number];
  readonly status: readonly UnitView['status'][];
  readonly fields: readonly string[];
  /** `--only key=value` (repeatable), as `run` takes it. */
  readonly only: readonly { readonly key: string; readonly value: string }[];
}

export interface CompareArgs {
  readonly cmd: 'compare';
  readonly a: string;
  readonly b: string;
  readonly match: 'id' | 'item';
  readonly json: boolean;
}

type Values = { format?: string; status?: string; fields?: string; match?: string; json?: boolean; only?: string[] };

const list = (s: string | undefined) =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export function resultsArgs(target: string, v: Values): ResultsArgs {
  const format = v.format ?? 'table';
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UserError(`Expected --format to be one of ${FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  const status = list(v.status).map((s) => {
    if (!(STATUSES as readonly string[]).includes(s))
      throw new UserError(`Expected --status to list statuses (${STATUSES.join(', ')}), got ${JSON.stringify(s)}`);
    return s as UnitView['status'];
  });
  if (v.status !== undefined && status.length === 0)
    throw new UserError(`Expected --status to list statuses (${STATUSES.join(', ')}), got nothing`);
  if (v.fields !== undefined && list(v.fields).length === 0)
    throw new UserError('Expected --fields to list fields (like result.score,item.tier), got nothing');
  const only = (v.only ?? []).map((o) => {
    const eq = o.indexOf('=');
    if (eq <= 0)
      throw new UserError(`Expected --only key=value (a matrix key or an item field, like model=small), got ${JSON.stringify(o)}`);
    return { key: o.slice(0, eq).trim(), value: o.slice(eq + 1) };
  });
  return { cmd: 'results', target, format: format as ResultsArgs['format'], status, fields: list(v.fields), only };
}

export function compareArgs(pos: readonly string[], v: Values): CompareArgs {
  if (pos.length !== 2)
    throw new UserError(
      `Expected two runs to compare (experiment files or run folders, the earlier first), got ${pos.length}${pos.length ? `: ${pos.join(' ')}` : ''}; see \`resumable compare --help\``,
    );
  const match = v.match ?? 'id';
  if (match !== 'id' && match !== 'item') throw new UserError(`Expected --match id or --match item, got ${JSON.stringify(match)}`);
  return { cmd: 'compare', a: pos[0]!, b: pos[1]!, match, json: !!v.json };
}

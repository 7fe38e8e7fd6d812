/**
 * Journal records: one JSON object per line. Short keys because a million-unit run writes
 * millions of them; `t` is the record type.
 */
export const JOURNAL_SCHEMA_VERSION = 1;

export type Outcome = 'passed' | 'failed' | 'error' | 'rate_limited';
/** `interrupted`: killed by the runner on Ctrl+C or a lost lock; the unit is pending again. */
export type EndStatus = Outcome | 'interrupted';
/** `budget_exhausted`: `budget.maxCostUSD` or `budget.maxTokens` was reached; a resume with a raised budget continues. */
export type RunStatus = 'running' | 'paused_rate_limit' | 'budget_exhausted' | 'interrupted' | 'completed' | 'failed';

export interface HeaderRecord {
  t: 'header';
  schemaVersion: number;
  run: string;
  hash: string;
  shard?: string;
  ts: number;
}
export interface RunnerStartRecord {
  t: 'runner_start';
  ts: number;
  pid: number;
  host: string;
  flags?: string[];
}
export interface RunnerEndRecord {
  t: 'runner_end';
  ts: number;
  status: RunStatus;
  why?: string;
}
export interface UnitStartRecord {
  t: 'start';
  ts: number;
  u: string;
  a: number;
  pid?: number;
  pst?: number;
}
export interface UnitEndRecord {
  t: 'end';
  ts: number;
  u: string;
  a: number;
  s: EndStatus;
  /** Exit code, signal, duration (ms), and why it is not a pass. */
  x?: number | null;
  sig?: string | null;
  d?: number;
  why?: string;
  /** Library handlers: the returned value (process units keep theirs in the result file). */
  r?: unknown;
  /** Rate limits: reset time (epoch ms). */
  reset?: number;
  /** What the attempt spent (from `result.cost` / `result.tokens`, or a handler's `usage`): every attempt counts. */
  usd?: number;
  tok?: number;
  /** Its `result.metrics`: numbers by field (the last outcome's count, not a sum over attempts). */
  m?: Record<string, number>;
}
export interface AdoptRecord {
  t: 'adopt';
  ts: number;
  u: string;
  s: Outcome;
  why: string;
  m?: Record<string, number>;
  /** What the result says its attempt spent. */
  usd?: number;
  tok?: number;
}
export interface PauseRecord {
  t: 'pause';
  ts: number;
  until: number;
  src: string;
  why?: string;
}
export interface UnpauseRecord {
  t: 'unpause';
  ts: number;
}
/**
 * The adaptive limit changed (a rate limit cut it, successes raised it): units allowed in
 * flight of `max`, and the paced dispatch rate (units per minute) when one is in force.
 */
export interface ConcurrencyRecord {
  t: 'conc';
  ts: number;
  c: number;
  max: number;
  rpm?: number;
  why?: string;
}
/** `--retry-errors` / `--retry-failed`: these units get a fresh attempt budget. */
export interface RequeueRecord {
  t: 'requeue';
  ts: number;
  u: string[];
  why: string;
}

/** Closes a journal written by `resumable merge`: the shards' journals it holds, and whether every unit was done. */
export interface MergedRecord {
  t: 'merged';
  ts: number;
  from: string[];
  units: number;
  missing: number;
}

export type JournalRecord =
  | HeaderRecord
  | RunnerStartRecord
  | RunnerEndRecord
  | UnitStartRecord
  | UnitEndRecord
  | AdoptRecord
  | PauseRecord
  | UnpauseRecord
  | RequeueRecord
  | ConcurrencyRecord
  | MergedRecord;

const TYPES = new Set(['header', 'runner_start', 'runner_end', 'start', 'end', 'adopt', 'pause', 'unpause', 'requeue', 'conc', 'merged']);

/** Cheap shape check: enough to tell a record from garbage that happens to be JSON. */
export function asRecord(v: unknown): JournalRecord | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.t !== 'string' || !TYPES.has(r.t) || typeof r.ts !== 'number') return undefined;
  if ((r.t === 'start' || r.t === 'end' || r.t === 'adopt') && typeof r.u !== 'string') return undefined;
  return v as JournalRecord;
}

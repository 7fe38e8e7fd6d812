import * as os from 'node:os';
import { readJsonFile } from '../store/atomicFile';
import type { RunStatus } from '../store/events';
import { checkSchemaVersion, NewerSchemaError, STORE_SCHEMA_VERSION } from '../store/schemaVersion';
import { etaOfView } from './eta';
import { projectedSpend, type ConcurrencyView, type Counts, type RunView, type Spend } from './view';

/** state.json: a quick summary for readers (status, the tree, the status bar). The journal stays the truth. */
export interface Snapshot {
  readonly schemaVersion: number;
  readonly name: string;
  readonly hash: string;
  readonly shard: string | null;
  readonly status: RunStatus;
  readonly total: number;
  readonly counts: Counts;
  readonly rateLimitedUntil: number | null;
  readonly pauseSource: string | null;
  readonly pauseCount: number;
  readonly pid: number;
  readonly host: string;
  readonly heartbeat: number;
  readonly startedAt: number;
  /** The runner's own estimate (eta.ts) as of `heartbeat`: what `status` and the tree show while it is fresh. */
  readonly rate: number;
  readonly etaMs: number | null;
  /** Journal bytes this snapshot covers. */
  readonly journalOffset: number;
  /** The adaptive limit in force while the run goes (absent: the fixed concurrency). */
  readonly concurrency?: ConcurrencyView | null;
  /** What the attempts so far spent, and that projected at completion (absent when nothing reported spend). */
  readonly spend?: Spend | null;
  readonly projected?: Spend | null;
  /** The run's spend limits, as the experiment file set them when this was written. */
  readonly budget?: { readonly maxCostUSD?: number; readonly maxTokens?: number } | null;
  /** A worker run's workers while it goes: alive now, started so far, and how many had to be replaced. */
  readonly workers?: WorkerCounts | null;
}

export interface WorkerCounts {
  readonly live: number;
  readonly started: number;
  readonly restarts: number;
}

export function buildSnapshot(
  base: {
    name: string;
    hash: string;
    shard: string | null;
    startedAt: number;
    budget?: { maxCostUSD?: number; maxTokens?: number } | null;
    workers?: WorkerCounts | null;
  },
  view: RunView,
  status: RunStatus,
  now: number,
  journalOffset: number,
): Snapshot {
  const total = view.units.size;
  const { rate, etaMs } = etaOfView(view, now);
  return {
    schemaVersion: STORE_SCHEMA_VERSION,
    ...base,
    status,
    total,
    counts: { ...view.counts },
    rateLimitedUntil: view.pause?.until ?? null,
    pauseSource: view.pause?.src ?? null,
    pauseCount: view.pauseCount,
    pid: process.pid,
    host: os.hostname(),
    heartbeat: now,
    rate,
    etaMs,
    journalOffset,
    concurrency: status === 'running' || status === 'paused_rate_limit' ? (view.concurrency ?? null) : null,
    spend: view.spend.attempts > 0 ? { ...view.spend } : null,
    projected: projectedSpend(view) ?? null,
    budget: base.budget ?? null,
    workers: base.workers ?? null,
  };
}

/** Reads state.json; a truncated or garbled one is reported (`problem`) and the journal used instead. */
export function readSnapshot(file: string): { snapshot?: Snapshot; problem?: string } {
  let v: unknown;
  try {
    v = readJsonFile(file);
  } catch (e) {
    return { problem: `state.json does not parse (${(e as Error).message}); using the journal instead` };
  }
  if (v === undefined) return {};
  try {
    checkSchemaVersion((v as Snapshot).schemaVersion, file);
  } catch (e) {
    if (e instanceof NewerSchemaError) throw e;
    return { problem: (e as Error).message };
  }
  return { snapshot: v as Snapshot };
}

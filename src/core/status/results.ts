import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Scalar } from '../config/schema';
import type { Unit } from '../config/units';
import { resultFilesOfRun } from '../exec/resultFiles';
import type { UnitView } from '../model/view';
import { RunPaths } from '../store/paths';
import { readJournal } from '../store/journalReader';
import { RunFollower } from './report';

type Status = UnitView['status'];

/** One unit of a run as `resumable results` and `readResults` give it. */
export interface ResultRow {
  readonly id: string;
  /** The item's fields (its id field included). */
  readonly item: Readonly<Record<string, unknown>>;
  /** Matrix values by key (without repeat). */
  readonly matrix: Readonly<Record<string, Scalar>>;
  readonly repeat: number | null;
  readonly status: Status;
  /** Attempts that counted against the retry budget. */
  readonly attempts: number;
  /** The last attempt's duration. */
  readonly durationMs: number | null;
  /** Why it ended as it did (an error's reason, a failed check), as the journal says. */
  readonly why: string | null;
  /** What all its attempts spent, when they reported it. */
  readonly usd: number | null;
  readonly tokens: number | null;
  /** Its last outcome's `result.metrics`, as the journal has them. */
  readonly metrics: Readonly<Record<string, number>> | null;
  /** Its result (parsed JSON) when `withResult` and the result file is there and is JSON; else undefined. */
  readonly result?: unknown;
}

export interface ResultsOptions {
  /** Only units with these statuses. */
  readonly status?: readonly Status[];
  /** Read each unit's result file (one read per unit; off, only the journal is read). */
  readonly withResult?: boolean;
  /** Only these unit ids. */
  readonly ids?: ReadonlySet<string>;
}

/**
 * Every unit of a run in config order, from its frozen config and journals (every shard's),
 * with its result file read as the row is yielded: an export of a million units holds the
 * run's view, never a million results.
 */
export async function* readResults(runDir: string, o: ResultsOptions = {}): AsyncGenerator<ResultRow> {
  const follower = RunFollower.open(runDir);
  await follower.poll();
  const returned = o.withResult ? await handlerValues(follower) : undefined;
  yield* resultsOf(follower, o, returned);
}

/**
 * The rows of a run already read (its follower polled): the CLI reads the frozen config once,
 * not twice. `returned`: a library handler's returned values (they are in the journal, not in
 * result files), from `handlerValues`.
 */
export function* resultsOf(follower: RunFollower, o: ResultsOptions = {}, returned?: ReadonlyMap<string, unknown>): Generator<ResultRow> {
  const view = follower.view;
  const files = o.withResult && !returned ? resultFilesOfRun(follower.frozen, new RunPaths(follower.runDir)) : undefined;
  const wanted = o.status ? new Set(o.status) : undefined;
  for (const unit of follower.units) {
    const v = view.units.get(unit.id);
    if (!v || (wanted && !wanted.has(v.status)) || (o.ids && !o.ids.has(unit.id))) continue;
    yield rowOf(unit, v, returned ? returned.get(unit.id) : files ? readResult(files, unit) : undefined);
  }
}

/**
 * A run without a command or worker ran a library handler: what each unit's handler returned
 * last (every journal of the run folder, one pass each); undefined for other runs, whose
 * results are files.
 */
export async function handlerValues(follower: RunFollower): Promise<ReadonlyMap<string, unknown> | undefined> {
  const run = follower.frozen.config.run as { command?: unknown; worker?: unknown } | undefined;
  if (run?.command !== undefined || run?.worker !== undefined) return undefined;
  const values = new Map<string, unknown>();
  const names = fs.readdirSync(follower.runDir).filter((n) => /^journal(\.\d+of\d+)?\.jsonl$/.test(n));
  for (const name of names.sort())
    await readJournal(path.join(follower.runDir, name), (r) => {
      if (r.t === 'end' && r.s !== 'rate_limited' && r.r !== undefined) values.set(r.u, r.r);
    });
  return values;
}

function rowOf(unit: Unit, v: UnitView, result: unknown): ResultRow {
  return {
    id: unit.id,
    item: unit.item.fields,
    matrix: unit.cell,
    repeat: unit.repeat ?? null,
    status: v.status,
    attempts: v.attempts,
    durationMs: v.lastDuration ?? null,
    why: v.why ?? null,
    usd: v.usd ?? null,
    tokens: v.tok ?? null,
    metrics: v.m ?? null,
    ...(result !== undefined ? { result } : {}),
  };
}

function readResult(files: ReturnType<typeof resultFilesOfRun>, unit: Unit): unknown {
  const r = files.read(unit);
  if (r.kind !== 'text') return undefined;
  try {
    return JSON.parse(r.text) as unknown;
  } catch {
    // Not JSON (a unit judged by its exit code may write anything): no fields to show.
    return undefined;
  }
}

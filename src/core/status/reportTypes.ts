import type { WorkerCounts } from '../model/snapshot';
import type { ConcurrencyView, Counts, Spend } from '../model/view';
import type { GroupCount } from './groupBy';
import type { ReportStatus } from './runStatus';
import type { ShardReport } from './shards';
import type { Budget } from './spendAndConcurrency';

/** Where a run stands, read from its folder alone: what `status`, the tree and the status bar show. */
export interface RunReport {
  readonly runDir: string;
  readonly name: string;
  readonly hash: string;
  readonly experimentFile: string;
  /**
   * Agrees with the counts (runStatus.ts): `interrupted` also when the journal says running but
   * its runner is gone or silent; `completed` whenever every unit has an outcome and no runner works.
   */
  readonly status: ReportStatus;
  readonly total: number;
  readonly done: number;
  readonly counts: Counts;
  /** Per group: by matrix cell ("" without a matrix), or by the `by` key when one was given. */
  readonly groups: readonly GroupCount[];
  /** The item field or matrix key the groups are by; absent: by matrix cell. */
  readonly groupBy?: string;
  readonly rateLimitedUntil: number | null;
  readonly pauseSource: string | null;
  readonly pauseCount: number;
  readonly runner: { readonly pid: number; readonly host: string; readonly heartbeatAgeMs: number | null; readonly alive: boolean } | null;
  readonly rate: number;
  readonly etaMs: number | null;
  readonly lastActivity: number | null;
  /** Things the reader noticed: torn last line, damaged lines (with numbers), unreadable state.json. */
  readonly notes: readonly string[];
  /** A sharded run: every shard's progress and state (empty for a run that is not sharded). */
  readonly shards: readonly ShardReport[];
  /**
   * The adaptive limit in force, while a runner works (null otherwise, or at the fixed
   * concurrency); a sharded run's: its live shards' limits added up.
   */
  readonly concurrency: ConcurrencyView | null;
  /** What every attempt so far spent (retries too; every shard's); null: none reported a cost or tokens. */
  readonly spend: Spend | null;
  /** The spend at completion if the attempts still to come cost what those so far did on average. */
  readonly projected: Spend | null;
  /** The run's spend limits (`budget` of the experiment); null: none set. */
  readonly budget: Budget | null;
  /** A worker run's workers while its runner works (state.json's; null otherwise, and for a sharded run). */
  readonly workers: WorkerCounts | null;
}

export interface ReportOptions {
  /** Group by this item field (dotted path, or `item.<path>`) or matrix key instead of the matrix cell. */
  readonly by?: string;
  /**
   * A `by` that no unit of this run has: `error` (the default) throws the UserError that lists
   * what there is (the CLI); `cell` groups by matrix cell with a note (the tree, whose one
   * setting applies to every experiment of the workspace).
   */
  readonly unknownBy?: 'error' | 'cell';
}

/**
 * The engine as a library. Run an experiment file with its command, or with an in-process
 * async handler:
 *
 *   const run = new Run({ experiment: 'evals/gsm8k.experiment.json', handler: async ({ unit }) => ({ passed: true }) });
 *   const summary = await run.run();
 */
export { Run, type RunOptions } from './run/runner';
export type { RunEvent, RunSummary, DryRunPlan, DryRunCommand } from './run/events';
export type { SubsetFlags } from './run/subset';
export { RateLimitError, type UnitHandler, type UnitContext } from './exec/handlerExecutor';
export {
  loadExperiment,
  loadExperimentText,
  loadExperimentObject,
  type LoadedExperiment,
  type LoadOptions,
  type ExperimentSource,
} from './config/load';
export { experimentSchema, experimentJsonSchema, type Experiment, type ExperimentInput } from './config/schema';
export type { Unit } from './config/units';
export { readRunReport, listRunDirs, RunFollower, type RunReport } from './status/report';
export { readResults, type ResultRow, type ResultsOptions } from './status/results';
export { compareRuns, type Comparison, type CompareSide, type MatchBy, type UnitChange, type GroupDelta } from './status/compare';
export { topReasons, type Reason } from './model/reasons';
export { wilson } from './status/wilson';
export { JournalTail } from './status/tail';
export { unitFolderName } from './ids';
export { findResultFile } from './exec/resultFiles';
export { repairRun, type RepairOutcome } from './repair/repair';
export { parseResetTime } from './ratelimit/resetTime';
export { UserError, isUserError } from './errors';
export { systemClock, type Clock } from './clock';
export type { Disposable, Event } from './disposable';
export { readJournal } from './store/journalReader';
export { applyRecord, newView, type RunView, type Counts } from './model/view';
export type { JournalRecord, RunStatus, Outcome } from './store/events';
export { RunPaths, type Shard } from './store/paths';

import type { LoadedExperiment } from '../config/load';
import type { Unit } from '../config/units';
import type { RunView } from '../model/view';
import type { Subset } from './subset';

export interface Plan {
  /** Units to dispatch, in config order. */
  readonly todo: Unit[];
  /** Units whose attempt budget starts over (`--retry-errors`, `--retry-failed`). */
  readonly requeue: string[];
  readonly requeueWhy: string;
  /** How many units fall under each reason, for `--dry-run`. */
  readonly reasons: Record<string, number>;
  /** Units that would run but are outside the subset asked for: not dispatched, their state untouched. */
  readonly leftOut: number;
  /** Unit ids by reason, for `--dry-run --verbose`; only when asked for (a million ids cost). */
  readonly idsByReason?: Record<string, string[]>;
}

/**
 * What a run will do with each unit, given the journal's view and the flags. With a subset
 * (`--only`, `--unit`, `--limit`), the units that would run but are outside it are left out:
 * not dispatched and not requeued, so they stay as they were. Pure.
 */
export function planRun(
  exp: LoadedExperiment,
  view: RunView,
  flags: { retryErrors?: boolean; retryFailed?: boolean; subset?: Subset; ids?: boolean },
): Plan {
  const todo: Unit[] = [];
  const requeue: string[] = [];
  const reasons: Record<string, number> = {};
  const idsByReason: Record<string, string[]> | undefined = flags.ids ? {} : undefined;
  const because = (r: string, id: string) => {
    reasons[r] = (reasons[r] ?? 0) + 1;
    if (idsByReason) (idsByReason[r] ??= []).push(id);
  };
  const subset = flags.subset;
  let leftOut = 0;
  const run = (unit: Unit, why: string, again = false) => {
    if (subset?.ids && !subset.ids.has(unit.id)) {
      leftOut++;
      return because(`left out: not in ${subset.picked}`, unit.id);
    }
    if (subset?.limit !== undefined && todo.length >= subset.limit) {
      leftOut++;
      return because(`left out: past --limit ${subset.limit}`, unit.id);
    }
    if (again) requeue.push(unit.id);
    todo.push(unit);
    because(why, unit.id);
  };
  const max = exp.config.retries.maxAttempts;
  const table = view.units;
  for (let k = 0; k < exp.units.length; k++) {
    const unit = exp.units[k]!;
    // By index, not `get` (a million units would make a million objects); the view of an
    // unsharded run holds the units in the same order, so most lookups need no hashing.
    const i = table.ids[k] === unit.id ? k : table.indexOf(unit.id);
    if (i < 0) continue;
    const status = table.statusAt(i);
    const attempts = table.attempts[i]!;
    switch (status) {
      case 'passed':
        because('skip: passed', unit.id);
        continue;
      case 'failed':
        if (flags.retryFailed) run(unit, 'run: failed, --retry-failed', true);
        else because('skip: failed (use --retry-failed to run again)', unit.id);
        continue;
      case 'error':
        if (flags.retryErrors) run(unit, 'run: error, --retry-errors', true);
        else if (attempts < max) run(unit, `run: error with attempts left (${attempts} of ${max} used)`);
        else because('skip: error, attempts used up (use --retry-errors)', unit.id);
        continue;
      case 'rate_limited':
        run(unit, 'run: was rate limited');
        continue;
      default:
        run(unit, attempts > 0 || status === 'running' ? 'run: was in flight when the last runner stopped' : 'run: not started');
    }
  }
  const why = [flags.retryErrors && '--retry-errors', flags.retryFailed && '--retry-failed'].filter(Boolean).join(' ');
  return { todo, requeue, requeueWhy: why, reasons, leftOut, ...(idsByReason ? { idsByReason } : {}) };
}

/** What the end of a run says about the units a subset left out, and how to run them. */
export function leftOutMessage(subset: Subset | undefined, leftOut: number): string | undefined {
  if (!subset || leftOut === 0) return undefined;
  const flags = [subset.ids ? '--only/--unit' : '', subset.limit !== undefined ? '--limit' : ''].filter(Boolean).join(' and ');
  return `Ran a subset (${subset.flags}): ${leftOut} unit(s) that would run were left out, their state untouched. Run again without ${flags} to run the rest.`;
}

import type { LoadedExperiment } from '../config/load';
import type { Unit } from '../config/units';
import type { RunView } from '../model/view';
import type { Subset } from './subset';
import { unitsByPlace } from './unitsByPlace';

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
  const units = unitsByPlace(exp, view);
  const run = (k: number, why: string, again = false) => {
    const id = units.id(k);
    if (subset?.ids && !subset.ids.has(id)) {
      leftOut++;
      return because(`left out: not in ${subset.picked}`, id);
    }
    if (subset?.limit !== undefined && todo.length >= subset.limit) {
      leftOut++;
      return because(`left out: past --limit ${subset.limit}`, id);
    }
    if (again) requeue.push(id);
    todo.push(units.unit(k));
    because(why, id);
  };
  const max = exp.config.retries.maxAttempts;
  const table = view.units;
  for (let k = 0; k < units.count; k++) {
    // By index, not `get` (a million units would make a million objects).
    const i = units.place(k);
    if (i < 0) continue;
    const id = units.id(k);
    const status = table.statusAt(i);
    const attempts = table.attempts[i]!;
    switch (status) {
      case 'passed':
        because('skip: passed', id);
        continue;
      case 'failed':
        if (flags.retryFailed) run(k, 'run: failed, --retry-failed', true);
        else because('skip: failed (use --retry-failed to run again)', id);
        continue;
      case 'error':
        if (flags.retryErrors) run(k, 'run: error, --retry-errors', true);
        else if (attempts < max) run(k, `run: error with attempts left (${attempts} of ${max} used)`);
        else because('skip: error, attempts used up (use --retry-errors)', id);
        continue;
      case 'rate_limited':
        run(k, 'run: was rate limited');
        continue;
      default:
        run(k, attempts > 0 || status === 'running' ? 'run: was in flight when the last runner stopped' : 'run: not started');
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

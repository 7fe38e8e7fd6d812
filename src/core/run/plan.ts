import type { LoadedExperiment } from '../config/load';
import type { Unit } from '../config/units';
import type { RunView } from '../model/view';

export interface Plan {
  /** Units to dispatch, in config order. */
  readonly todo: Unit[];
  /** Units whose attempt budget starts over (`--retry-errors`, `--retry-failed`). */
  readonly requeue: string[];
  readonly requeueWhy: string;
  /** How many units fall under each reason, for `--dry-run`. */
  readonly reasons: Record<string, number>;
}

/** What a run will do with each unit, given the journal's view and the flags. Pure. */
export function planRun(exp: LoadedExperiment, view: RunView, flags: { retryErrors?: boolean; retryFailed?: boolean }): Plan {
  const todo: Unit[] = [];
  const requeue: string[] = [];
  const reasons: Record<string, number> = {};
  const because = (r: string) => (reasons[r] = (reasons[r] ?? 0) + 1);
  const max = exp.config.retries.maxAttempts;
  for (const unit of exp.units) {
    const v = view.units.get(unit.id);
    if (!v) continue;
    switch (v.status) {
      case 'passed':
        because('skip: passed');
        continue;
      case 'failed':
        if (flags.retryFailed) {
          requeue.push(unit.id);
          todo.push(unit);
          because('run: failed, --retry-failed');
        } else because('skip: failed (use --retry-failed to run again)');
        continue;
      case 'error':
        if (flags.retryErrors) {
          requeue.push(unit.id);
          todo.push(unit);
          because('run: error, --retry-errors');
        } else if (v.attempts < max) {
          todo.push(unit);
          because(`run: error with attempts left (${v.attempts} of ${max} used)`);
        } else because('skip: error, attempts used up (use --retry-errors)');
        continue;
      case 'rate_limited':
        todo.push(unit);
        because('run: was rate limited');
        continue;
      default:
        todo.push(unit);
        because(v.attempts > 0 || v.status === 'running' ? 'run: was in flight when the last runner stopped' : 'run: not started');
    }
  }
  const why = [flags.retryErrors && '--retry-errors', flags.retryFailed && '--retry-failed'].filter(Boolean).join(' ');
  return { todo, requeue, requeueWhy: why, reasons };
}

import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { applyRecord } from '../model/view';
import type { Shard } from '../store/paths';
import type { RunSummary } from './events';
import { openRun } from './openRun';
import { planRun } from './plan';
import { findAdoptable } from './recover';

/** `run --dry-run`: what would run, be skipped, adopted or retried, and why. Writes nothing. */
export async function dryRun(
  exp: LoadedExperiment,
  o: { shard?: Shard; clock: Clock; retryErrors?: boolean; retryFailed?: boolean; note: (m: string) => void },
): Promise<RunSummary> {
  const opened = await openRun(exp, { readOnly: true, shard: o.shard, clock: o.clock });
  for (const n of opened.notes) o.note(n);
  const adopt = findAdoptable(exp, opened.paths, opened.view, o.clock.now());
  for (const a of adopt) applyRecord(opened.view, a);
  const plan = planRun(exp, opened.view, { retryErrors: o.retryErrors, retryFailed: o.retryFailed });
  return {
    status: 'dry_run',
    exitCode: 0,
    runDir: opened.paths.root,
    total: opened.view.units.size,
    counts: { ...opened.view.counts },
    rateLimitedUntil: null,
    plan: {
      run: plan.todo.map((u) => u.id),
      skip: opened.view.units.size - plan.todo.length,
      adopt: adopt.map((a) => a.u),
      retry: plan.requeue,
      reasons: plan.reasons,
    },
  };
}

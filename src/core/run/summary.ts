import { topReasons } from '../model/reasons';
import type { RunView } from '../model/view';
import type { RunStatus } from '../store/events';
import type { RunSummary } from './events';
import type { SchedulerEnd } from './scheduler';

/** What a run ended with, as `run` returns it and the CLI's last lines say it. */
export function summaryOf(
  status: RunStatus,
  exitCode: RunSummary['exitCode'],
  message: string | undefined,
  runDir: string,
  view: RunView,
  end: SchedulerEnd,
): RunSummary {
  // The view's units are the run's (this shard's), in config order.
  const reasons = view.counts.error + view.counts.failed > 0 ? topReasons(view.units.ids, view, { limit: 3 }) : [];
  return {
    status,
    exitCode,
    runDir,
    total: view.units.size,
    counts: { ...view.counts },
    rateLimitedUntil: status === 'paused_rate_limit' ? (end.rateLimitedUntil ?? null) : null,
    message,
    spend: view.spend.attempts > 0 ? { ...view.spend } : null,
    ...(reasons.length ? { reasons } : {}),
  };
}

import type { RunReport } from '../../core/status/report';

/** A notification worth showing, decided from two successive reports of one run. Pure. */
export type Notice =
  | { kind: 'finished'; report: RunReport }
  | { kind: 'budgetReached'; report: RunReport }
  | { kind: 'longPause'; report: RunReport; until: number }
  | { kind: 'interruptedFound'; report: RunReport; why: string };

export interface NoticeSettings {
  readonly onFinish: boolean;
  /** Notify of a rate-limit pause longer than this many minutes (0: never). */
  readonly pauseMinutes: number;
  readonly onInterruptedFound: boolean;
}

/**
 * `seen` remembers what was already said (per run and pause), so a notice is shown once:
 * notifications only when they matter.
 */
export function noticesFor(prev: RunReport | undefined, next: RunReport, now: number, s: NoticeSettings, seen: Set<string>): Notice[] {
  const out: Notice[] = [];
  const wasLive = prev !== undefined && (prev.status === 'running' || prev.status === 'paused_rate_limit');
  if (s.onFinish && wasLive && next.status === 'completed') out.push({ kind: 'finished', report: next });
  if (s.onFinish && wasLive && next.status === 'budget_exhausted') out.push({ kind: 'budgetReached', report: next });
  if (s.pauseMinutes > 0 && next.status === 'paused_rate_limit' && next.rateLimitedUntil !== null) {
    const key = `pause:${next.runDir}:${next.pauseCount}`;
    if (next.rateLimitedUntil - now > s.pauseMinutes * 60_000 && !seen.has(key)) {
      seen.add(key);
      out.push({ kind: 'longPause', report: next, until: next.rateLimitedUntil });
    }
  }
  // A sharded run's shards are resumed by the cluster scheduler (requeue), not by a Resume from here.
  if (s.onInterruptedFound && next.status === 'interrupted' && next.done < next.total && !wasLive && next.shards.length === 0) {
    const key = `interrupted:${next.runDir}:${next.lastActivity}`;
    if (!seen.has(key)) {
      seen.add(key);
      const r = next.runner;
      const why = r && !r.alive ? `its runner (pid ${r.pid} on ${r.host}) is gone` : 'it was stopped';
      out.push({ kind: 'interruptedFound', report: next, why });
    }
  }
  return out;
}

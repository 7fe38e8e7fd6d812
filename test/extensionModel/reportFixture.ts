import type { RunReport } from '../../src/core/status/report';
import { emptyCounts, type Counts } from '../../src/core/model/view';

export const NOW = Date.UTC(2026, 10, 22, 10, 0, 0);

/** A live run's report at 412/1000 (the tree's and status bar's examples), with `over` on top. */
export function report(over: Partial<RunReport> = {}): RunReport {
  const counts: Counts = { ...emptyCounts(), passed: 400, failed: 10, error: 2, running: 4, pending: 584 };
  return {
    runDir: '/w/.resumable/gsm8k-1a2b3c4d',
    name: 'gsm8k',
    hash: 'h',
    experimentFile: '/w/gsm8k.experiment.json',
    status: 'running',
    total: 1000,
    done: 412,
    counts,
    groups: [{ group: '', total: 1000, counts }],
    rateLimitedUntil: null,
    pauseSource: null,
    pauseCount: 0,
    runner: { pid: 1, host: 'h', heartbeatAgeMs: 1000, alive: true },
    rate: 9.8,
    etaMs: 62_000,
    lastActivity: NOW,
    notes: [],
    shards: [],
    concurrency: null,
    spend: null,
    projected: null,
    budget: null,
    workers: null,
    ...over,
  };
}

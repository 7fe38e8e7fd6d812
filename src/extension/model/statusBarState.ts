import type { RunReport } from '../../core/status/report';
import { spendAndConcurrencyLines } from '../../core/status/spendLines';
import { formatCountdown as countdown, formatHhmm as hhmm } from '../../core/time';

// One formatter for both faces (src/core/time.ts); these names are the extension's.
export { countdown, hhmm };

/**
 * The status bar's small state machine: hidden when nothing runs, `running` with progress,
 * `paused` on a rate limit with a countdown. The most urgent run wins: paused > running.
 * `details`: the tooltip's lines of spend and concurrency ("Spent $0.42 · 120k tokens (projected
 * $1.10 at completion)", "concurrency 6/32, adapting"), each only when there is something to say.
 */
export type StatusBarState =
  | { kind: 'hidden' }
  | { kind: 'running'; name: string; done: number; total: number; runDir: string; experimentFile: string; details: readonly string[] }
  | {
      kind: 'paused';
      name: string;
      until: number;
      source: string | null;
      pauseCount: number;
      done: number;
      total: number;
      runDir: string;
      experimentFile: string;
      live: boolean;
      details: readonly string[];
    };

export function statusBarState(reports: readonly RunReport[], now: number): StatusBarState {
  const paused = reports.find(
    (r) => r.status === 'paused_rate_limit' && r.rateLimitedUntil !== null && r.rateLimitedUntil > now && r.runner?.alive,
  );
  if (paused) {
    return {
      kind: 'paused',
      name: paused.name,
      until: paused.rateLimitedUntil!,
      source: paused.pauseSource,
      pauseCount: paused.pauseCount,
      done: paused.done,
      total: paused.total,
      runDir: paused.runDir,
      experimentFile: paused.experimentFile,
      live: true,
      details: spendAndConcurrencyLines(paused),
    };
  }
  const running = reports.find((r) => (r.status === 'running' || r.status === 'paused_rate_limit') && r.runner?.alive);
  if (running)
    return {
      kind: 'running',
      name: running.name,
      done: running.done,
      total: running.total,
      runDir: running.runDir,
      experimentFile: running.experimentFile,
      details: spendAndConcurrencyLines(running),
    };
  return { kind: 'hidden' };
}

/** `$(sync~spin) gsm8k 412/1000` or `$(watch) gsm8k: rate limited · resumes 06:00 (14m)` (named: several runs may be going). */
export function statusBarText(s: StatusBarState, now: number): string {
  switch (s.kind) {
    case 'hidden':
      return '';
    case 'running':
      return `$(sync~spin) ${s.name} ${s.done}/${s.total}`;
    case 'paused':
      return `$(watch) ${s.name}: rate limited · resumes ${hhmm(s.until)} (${countdown(s.until - now)})`;
  }
}

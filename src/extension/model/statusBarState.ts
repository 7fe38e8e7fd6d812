import type { RunReport } from '../../core/status/report';

/**
 * The status bar's small state machine: hidden when nothing runs, `running` with progress,
 * `paused` on a rate limit with a countdown. The most urgent run wins: paused > running.
 */
export type StatusBarState =
  | { kind: 'hidden' }
  | { kind: 'running'; name: string; done: number; total: number; runDir: string; experimentFile: string }
  | { kind: 'paused'; name: string; until: number; source: string | null; pauseCount: number; done: number; total: number; runDir: string; experimentFile: string; live: boolean };

export function statusBarState(reports: readonly RunReport[], now: number): StatusBarState {
  const paused = reports.find((r) => r.status === 'paused_rate_limit' && r.rateLimitedUntil !== null && r.rateLimitedUntil > now && r.runner?.alive);
  if (paused) {
    return {
      kind: 'paused', name: paused.name, until: paused.rateLimitedUntil!, source: paused.pauseSource, pauseCount: paused.pauseCount,
      done: paused.done, total: paused.total, runDir: paused.runDir, experimentFile: paused.experimentFile, live: true,
    };
  }
  const running = reports.find((r) => (r.status === 'running' || r.status === 'paused_rate_limit') && r.runner?.alive);
  if (running) return { kind: 'running', name: running.name, done: running.done, total: running.total, runDir: running.runDir, experimentFile: running.experimentFile };
  return { kind: 'hidden' };
}

/** `$(sync~spin) gsm8k 412/1000` or `$(watch) Rate limited · resumes 06:00 (14m)`. */
export function statusBarText(s: StatusBarState, now: number): string {
  switch (s.kind) {
    case 'hidden':
      return '';
    case 'running':
      return `$(sync~spin) ${s.name} ${s.done}/${s.total}`;
    case 'paused':
      return `$(watch) Rate limited · resumes ${hhmm(s.until)} (${countdown(s.until - now)})`;
  }
}

export function hhmm(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** 14m, 1h05m, 45s: coarse enough to read at a glance, fine enough to watch tick. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

import type { RunReport } from '../../core/status/report';

/**
 * What Stop may do to a live runner. A pid means something only on its own host: a runner
 * on another machine (a shard writing to a shared folder) is alive by its heartbeat, and
 * signalling its pid here would hit an unrelated local process. Pure.
 */
export type StopPlan =
  | { readonly kind: 'signal'; readonly pid: number }
  | { readonly kind: 'elsewhere'; readonly message: string }
  | { readonly kind: 'notRunning' };

export function stopPlan(label: string, runner: RunReport['runner'], thisHost: string): StopPlan {
  if (!runner?.alive) return { kind: 'notRunning' };
  if (runner.host === thisHost) return { kind: 'signal', pid: runner.pid };
  return {
    kind: 'elsewhere',
    message: `${label} runs on ${runner.host} (pid ${runner.pid}), not on this machine (${thisHost}): nothing was signalled. Stop it there: \`kill -INT ${runner.pid}\` on ${runner.host}, or Ctrl+C in its terminal (units in flight finish first).`,
  };
}

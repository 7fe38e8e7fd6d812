import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import type { AttemptExecutor, AttemptResult } from '../exec/attempt';
import type { UnitEndRecord } from '../store/events';
import { HandlerExecutor, type UnitHandler } from '../exec/handlerExecutor';
import { ProcessExecutor } from '../exec/processExecutor';
import { WorkerExecutor } from '../exec/workerExecutor';
import type { RunPaths } from '../store/paths';

/** A library handler's attempts run in this process; otherwise on the experiment's workers, or each as its command. */
export function executorFor(
  exp: LoadedExperiment,
  paths: RunPaths,
  clock: Clock,
  handler: UnitHandler | undefined,
  concurrency: number,
  note?: (message: string) => void,
): AttemptExecutor {
  if (!handler && exp.templates.worker) return new WorkerExecutor(exp, paths, clock, concurrency, note);
  if (!handler) return new ProcessExecutor(exp, paths, clock);
  const timeoutMs = exp.config.run.timeoutSeconds !== undefined ? exp.config.run.timeoutSeconds * 1000 : undefined;
  return new HandlerExecutor(handler, exp.config.seed, clock, timeoutMs, exp.config.result);
}

/** An attempt's end as its journal line, whatever executor ran it. */
export function endRecord(u: string, a: number, r: AttemptResult, ts: number): UnitEndRecord {
  return {
    t: 'end',
    ts,
    u,
    a,
    s: r.status,
    x: r.exitCode,
    sig: r.signal,
    d: Math.round(r.durationMs),
    why: r.why,
    r: r.value,
    reset: r.resetAt,
    usd: r.usage?.usd,
    tok: r.usage?.tok,
    m: r.metrics,
  };
}

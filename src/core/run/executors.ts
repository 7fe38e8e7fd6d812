import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import type { AttemptExecutor } from '../exec/attempt';
import { HandlerExecutor, type UnitHandler } from '../exec/handlerExecutor';
import { ProcessExecutor } from '../exec/processExecutor';
import type { RunPaths } from '../store/paths';

/** A library handler's attempts run in this process; otherwise each is the experiment's command. */
export function executorFor(exp: LoadedExperiment, paths: RunPaths, clock: Clock, handler: UnitHandler | undefined): AttemptExecutor {
  if (!handler) return new ProcessExecutor(exp, paths, clock);
  const timeoutMs = exp.config.run.timeoutSeconds !== undefined ? exp.config.run.timeoutSeconds * 1000 : undefined;
  return new HandlerExecutor(handler, exp.config.seed, clock, timeoutMs, exp.config.result);
}

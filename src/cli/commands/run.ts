import { loadExperiment } from '../../core/config/load';
import { Run } from '../../core/run/runner';
import { dryRunCommand } from './dryRun';
import { chooseShard } from '../../core/shard/detect';
import { exitCodeOf, printSummary } from '../summary';
import { ProgressRenderer } from '../progress';
import { Interrupts } from '../signals';
import { err } from '../stdio';
import type { Command } from '../args';

export async function runCommand(c: Extract<Command, { cmd: 'run' }>): Promise<number> {
  // First: a signal while a large dataset loads must not kill with the default action either.
  const stopper = new Interrupts();
  const { shard, source } = chooseShard(c.shard, process.env);
  const exp = await loadExperiment(c.file);
  if (c.dryRun) return dryRunCommand(c, exp, shard, stopper);
  const run = new Run({
    experiment: exp,
    fresh: c.fresh,
    retryErrors: c.retryErrors,
    retryFailed: c.retryFailed,
    concurrency: c.concurrency,
    argv: process.argv.slice(2),
    shard,
    shardSource: source,
    limit: c.limit,
    only: c.only,
    units: c.units,
  });
  const mode = c.json ? 'json' : process.stderr.isTTY ? 'tty' : 'plain';
  const shown = new ProgressRenderer(exp.config.name, mode);
  run.onEvent((e) => shown.handle(e));
  stopper.attach(run, (message) => shown.handle({ type: 'note', message }));
  try {
    const summary = await run.run();
    const { exitCode, because } = exitCodeOf(summary, c.failOn);
    stopper.ended(exitCode);
    if (!c.json) printSummary(summary, exp.config.name, exp.file, c.failOn);
    else if (because) err(`${because}\n`);
    return exitCode;
  } catch (e) {
    stopper.ended(1);
    throw e;
  } finally {
    // The signal handlers stay: removed, a late SIGTERM would kill the process with the
    // default action (exit 143) after the summary said otherwise.
    shown.stopTicker();
  }
}

import * as path from 'node:path';
import { systemClock } from '../../core/clock';
import { loadExperiment, type LoadedExperiment } from '../../core/config/load';
import { dryRun } from '../../core/run/dryRun';
import { Run } from '../../core/run/runner';
import { chooseShard } from '../../core/shard/detect';
import type { Shard } from '../../core/store/paths';
import type { RunSummary } from '../../core/run/events';
import { formatClock, formatCounts, formatDuration, formatSpend } from '../format';
import { resumeLine } from '../resumeLine';
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
  });
  const mode = c.json ? 'json' : process.stderr.isTTY ? 'tty' : 'plain';
  const shown = new ProgressRenderer(exp.config.name, mode);
  run.onEvent((e) => shown.handle(e));
  stopper.attach(run, (message) => shown.handle({ type: 'note', message }));
  try {
    const summary = await run.run();
    stopper.ended(summary.exitCode);
    if (!c.json) printSummary(summary, exp.config.name, exp.file);
    return summary.exitCode;
  } catch (e) {
    stopper.ended(1);
    throw e;
  } finally {
    // The signal handlers stay: removed, a late SIGTERM would kill the process with the
    // default action (exit 143) after the summary said otherwise.
    shown.stopTicker();
  }
}

/**
 * `run --dry-run`, here rather than through `Run` so that it sees `--fresh` (what a fresh run
 * would archive, and no drift refusal that points at --fresh). It writes nothing: an
 * interrupt just ends it.
 */
async function dryRunCommand(c: Extract<Command, { cmd: 'run' }>, exp: LoadedExperiment, shard: Shard | undefined, stopper: Interrupts) {
  const shown = new ProgressRenderer(exp.config.name, c.json ? 'json' : 'plain');
  const note = (message: string) => shown.handle({ type: 'note', message });
  stopper.attach({ stop: () => process.exit(130), abandon: () => undefined }, note);
  const summary = await dryRun(exp, {
    shard,
    clock: systemClock,
    retryErrors: c.retryErrors,
    retryFailed: c.retryFailed,
    fresh: c.fresh,
    note,
  });
  stopper.ended(summary.exitCode);
  shown.handle({ type: 'end', summary });
  if (!c.json) printDryRun(summary, exp.config.name);
  return summary.exitCode;
}

function printDryRun(s: RunSummary, name: string): void {
  if (!s.plan) return;
  err(`Dry run of ${name} (${path.relative(process.cwd(), s.runDir) || s.runDir}): nothing was run or written.\n`);
  err(
    `  would run ${s.plan.run.length}, skip ${s.plan.skip}, adopt ${s.plan.adopt.length} result(s) found on disk, retry ${s.plan.retry.length}\n`,
  );
  for (const [why, n] of Object.entries(s.plan.reasons).sort()) err(`  ${String(n).padStart(7)}  ${why}\n`);
  if (s.plan.adopt.length) err(`  adopt: ${s.plan.adopt.slice(0, 5).join(', ')}${s.plan.adopt.length > 5 ? ', ...' : ''}\n`);
}

function printSummary(s: RunSummary, name: string, file: string): void {
  const done = s.counts.passed + s.counts.failed + s.counts.error;
  const head: Record<string, string> = {
    completed: '✔ Completed',
    interrupted: '■ Interrupted',
    paused_rate_limit: '⏸ Parked on a rate limit',
    budget_exhausted: '$ Budget reached',
    failed: '✖ Failed',
    running: '…',
    dry_run: '',
  };
  err(`${head[s.status]}: ${name} ${done}/${s.total} · ${formatCounts(s.counts)}\n`);
  if (s.message) err(`  ${s.message}\n`);
  if (s.spend) err(`  Spent ${formatSpend(s.spend)}.\n`);
  if (s.status === 'paused_rate_limit') {
    if (s.rateLimitedUntil)
      err(`  Resets at ${formatClock(s.rateLimitedUntil)} (in ${formatDuration(s.rateLimitedUntil - Date.now())}). Exit code 2.\n`);
    err(`  ${resumeLine(s, name, file)}\n`);
  }
  if (s.status === 'budget_exhausted') err('  Exit code 3.\n');
  if (s.status === 'interrupted') err('  Nothing finished was lost. Run the same command again to resume.\n');
  err(`  Run folder: ${path.relative(process.cwd(), s.runDir) || s.runDir}\n`);
}

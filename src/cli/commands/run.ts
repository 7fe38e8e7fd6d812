import * as path from 'node:path';
import { loadExperiment } from '../../core/config/load';
import { Run } from '../../core/run/runner';
import { chooseShard } from '../../core/shard/detect';
import type { RunSummary } from '../../core/run/events';
import { formatClock, formatCounts, formatDuration } from '../format';
import { ProgressRenderer } from '../progress';
import type { Command } from '../args';

export async function runCommand(c: Extract<Command, { cmd: 'run' }>): Promise<number> {
  const { shard, source } = chooseShard(c.shard, process.env);
  const exp = await loadExperiment(c.file);
  const run = new Run({
    experiment: exp, fresh: c.fresh, retryErrors: c.retryErrors, retryFailed: c.retryFailed, dryRun: c.dryRun,
    concurrency: c.concurrency, argv: process.argv.slice(2), shard, shardSource: source,
  });
  const mode = c.json ? 'json' : process.stderr.isTTY ? 'tty' : 'plain';
  const renderer = new ProgressRenderer(exp.config.name, mode);
  run.onEvent((e) => renderer.handle(e));

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    run.stop();
    if (signals >= 2) {
      // The second interrupt must end the process even if something hangs; the journal was flushed by stop().
      setTimeout(() => process.exit(130), 2000).unref();
    }
    void sig;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    const summary = await run.run();
    if (!c.json) printSummary(summary, exp.config.name, c.dryRun);
    return summary.exitCode;
  } finally {
    renderer.stopTicker();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

function printSummary(s: RunSummary, name: string, dryRun: boolean): void {
  const out = process.stderr;
  if (dryRun && s.plan) {
    out.write(`Dry run of ${name} (${path.relative(process.cwd(), s.runDir) || s.runDir}): nothing was run or written.\n`);
    out.write(`  would run ${s.plan.run.length}, skip ${s.plan.skip}, adopt ${s.plan.adopt.length} result(s) found on disk, retry ${s.plan.retry.length}\n`);
    for (const [why, n] of Object.entries(s.plan.reasons).sort()) out.write(`  ${String(n).padStart(7)}  ${why}\n`);
    if (s.plan.adopt.length) out.write(`  adopt: ${s.plan.adopt.slice(0, 5).join(', ')}${s.plan.adopt.length > 5 ? ', ...' : ''}\n`);
    return;
  }
  const done = s.counts.passed + s.counts.failed + s.counts.error;
  const head: Record<string, string> = {
    completed: '✔ Completed', interrupted: '■ Interrupted', paused_rate_limit: '⏸ Paused on a rate limit', failed: '✖ Failed', running: '…', dry_run: '',
  };
  out.write(`${head[s.status]}: ${name} ${done}/${s.total} · ${formatCounts(s.counts)}\n`);
  if (s.message) out.write(`  ${s.message}\n`);
  if (s.status === 'paused_rate_limit' && s.rateLimitedUntil) {
    out.write(`  Resets at ${formatClock(s.rateLimitedUntil)} (in ${formatDuration(s.rateLimitedUntil - Date.now())}). Exit code 2.\n`);
  }
  if (s.status === 'interrupted') out.write('  Nothing finished was lost. Run the same command again to resume.\n');
  out.write(`  Run folder: ${path.relative(process.cwd(), s.runDir) || s.runDir}\n`);
}

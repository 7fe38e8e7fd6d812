import * as path from 'node:path';
import { systemClock } from '../../core/clock';
import type { LoadedExperiment } from '../../core/config/load';
import { quoteArg } from '../../core/exec/processExecutor';
import { dryRun } from '../../core/run/dryRun';
import { resolveSubset } from '../../core/run/subset';
import type { Shard } from '../../core/store/paths';
import type { DryRunCommand, DryRunPlan, RunSummary } from '../../core/run/events';
import { ProgressRenderer } from '../progress';
import type { Interrupts } from '../signals';
import { out } from '../stdio';
import type { Command } from '../args';

/**
 * `run --dry-run`, here rather than through `Run` so that it sees `--fresh` (what a fresh run
 * would archive, and no drift refusal that points at --fresh). It writes nothing: an
 * interrupt just ends it. The plan goes to stdout, notes included: it is the answer, read
 * through `| less` or `> plan.txt`, not progress beside a run.
 */
export async function dryRunCommand(
  c: Extract<Command, { cmd: 'run' }>,
  exp: LoadedExperiment,
  shard: Shard | undefined,
  stopper: Interrupts,
): Promise<number> {
  const shown = c.json ? new ProgressRenderer(exp.config.name, 'json') : undefined;
  const note = (message: string) => (shown ? shown.handle({ type: 'note', message }) : out(`· ${message}\n`));
  stopper.attach({ stop: () => process.exit(130), abandon: () => undefined }, note);
  const summary = await dryRun(exp, {
    shard,
    clock: systemClock,
    retryErrors: c.retryErrors,
    retryFailed: c.retryFailed,
    fresh: c.fresh,
    subset: resolveSubset(exp.units, c),
    ids: c.verbose,
    note,
  });
  stopper.ended(summary.exitCode);
  if (shown) shown.handle({ type: 'end', summary });
  else printDryRun(summary, exp.config.name, c);
  return summary.exitCode;
}

function printDryRun(s: RunSummary, name: string, c: Extract<Command, { cmd: 'run' }>): void {
  const p = s.plan;
  if (!p) return;
  const lines = [
    `Dry run of ${name} (${path.relative(process.cwd(), s.runDir) || s.runDir}): nothing was run or written.`,
    `  would run ${p.run.length}, skip ${p.skip}, adopt ${p.adopt.length} result(s) found on disk, retry ${p.retry.length}` +
      (p.leftOut > 0 ? `, leave out ${p.leftOut} (outside the subset)` : ''),
  ];
  for (const [why, n] of byReason(p.reasons)) lines.push(`  ${String(n).padStart(7)}  ${why}`);
  if (p.adopt.length) lines.push(`  adopt: ${p.adopt.slice(0, 5).join(', ')}${p.adopt.length > 5 ? ', ...' : ''}`);
  lines.push(...commandLines(p));
  if (p.idsByReason) lines.push(...idLines(p.idsByReason));
  else if (p.run.length + p.skip + p.leftOut > 0) lines.push('', '(--verbose lists the unit ids of each reason.)');
  if (p.leftOut > 0) lines.push('', `To run the units left out, run again without ${subsetFlags(c)}.`);
  out(lines.join('\n') + '\n');
}

function commandLines(p: DryRunPlan): string[] {
  if (p.commands.length === 0) return [];
  const worker = p.commands[0]!.worker !== undefined;
  const head = worker
    ? `\nThe units would go to workers (run.worker), each started as:`
    : `\n${p.commands.length === p.run.length ? 'What they would run' : `What the first ${p.commands.length} would run`}:`;
  return [head, ...p.commands.flatMap(commandBlock)];
}

function commandBlock(c: DryRunCommand): string[] {
  const env = Object.entries(c.env);
  return [
    `  ${c.unit ?? `worker ${c.worker}`}`,
    `    $ ${c.argv.map(quoteArg).join(' ')}`,
    `    cwd: ${c.cwd}`,
    `    env: ${env.length ? env.map(([k, v]) => `${k}=${quoteArg(v)}`).join(' ') : '(none set by the experiment)'}`,
  ];
}

function idLines(byReasonIds: Record<string, string[]>): string[] {
  const lines = ['', 'Units by reason:'];
  for (const [why, ids] of byReason(byReasonIds)) {
    lines.push(`  ${why} (${ids.length}):`);
    for (const id of ids) lines.push(`    ${id}`);
  }
  return lines;
}

/** What runs first, then what is skipped, then what the subset leaves out. */
function byReason<T>(r: Record<string, T>): [string, T][] {
  const rank = (why: string) => (why.startsWith('run:') ? 0 : why.startsWith('skip:') ? 1 : 2);
  return Object.entries(r).sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

function subsetFlags(c: Extract<Command, { cmd: 'run' }>): string {
  return [c.only.length || c.units.length ? '--only/--unit' : '', c.limit !== undefined ? '--limit' : ''].filter(Boolean).join(' and ');
}

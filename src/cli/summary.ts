import * as path from 'node:path';
import type { RunSummary } from '../core/run/events';
import { endedSubset } from '../core/run/endOfRun';
import { formatClock, formatCounts, formatDuration, formatSpend } from './format';
import { resumeLine } from './resumeLine';
import { err } from './stdio';
import { paint, termStyle, UNICODE, type Glyphs, type TermStyle, type Tone } from './termStyle';

export type FailOn = readonly ('error' | 'failed')[];

/**
 * The exit code of a run: the summary's, except that a completed run with a unit whose
 * outcome `--fail-on` names exits 1 (for CI). Exit 0 still means "every unit has an
 * outcome" to those who did not ask.
 */
export function exitCodeOf(s: RunSummary, failOn: FailOn): { exitCode: number; because?: string } {
  // A subset run (--limit, --only, --unit) that ran all it was asked to is judged the same way: a smoke test in CI.
  if ((s.status !== 'completed' && !endedSubset(s)) || s.exitCode !== 0) return { exitCode: s.exitCode };
  const hit = failOn.filter((k) => s.counts[k] > 0);
  if (hit.length === 0) return { exitCode: 0 };
  const what = hit.map((k) => (k === 'error' ? plural(s.counts.error, 'error') : `${s.counts.failed} failed`)).join(' and ');
  return { exitCode: 1, because: `exit 1 because of --fail-on ${hit.join(',')} (${what})` };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The first word of the summary, honest about what completed means: "✔" only when every unit passed. */
function headOf(s: RunSummary, g: Glyphs): { text: string; tone?: Tone } {
  const problems = [s.counts.error > 0 && plural(s.counts.error, 'error'), s.counts.failed > 0 && `${s.counts.failed} failed`].filter(
    (p) => p !== false,
  );
  switch (s.status) {
    case 'completed':
      return problems.length === 0
        ? { text: `${g.ok} Completed`, tone: 'passed' }
        : { text: `${g.warn} Completed with ${problems.join(' and ')}`, tone: s.counts.error > 0 ? 'error' : 'failed' };
    case 'interrupted':
      if (endedSubset(s))
        return problems.length === 0
          ? { text: `${g.ok} Ran the units asked for`, tone: 'passed' }
          : { text: `${g.warn} Ran the units asked for, with ${problems.join(' and ')}`, tone: s.counts.error > 0 ? 'error' : 'failed' };
      return { text: `${g.stop} Interrupted`, tone: 'stopping' };
    case 'paused_rate_limit':
      return { text: `${g.pause} Parked on a rate limit`, tone: 'paused' };
    case 'budget_exhausted':
      return { text: '$ Budget reached', tone: 'stopping' };
    case 'failed':
      return { text: `${g.fail} Failed`, tone: 'failed' };
    default:
      return { text: g.ellipsis };
  }
}

export function printSummary(
  s: RunSummary,
  name: string,
  file: string,
  failOn: FailOn = [],
  style: TermStyle = termStyle(process.stderr.isTTY === true),
): void {
  const done = s.counts.passed + s.counts.failed + s.counts.error;
  const head = headOf(s, style.glyphs);
  err(
    `${paint(style, head.tone, head.text)}: ${name} ${done}/${s.total}${style.glyphs.sep}${formatCounts(s.counts).replaceAll(UNICODE.sep, style.glyphs.sep)}\n`,
  );
  if (s.message) err(`  ${s.message}\n`);
  for (const r of s.reasons ?? [])
    err(
      `  ${r.status === 'error' ? plural(r.count, 'error') : `${r.count} failed`}: ${r.why} (${r.units.join(', ')}${r.count > r.units.length ? ', …' : ''})\n`,
    );
  if (s.reasons?.length)
    err(`  Every unit and why: resumable results ${path.relative(process.cwd(), file) || file} --status error,failed\n`);
  if (s.spend) err(`  Spent ${formatSpend(s.spend)}.\n`);
  if (s.status === 'paused_rate_limit') {
    if (s.rateLimitedUntil)
      err(`  Resets at ${formatClock(s.rateLimitedUntil)} (in ${formatDuration(s.rateLimitedUntil - Date.now())}). Exit code 2.\n`);
    err(`  ${resumeLine(s, name, file)}\n`);
  }
  if (s.status === 'budget_exhausted') err('  Exit code 3.\n');
  if (s.status === 'interrupted' && !endedSubset(s)) err('  Nothing finished was lost. Run the same command again to resume.\n');
  const { because } = exitCodeOf(s, failOn);
  if (because) err(`  ${because[0]!.toUpperCase()}${because.slice(1)}.\n`);
  else if ((s.status === 'completed' || endedSubset(s)) && s.counts.error > 0)
    err(
      `  ${endedSubset(s) ? 'Every unit asked for' : 'Every unit'} has an outcome (exit 0). Run again with --retry-errors to retry the errors; --fail-on error makes CI fail on them.\n`,
    );
  err(`  Run folder: ${path.relative(process.cwd(), s.runDir) || s.runDir}\n`);
}

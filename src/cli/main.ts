import { experimentJsonSchema } from '../core/config/schema';
import { isUserError } from '../core/errors';
import { parseCommand } from './args';
import { helpText } from './help';
import { checkpointCommand } from './commands/checkpoint';
import { listCommand } from './commands/list';
import { mergeCommand } from './commands/merge';
import { slurmCommand } from './commands/slurm';
import { repairCommand } from './commands/repair';
import { runCommand } from './commands/run';
import { statusCommand } from './commands/status';
import { resultsCommand } from './commands/results';
import { compareCommand } from './commands/compare';
import { drained, err, guardStdio, out, stdoutLost } from './stdio';

declare const RESUMABLE_VERSION: string | undefined;

async function main(argv: string[]): Promise<number> {
  const c = parseCommand(argv);
  switch (c.cmd) {
    case 'help':
      out(helpText(c.topic));
      return 0;
    case 'version':
      out(`${typeof RESUMABLE_VERSION === 'string' ? RESUMABLE_VERSION : 'dev'}\n`);
      return 0;
    case 'schema':
      out(JSON.stringify(experimentJsonSchema(), null, 2) + '\n');
      return 0;
    case 'run':
      return runCommand(c);
    case 'status':
      return statusCommand(c.target, c.json, c.by, c.errors);
    case 'results':
      return resultsCommand(c);
    case 'compare':
      return compareCommand(c);
    case 'repair':
      return repairCommand(c.dir, c.dryRun);
    case 'list':
      return listCommand(c.json);
    case 'merge':
      return mergeCommand(c);
    case 'slurm':
      return slurmCommand(c);
    case 'checkpoint':
      return checkpointCommand(c.file, c.json);
  }
}

guardStdio();
main(process.argv.slice(2)).then(ended, (e: unknown) => ended(reportError(e)));

async function ended(code: number): Promise<void> {
  process.exitCode = code;
  // A failed write is reported on a later tick.
  await new Promise((r) => setImmediate(r));
  const lost = stdoutLost();
  // What `status`, `list` or `merge` print is the answer: lost to a full disk, it is a failure.
  // A run's answer is its run folder: its exit code stays.
  if (lost && code === 0 && process.argv[2] !== 'run') {
    err(`resumable: could not write the output to stdout (${lost.code ?? lost.message}).\n`);
    process.exitCode = 1;
  }
  if (process.argv[2] !== 'run') return;
  // Exit now rather than when the event loop drains: on the way out Node closes the signal
  // handles first, and a SIGTERM landing after that (a storm of them) killed the process with
  // exit 143 after the summary had said 130 or 0. process.exit keeps the handlers to the end.
  await drained();
  process.exit(process.exitCode);
}

function reportError(e: unknown): number {
  if (isUserError(e)) {
    // A user's mistake: the message names file, line and path; no stack trace.
    err(`resumable: ${e.message}\n${e.hints.map((h) => `  ${h}\n`).join('')}`);
    return 1;
  }
  const code = (e as NodeJS.ErrnoException)?.code;
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    // The system said no (disk full, I/O error, permission): not a bug, and nothing finished is lost.
    err(
      `resumable: ${(e as Error).message}\n  Nothing finished was lost: fix the cause (${code}) and run the same command again to resume.\n`,
    );
    return 1;
  }
  err(`resumable: internal error (please report): ${(e as Error)?.stack ?? String(e)}\n`);
  return 1;
}

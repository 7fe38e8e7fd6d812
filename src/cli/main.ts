import { experimentJsonSchema } from '../core/config/schema';
import { isUserError } from '../core/errors';
import { HELP, parseCommand } from './args';
import { listCommand } from './commands/list';
import { mergeCommand } from './commands/merge';
import { slurmCommand } from './commands/slurm';
import { repairCommand } from './commands/repair';
import { runCommand } from './commands/run';
import { statusCommand } from './commands/status';

declare const RESUMABLE_VERSION: string | undefined;

async function main(argv: string[]): Promise<number> {
  const c = parseCommand(argv);
  switch (c.cmd) {
    case 'help':
      process.stdout.write(HELP);
      return 0;
    case 'version':
      process.stdout.write(`${typeof RESUMABLE_VERSION === 'string' ? RESUMABLE_VERSION : 'dev'}\n`);
      return 0;
    case 'schema':
      process.stdout.write(JSON.stringify(experimentJsonSchema(), null, 2) + '\n');
      return 0;
    case 'run':
      return runCommand(c);
    case 'status':
      return statusCommand(c.target, c.json);
    case 'repair':
      return repairCommand(c.dir, c.dryRun);
    case 'list':
      return listCommand(c.json);
    case 'merge':
      return mergeCommand(c);
    case 'slurm':
      return slurmCommand(c);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (isUserError(e)) {
      // A user's mistake: the message names file, line and path; no stack trace.
      process.stderr.write(`resumable: ${e.message}\n${e.hints.map((h) => `  ${h}\n`).join('')}`);
      process.exitCode = 1;
      return;
    }
    const code = (e as NodeJS.ErrnoException)?.code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
      // The system said no (disk full, I/O error, permission): not a bug, and nothing finished is lost.
      process.stderr.write(`resumable: ${(e as Error).message}\n  Nothing finished was lost: fix the cause (${code}) and run the same command again to resume.\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(`resumable: internal error (please report): ${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);

import { parseArgs } from 'node:util';
import { UserError } from '../core/errors';

export const HELP = `resumable — run long batch experiments that survive crashes, Ctrl+C and rate limits

Usage:
  resumable run <file.experiment.json> [--fresh] [--retry-errors] [--retry-failed]
                [--shard k/N] [--concurrency N] [--dry-run] [--json]
  resumable status [<file.experiment.json | run folder>] [--by <key>] [--json]
  resumable repair <run folder> [--dry-run]
  resumable merge <run folder> [--leave-out k,...] [--allow-incomplete] [--dry-run]
  resumable slurm <file.experiment.json> --shards N [--throttle M] [--partition P]
                  [--time T] [--submit | --dry-run]
  resumable list [--json]
  resumable checkpoint <checkpoint.json> [--json]
  resumable schema            print the experiment file's JSON Schema

run
  Resumes by default: units already done are skipped, results on disk that the journal
  missed are adopted, units left running by a crashed runner are awaited or killed.
  --fresh          archive the previous state (run folder's archive/) and start over
  --retry-errors   run again units whose last outcome is error
  --retry-failed   run again units whose last outcome is failed
  --shard k/N      run shard k of N (k from 1): a stable hash partition of the units, with
                   its own journal and lock in the same run folder. Without it, a Slurm
                   array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job
                   (JOB_COMPLETION_INDEX + RESUMABLE_SHARD_COUNT) picks its shard
  --concurrency N  units in flight (overrides the file; a runtime knob)
  --dry-run        say what would run, skip and adopt, and why (with --fresh: what it
                   would archive first); run nothing, write nothing
  --json           one JSON event per line on stdout

status
  Where each run stands: status, counts, rate, ETA, rate-limit pause, runner, shards, and
  counts per group (by matrix cell). With no argument: every run below this folder.
  --by <key>       group by an item field (a dotted path: tier, meta.lang; item.<path>
                   when a matrix key has the same name) or a matrix key (model, repeat);
                   units without a value are in "(none)"
  --json           the report as JSON

merge
  Checks that every unit has an outcome in some shard's journal (by unit id; lists
  missing and duplicated units), then writes one journal and archives the shard journals.
  Refuses while a shard runs, unless left out (--leave-out 2,3).

slurm
  Writes an sbatch script for a job array 0-(N-1)%M whose task i runs shard i+1 (into the
  run folder's slurm/; --dry-run prints it; --submit also runs sbatch).

checkpoint
  Reads a Scylla checkpoint.json (v2.0 completed_runs, v3.x run_states) and compares it
  with the <tier>/<subtest>/run_<NN>/run_result.json files beside it (also under
  completed/ and in_progress/): runs finished on disk but not done in the checkpoint,
  done in it but without a result, verdicts that differ, results not finished (judges
  hit a usage limit). The files are what counts; nothing is written. Exit 0 whether
  they agree or not; 1 for a missing or malformed checkpoint. A folder means its
  checkpoint.json.

Ctrl+C once: stop dispatching, let units in flight finish (graceSeconds), save, exit 130.
Ctrl+C twice: kill units now; finished work is still kept.
Terminal closed (SIGHUP): one Ctrl+C; ignored by a runner started with no terminal (nohup).

Exit codes:
  0    every unit has an outcome (passed, failed or error)
  1    bad input (the message names file, line and path) or the run failed
  2    paused on a rate limit longer than rateLimit.maxWaitSeconds, or the preflight
       said rate limited: run again after the reset time printed
  130  interrupted (Ctrl+C / SIGTERM); run again to resume
`;

export type Command =
  | {
      cmd: 'run';
      file: string;
      fresh: boolean;
      retryErrors: boolean;
      retryFailed: boolean;
      dryRun: boolean;
      json: boolean;
      concurrency?: number;
      shard?: string;
    }
  | { cmd: 'merge'; dir: string; leaveOut: number[]; allowIncomplete: boolean; dryRun: boolean }
  | { cmd: 'checkpoint'; file: string; json: boolean }
  | { cmd: 'slurm'; file: string; shards: number; throttle?: number; partition?: string; time?: string; submit: boolean; dryRun: boolean }
  | { cmd: 'status'; target?: string; json: boolean; by?: string }
  | { cmd: 'repair'; dir: string; dryRun: boolean }
  | { cmd: 'list'; json: boolean }
  | { cmd: 'schema' }
  | { cmd: 'help' }
  | { cmd: 'version' };

export function parseCommand(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === 'help' || cmd === '--help' || cmd === '-h') return { cmd: 'help' };
  if (cmd === '--version' || cmd === '-v') return { cmd: 'version' };
  const opts = {
    fresh: { type: 'boolean' },
    'retry-errors': { type: 'boolean' },
    'retry-failed': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    concurrency: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
    shard: { type: 'string' },
    'leave-out': { type: 'string' },
    'allow-incomplete': { type: 'boolean' },
    shards: { type: 'string' },
    throttle: { type: 'string' },
    partition: { type: 'string' },
    time: { type: 'string' },
    submit: { type: 'boolean' },
    by: { type: 'string' },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: opts, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(`${(e as Error).message.replace(/\. To specify.*$/s, '')}; see \`resumable --help\``);
  }
  const { values: v, positionals: pos } = parsed;
  if (v.help) return { cmd: 'help' };
  const allow = (names: string[]) => {
    for (const k of Object.keys(v))
      if (!names.includes(k)) throw new UserError(`Option --${k} does not apply to \`resumable ${cmd}\`; see \`resumable --help\``);
  };
  const one = (what: string, required: boolean) => {
    if (pos.length > 1) throw new UserError(`Expected one ${what}, got ${pos.length}: ${pos.join(' ')}`);
    if (required && pos.length === 0) throw new UserError(`Expected ${what}; see \`resumable --help\``);
    return pos[0];
  };
  const count = (name: 'concurrency' | 'shards' | 'throttle', value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`Expected --${name} ≥ 1 (an integer), got ${JSON.stringify(value)}`);
    return n;
  };
  switch (cmd) {
    case 'run': {
      allow(['fresh', 'retry-errors', 'retry-failed', 'dry-run', 'json', 'concurrency', 'shard']);
      const file = one('an experiment file (…experiment.json)', true)!;
      const concurrency = count('concurrency', v.concurrency);
      return {
        cmd,
        file,
        fresh: !!v.fresh,
        retryErrors: !!v['retry-errors'],
        retryFailed: !!v['retry-failed'],
        dryRun: !!v['dry-run'],
        json: !!v.json,
        concurrency,
        shard: v.shard,
      };
    }
    case 'merge': {
      allow(['leave-out', 'allow-incomplete', 'dry-run']);
      const dir = one('a run folder (.resumable/<name>-<hash>)', true)!;
      const leaveOut =
        v['leave-out'] === undefined
          ? []
          : v['leave-out'].split(',').map((x) => {
              const k = Number(x.trim());
              if (!Number.isInteger(k) || k < 1)
                throw new UserError(`Expected --leave-out to list shard numbers (from 1), like 2,3; got ${JSON.stringify(v['leave-out'])}`);
              return k;
            });
      return { cmd, dir, leaveOut, allowIncomplete: !!v['allow-incomplete'], dryRun: !!v['dry-run'] };
    }
    case 'slurm': {
      allow(['shards', 'throttle', 'partition', 'time', 'submit', 'dry-run']);
      const file = one('an experiment file (…experiment.json)', true)!;
      const shards = count('shards', v.shards);
      if (shards === undefined) throw new UserError('Expected --shards N: how many array tasks (shards) to split the run into');
      if (v.submit && v['dry-run']) throw new UserError('Expected --submit or --dry-run, not both');
      return {
        cmd,
        file,
        shards,
        throttle: count('throttle', v.throttle),
        partition: v.partition,
        time: v.time,
        submit: !!v.submit,
        dryRun: !!v['dry-run'],
      };
    }
    case 'status': {
      allow(['json', 'by']);
      if (v.by !== undefined && v.by.trim() === '')
        throw new UserError('Expected --by to name an item field (like tier or meta.lang) or a matrix key, got nothing');
      return { cmd, target: one('experiment file or run folder', false), json: !!v.json, by: v.by?.trim() };
    }
    case 'repair':
      allow(['dry-run']);
      return { cmd, dir: one('a run folder (.resumable/<name>-<hash>)', true)!, dryRun: !!v['dry-run'] };
    case 'list':
      allow(['json']);
      one('nothing', false);
      return { cmd, json: !!v.json };
    case 'checkpoint':
      allow(['json']);
      return { cmd, file: one('a Scylla checkpoint.json (or the folder that holds it)', true)!, json: !!v.json };
    case 'schema':
      return { cmd };
    default:
      throw new UserError(
        `Unknown command "${cmd}"; expected run, status, repair, merge, slurm, list, checkpoint or schema (see \`resumable --help\`)`,
      );
  }
}

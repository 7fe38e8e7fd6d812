/**
 * What `resumable --help`, `resumable <command> --help` and `resumable help <command>` print.
 * A command's page holds everything about its flags, so a newcomer reads one screen, not the
 * whole manual; the overview lists the commands and where to look next.
 */

const EXIT_CODES = `Exit codes:
  0    every unit has an outcome (passed, failed or error)
  1    bad input (the message names file, line and path), or the run failed;
       with --fail-on, units ended with those outcomes
  2    parked on a rate limit longer than rateLimit.maxWaitSeconds, or a quota: run
       again after the reset time printed
  3    a spend limit (budget.maxCostUSD / budget.maxTokens) was reached
  130  interrupted (Ctrl+C / SIGTERM): run the same command again to resume`;

const RUN = `resumable run <file.experiment.json> [options]

Runs the experiment's units. Resumes by default: units already done are skipped, results
on disk that the journal missed are adopted, units left running by a crashed runner are
awaited or killed.

Options:
  --fresh                archive the previous state (run folder's archive/) and start over
  --retry-errors         run again units whose last outcome is error
  --retry-failed         run again units whose last outcome is failed
  --only key=value       only units whose matrix value or item field matches, e.g.
                         --only model=small (repeatable: ANDed across keys, ORed within one)
  --unit <id>            only this unit, e.g. --unit q001/small/r1 (repeatable)
  --limit N              run at most N of the units that would run: a smoke test
  --concurrency N        units in flight (overrides the file; a runtime knob)
  --shard k/N            run shard k of N (k from 1): a stable hash partition of the units,
                         with its own journal and lock in the same run folder. Without it, a
                         Slurm array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job
                         (JOB_COMPLETION_INDEX + RESUMABLE_SHARD_COUNT) picks its shard
  --dry-run              say what would run, skip and adopt, and why (with --fresh: what it
                         would archive first); run nothing, write nothing
  --verbose              with --dry-run: the unit ids by reason
  --fail-on error,failed exit 1 when the finished run has units with these outcomes (for CI)
  --json                 one JSON event per line on stdout
  -h, --help             this help

Ctrl+C once: stop dispatching, let units in flight finish (graceSeconds), save, exit 130.
Ctrl+C twice: kill units now; finished work is still kept.
Terminal closed (SIGHUP): one Ctrl+C; ignored by a runner started with no terminal (nohup).

${EXIT_CODES}`;

const STATUS = `resumable status [<file.experiment.json | run folder>] [options]

Where each run stands: status, counts, rate, ETA, rate-limit pause, runner, shards, and
counts per group (by matrix cell). With no argument: every run below this folder.

Options:
  --by <key>       group by an item field (a dotted path: tier, meta.lang; item.<path>
                   when a matrix key has the same name) or a matrix key (model, repeat);
                   units without a value are in "(none)"
  --errors         also the reasons units ended as error or failed, most units first,
                   with a few unit ids each (see \`resumable results --status error\`)
  --json           the report as JSON
  -h, --help       this help`;

const RESULTS = `resumable results <file.experiment.json | run folder> [options]

One row per unit, in config order: id, matrix values, status, attempts, duration, why
(its error or failed check), what it spent, and the fields you ask for.

Options:
  --format F       table (the default, padded to the terminal), csv, jsonl or json;
                   csv and jsonl stream (a million units export in bounded memory)
  --status S,...   only units with these statuses: passed, failed, error, rate_limited,
                   running, pending (e.g. --status error,failed)
  --fields F,...   more columns: result.<path> (read from each unit's result file),
                   item.<path>, or a bare name (an item field if the items have it, else
                   a result field), e.g. --fields result.score,tier
  --only key=value only units whose matrix value or item field matches, as \`run --only\`
                   takes it (repeatable: ANDed across keys, ORed within one)
  -h, --help       this help`;

const COMPARE = `resumable compare <A> <B> [options]

Compares two runs unit by unit (each an experiment file, a run folder, or an archived
state in a run folder's archive/): regressions (passed in A, failed or error in B), fixes,
new errors, units only in one of them, and the pass rate per group in both.

Options:
  --match id       the same unit is the same unit id: runs of one experiment (the default)
  --match item     the same unit is the same item (and repeat), whatever the matrix says:
                   two experiments over the same items, one matrix cell per item each
  --json           the comparison as JSON
  -h, --help       this help

Exit 0 whether they differ or not; 1 for bad input.`;

const REPAIR = `resumable repair <file.experiment.json | run folder> [--dry-run]

Rebuilds a run's journal and snapshot from its unit folders (and results in your own
layout): shows the diff first (+N adopted, N dropped), backs up to the run folder's
archive/, writes atomically. Running it again changes nothing.

Options:
  --dry-run        show the diff; write nothing
  -h, --help       this help`;

const MERGE = `resumable merge <file.experiment.json | run folder> [options]

Checks that every unit of a sharded run has an outcome in some shard's journal (by unit
id; lists missing and duplicated units), then writes one journal and archives the shard
journals. Refuses while a shard runs, unless it is left out.

Options:
  --leave-out k,...    shards not to merge (from 1), e.g. --leave-out 2,3
  --allow-incomplete   merge even when some units have no outcome
  --dry-run            say what would be merged; write nothing
  -h, --help           this help`;

const SLURM = `resumable slurm <file.experiment.json> --shards N [options]

Writes an sbatch script for a job array 0-(N-1)%M whose task i runs shard i+1 (into the
run folder's slurm/).

Options:
  --shards N       array tasks (shards) to split the run into (required)
  --throttle M     at most M tasks at once (the array's %M)
  --partition P    the Slurm partition
  --time T         each task's time limit (sbatch --time)
  --dry-run        print the script; write nothing
  --submit         also run sbatch
  -h, --help       this help`;

const LIST = `resumable list [--json]

The experiment files below this folder and the runs made from them, with their state.

Options:
  --json           the list as JSON
  -h, --help       this help`;

const CHECKPOINT = `resumable checkpoint <checkpoint.json | folder> [--json]

Reads a Scylla checkpoint.json (v2.0 completed_runs, v3.x run_states) and compares it with
the <tier>/<subtest>/run_<NN>/run_result.json files beside it (also under completed/ and
in_progress/): runs finished on disk but not done in the checkpoint, done in it but
without a result, verdicts that differ, results not finished (judges hit a usage limit).
The files are what counts; nothing is written. Exit 0 whether they agree or not; 1 for a
missing or malformed checkpoint. A folder means its checkpoint.json.

Options:
  --json           the full list as JSON
  -h, --help       this help`;

const SCHEMA = `resumable schema

Prints the experiment file's JSON Schema (what editors use for completion and hover docs).`;

const VERSION = `resumable version      (also -V, --version)

Prints the version.`;

const HELP_PAGE = `resumable help [<command>]      (also resumable <command> --help)

Prints the overview, or one command's options.`;

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  run: RUN,
  status: STATUS,
  results: RESULTS,
  compare: COMPARE,
  repair: REPAIR,
  merge: MERGE,
  slurm: SLURM,
  list: LIST,
  checkpoint: CHECKPOINT,
  schema: SCHEMA,
  version: VERSION,
  help: HELP_PAGE,
};

export const COMMANDS = Object.keys(COMMAND_HELP);

/** Every command's synopsis: the overview's and the README's "The CLI" block. */
export const SYNOPSIS = `resumable run <file.experiment.json> [--fresh] [--retry-errors] [--retry-failed]
              [--only key=value] [--unit <id>] [--limit N] [--concurrency N] [--shard k/N]
              [--dry-run [--verbose]] [--fail-on error,failed] [--json]
resumable status [<file.experiment.json | run folder>] [--by <key>] [--errors] [--json]
resumable results <file.experiment.json | run folder> [--format table|csv|jsonl|json]
                  [--status S,...] [--fields F,...] [--only key=value]
resumable compare <A> <B> [--match id|item] [--json]
resumable repair <file.experiment.json | run folder> [--dry-run]
resumable merge <file.experiment.json | run folder> [--leave-out k,...] [--allow-incomplete]
                [--dry-run]
resumable slurm <file.experiment.json> --shards N [--throttle M] [--partition P] [--time T]
                [--submit | --dry-run]
resumable list [--json]
resumable checkpoint <checkpoint.json> [--json]
resumable schema
resumable help [<command>]            (or: resumable <command> --help)
resumable version                     (or: -V, --version)`;

export const HELP = `resumable — run long batch experiments that survive crashes, Ctrl+C and rate limits

Usage:
${SYNOPSIS.replace(/^/gm, '  ')}

Commands:
  run          run an experiment, or resume it where it stopped
  status       where runs stand (no argument: every run below this folder)
  results      one row per unit: status, why, result fields (table, csv, jsonl, json)
  compare      two runs unit by unit: regressions, fixes, new errors, pass rate per group
  repair       rebuild a run's journal and snapshot from its unit folders
  merge        join the journals of a sharded run's shards into one
  slurm        write (and --submit) a Slurm job array, one shard per task
  list         the experiment files and runs below this folder
  checkpoint   compare a Scylla checkpoint.json with the result files beside it
  schema       print the experiment file's JSON Schema

\`resumable <command> --help\` explains a command's options, e.g. \`resumable run --help\`.

${EXIT_CODES}
`;

/** The page for `topic` (a command name), or the overview. */
export function helpText(topic?: string): string {
  return topic === undefined ? HELP : COMMAND_HELP[topic]! + '\n';
}

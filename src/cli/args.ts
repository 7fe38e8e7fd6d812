import { parseArgs } from 'node:util';
import { closest } from '../core/didYouMean';
import { UserError } from '../core/errors';
import { COMMANDS, COMMAND_HELP } from './help';
import { compareArgs, resultsArgs, type CompareArgs, type ResultsArgs } from './resultsArgs';

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
      /** `--fail-on error,failed`: outcomes that make a finished run exit 1 (for CI). */
      failOn: readonly ('error' | 'failed')[];
      /** `--limit N`: run at most N of the units that would run (a smoke test). */
      limit?: number;
      /** `--only key=value` (repeatable): only units whose matrix value or item field matches; ANDed across keys, ORed within one. */
      only: readonly { readonly key: string; readonly value: string }[];
      /** `--unit <id>` (repeatable): only these units. */
      units: readonly string[];
      verbose: boolean;
    }
  | { cmd: 'merge'; dir: string; leaveOut: number[]; allowIncomplete: boolean; dryRun: boolean }
  | { cmd: 'checkpoint'; file: string; json: boolean }
  | { cmd: 'slurm'; file: string; shards: number; throttle?: number; partition?: string; time?: string; submit: boolean; dryRun: boolean }
  | { cmd: 'status'; target?: string; json: boolean; by?: string; errors: boolean }
  | ResultsArgs
  | CompareArgs
  | { cmd: 'repair'; dir: string; dryRun: boolean }
  | { cmd: 'list'; json: boolean }
  | { cmd: 'schema' }
  | { cmd: 'help'; topic?: string }
  | { cmd: 'version' };

/** The flags each command takes (`--help` aside), for the "does not apply" and "did you mean" messages. */
const FLAGS: Readonly<Record<string, readonly string[]>> = {
  run: ['fresh', 'retry-errors', 'retry-failed', 'dry-run', 'json', 'concurrency', 'shard', 'fail-on', 'limit', 'only', 'unit', 'verbose'],
  merge: ['leave-out', 'allow-incomplete', 'dry-run'],
  slurm: ['shards', 'throttle', 'partition', 'time', 'submit', 'dry-run'],
  status: ['json', 'by', 'errors'],
  results: ['format', 'status', 'fields', 'only'],
  compare: ['match', 'json'],
  repair: ['dry-run'],
  list: ['json'],
  checkpoint: ['json'],
  schema: [],
};

const HELP_FLAGS = ['--help', '-h'];
const VERSION_FLAGS = ['--version', '-V', '-v', 'version'];

export function parseCommand(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  if (!cmd || HELP_FLAGS.includes(cmd)) return { cmd: 'help' };
  if (cmd === 'help') return { cmd: 'help', topic: helpTopic(rest) };
  if (VERSION_FLAGS.includes(cmd)) return rest.some((a) => HELP_FLAGS.includes(a)) ? { cmd: 'help', topic: 'version' } : { cmd: 'version' };
  // Own keys only: `resumable constructor` is not a command.
  if (!Object.hasOwn(FLAGS, cmd)) throw unknownCommand(cmd);
  // Asked for help, a command shows its page whatever else is on the line (a flag being
  // looked up is often the one that is wrong). After `--` it is an argument.
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => HELP_FLAGS.includes(a))) return { cmd: 'help', topic: cmd };
  const opts = {
    fresh: { type: 'boolean' },
    'retry-errors': { type: 'boolean' },
    'retry-failed': { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    json: { type: 'boolean' },
    concurrency: { type: 'string' },
    shard: { type: 'string' },
    'leave-out': { type: 'string' },
    'allow-incomplete': { type: 'boolean' },
    shards: { type: 'string' },
    throttle: { type: 'string' },
    partition: { type: 'string' },
    time: { type: 'string' },
    submit: { type: 'boolean' },
    by: { type: 'string' },
    'fail-on': { type: 'string' },
    limit: { type: 'string' },
    only: { type: 'string', multiple: true },
    unit: { type: 'string', multiple: true },
    verbose: { type: 'boolean' },
    errors: { type: 'boolean' },
    format: { type: 'string' },
    status: { type: 'string' },
    fields: { type: 'string' },
    match: { type: 'string' },
  } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: opts, allowPositionals: true, strict: true });
  } catch (e) {
    throw badOption(e as Error & { code?: string }, cmd);
  }
  const { values: v, positionals: pos } = parsed;
  const allow = (names: readonly string[]) => {
    for (const k of Object.keys(v))
      if (!names.includes(k)) throw new UserError(`Option --${k} does not apply to \`resumable ${cmd}\`; see \`resumable ${cmd} --help\``);
  };
  const one = (what: string, required: boolean) => {
    if (pos.length > 1) throw new UserError(`Expected one ${what}, got ${pos.length}: ${pos.join(' ')}`);
    if (required && pos.length === 0) throw new UserError(`Expected ${what}; see \`resumable ${cmd} --help\``);
    return pos[0];
  };
  const count = (name: 'concurrency' | 'shards' | 'throttle' | 'limit', value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UserError(`Expected --${name} ≥ 1 (an integer), got ${JSON.stringify(value)}`);
    return n;
  };
  allow(FLAGS[cmd]!);
  switch (cmd) {
    case 'run': {
      const file = one('an experiment file (…experiment.json)', true)!;
      const concurrency = count('concurrency', v.concurrency);
      const failOn = (v['fail-on'] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '')
        .map((s) => {
          if (s !== 'error' && s !== 'failed')
            throw new UserError(
              `Expected --fail-on to list outcomes (error, failed, or error,failed), got ${JSON.stringify(v['fail-on'])}`,
            );
          return s;
        });
      if (v['fail-on'] !== undefined && failOn.length === 0)
        throw new UserError('Expected --fail-on to list outcomes (error, failed, or error,failed), got nothing');
      const only = (v.only ?? []).map((o) => {
        const eq = o.indexOf('=');
        if (eq <= 0)
          throw new UserError(
            `Expected --only key=value (a matrix key or an item field, like model=small or tier=hard), got ${JSON.stringify(o)}`,
          );
        return { key: o.slice(0, eq).trim(), value: o.slice(eq + 1) };
      });
      const units = (v.unit ?? []).map((u) => {
        if (u.trim() === '') throw new UserError('Expected --unit to name a unit id (like q001/small/r1), got nothing');
        return u;
      });
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
        failOn: [...new Set(failOn)],
        limit: count('limit', v.limit),
        only,
        units,
        verbose: !!v.verbose,
      };
    }
    case 'merge': {
      const dir = one('a run folder (.resumable/<name>-<hash>) or its experiment file', true)!;
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
      if (v.by !== undefined && v.by.trim() === '')
        throw new UserError('Expected --by to name an item field (like tier or meta.lang) or a matrix key, got nothing');
      return { cmd, target: one('experiment file or run folder', false), json: !!v.json, by: v.by?.trim(), errors: !!v.errors };
    }
    case 'results':
      return resultsArgs(one('an experiment file or its run folder', true)!, v);
    case 'compare':
      return compareArgs(pos, v);
    case 'repair':
      return { cmd, dir: one('a run folder (.resumable/<name>-<hash>) or its experiment file', true)!, dryRun: !!v['dry-run'] };
    case 'list':
      one('nothing', false);
      return { cmd, json: !!v.json };
    case 'checkpoint':
      return { cmd, file: one('a Scylla checkpoint.json (or the folder that holds it)', true)!, json: !!v.json };
    case 'schema':
      return { cmd };
    default:
      throw unknownCommand(cmd);
  }
}

function helpTopic(rest: readonly string[]): string | undefined {
  const topic = rest.find((a) => !HELP_FLAGS.includes(a));
  if (topic === undefined) return undefined;
  if (VERSION_FLAGS.includes(topic)) return 'version';
  if (Object.hasOwn(COMMAND_HELP, topic)) return topic;
  throw unknownCommand(topic);
}

function unknownCommand(cmd: string): UserError {
  // `resumable my.experiment.json`: the command was left out.
  const file = /\.jsonc?$/i.test(cmd) || cmd.includes('/');
  const near = file ? `run ${cmd}` : closest(cmd, COMMANDS);
  const mean = near ? `did you mean \`resumable ${near}\`? ` : '';
  return new UserError(`Unknown command "${cmd}"; ${mean}expected one of ${COMMANDS.join(', ')} (see \`resumable --help\`)`);
}

/** parseArgs' own words, without its advice on positionals that start with "-", plus the flag that was meant. */
function badOption(e: Error & { code?: string }, cmd: string): UserError {
  // `--unit --dry-run`: parseArgs' three lines about dashes, said as what was expected.
  const ambiguous = /^Option '([^']+)' argument is ambiguous/.exec(e.message)?.[1];
  if (ambiguous !== undefined)
    return new UserError(
      `Expected a value after ${ambiguous}, got the next option instead (write ${ambiguous}=<value> for a value that starts with "-"); see \`resumable ${cmd} --help\``,
    );
  const message = e.message.replace(/\. To specify.*$/s, '');
  const unknown = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']+)'/.exec(message)?.[1] : undefined;
  if (unknown !== undefined) {
    const own = FLAGS[cmd]!.map((f) => `--${f}`);
    const near = closest(unknown, [...own, '--help']);
    if (near) return new UserError(`${message}; did you mean \`${near}\`? (see \`resumable ${cmd} --help\`)`);
    const elsewhere = closest(
      unknown,
      Object.values(FLAGS).flatMap((f) => f.map((x) => `--${x}`)),
    );
    if (elsewhere) {
      const where = Object.keys(FLAGS).filter((c) => FLAGS[c]!.includes(elsewhere.slice(2)));
      return new UserError(
        `${message}; \`${elsewhere}\` is an option of \`resumable ${where.join('`, `resumable ')}\`, not of \`resumable ${cmd}\` (see \`resumable ${cmd} --help\`)`,
      );
    }
    return new UserError(
      `${message}; \`resumable ${cmd}\` takes ${own.length ? own.join(', ') : 'no options'} (see \`resumable ${cmd} --help\`)`,
    );
  }
  return new UserError(`${message}; see \`resumable ${cmd} --help\``);
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { render } from '../config/placeholders';
import { unitValue } from '../config/resultRule';
import type { Unit } from '../config/units';
import { unitSeed } from '../ids';
import type { AttemptExecutor, AttemptResult, StartedAttempt } from './attempt';
import type { RunPaths } from '../store/paths';
import { fsyncDir } from '../store/atomicFile';
import { kindOf, realDir } from '../store/safeRead';
import { writeResultFile } from './unitFolder';
import { DEFAULT_MAX_LOG_BYTES, LogCapper } from './logCap';
import { judgeAttempt, lastJsonLine, metricsIn, parseResult, usageIn } from './outcome';
import { ResultFiles } from './resultFiles';
import { RUNNER_FAULT_CODES } from './spawnLimits';
import { spawnUnit, type RunningUnit } from './spawnUnit';

/**
 * An item whose JSON is longer than this reaches the unit as a file (RESUMABLE_ITEM_FILE),
 * not in RESUMABLE_ITEM: the kernel refuses a variable over 128 KiB (E2BIG), and a few
 * big ones fill the whole argument space. Small items stay in the environment: no file to
 * write per unit, so dispatching stays fast.
 */
export const MAX_ITEM_ENV_BYTES = 32 * 1024;

/** Runs each attempt as the experiment's command, in its own process group. */
export class ProcessExecutor implements AttemptExecutor {
  private readonly logCap: LogCapper;
  private readonly results: ResultFiles;

  constructor(
    private readonly exp: LoadedExperiment,
    private readonly paths: RunPaths,
    private readonly clock: Clock,
  ) {
    this.logCap = new LogCapper(clock, exp.config.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES);
    this.results = new ResultFiles(exp, paths);
  }

  start(unit: Unit, attempt: number, onSpawn: (pid: number, pst: number | undefined) => void): StartedAttempt {
    const { config } = this.exp;
    const results = this.results;
    const { argv, cwd, env, unitDir, itemJson, itemByFile } = unitCommand(this.exp, this.paths, unit, attempt, results);
    let running: RunningUnit;
    try {
      prepareUnitDir(this.paths.units, unitDir);
      let moved: string[];
      try {
        moved = results.setAside(unit, attempt, this.clock.now());
        results.prepare(unit);
      } catch (e) {
        // The unit's place in the user's layout is refused (a link out, a FIFO across filesystems): the unit's error, not the run's.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'ENOTREG') throw e;
        return { done: Promise.resolve({ status: 'error', why: (e as Error).message, durationMs: 0 }), kill: () => undefined };
      }
      if (itemByFile) writeItemFile(env.RESUMABLE_ITEM_FILE!, itemJson);
      // Throws only before the process exists (its log could not be made); spawn errors are results.
      running = spawnUnit({
        argv,
        cwd,
        env,
        logFile: path.join(unitDir, 'output.log'),
        header: `\n===== resumable: ${unit.id} attempt ${attempt} at ${new Date(this.clock.now()).toISOString()} =====\n${moved.map((m) => `[resumable] ${m}\n`).join('')}$ ${argv.map(quoteArg).join(' ')}\n`,
        timeoutMs: config.run.timeoutSeconds !== undefined ? config.run.timeoutSeconds * 1000 : undefined,
        clock: this.clock,
        onSpawn,
        logCap: this.logCap,
      });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // Out of descriptors or memory: the runner's fault, not the unit's folder.
      if (code !== undefined && RUNNER_FAULT_CODES.has(code))
        return runnerFault(code, `could not prepare the unit: ${(e as Error).message}`);
      throw unitFolderError(unit, unitDir, e);
    }
    const done = running.done.then(async (r): Promise<AttemptResult> => {
      // A command that never started wrote no result: anything there is an earlier one's, set aside next time.
      const read = r.spawnError === undefined ? await this.readResult(unit, unitDir, r.output) : {};
      const v = judgeAttempt({ ...r, resultText: read.resultText, resultProblem: read.resultProblem }, config, this.clock.now());
      const fault = r.spawnErrorCode !== undefined && RUNNER_FAULT_CODES.has(r.spawnErrorCode) ? r.spawnErrorCode : read.fault;
      const spent = config.result.cost !== undefined || config.result.tokens !== undefined;
      return {
        status: v.status,
        why: v.why,
        resetAt: v.resetAt,
        quota: v.quota,
        usage: spent ? usageIn(parseResult(read.resultText), config.result) : undefined,
        metrics: config.result.metrics ? metricsIn(parseResult(read.resultText), config.result.metrics) : undefined,
        exitCode: r.exitCode,
        signal: r.signal,
        durationMs: r.durationMs,
        runnerFault: fault,
      };
    });
    return { done, kill: (s) => running.kill(s) };
  }

  /** The attempt's result: the printed JSON line (kept as result.json), the result file, or nothing for `from: "exit"`. */
  private async readResult(unit: Unit, unitDir: string, output: string): Promise<ReadOfResult> {
    const src = this.results.source.kind;
    if (src === 'exit') return {};
    if (src === 'stdout') {
      const line = lastJsonLine(output);
      if (line === undefined) return {};
      const file = path.join(unitDir, 'result.json');
      // Not write-file-atomic: it resolves links, so a result.json the unit made a symlink was written through (outside the run folder).
      await writeResultFile(file, line + '\n', { fsync: true });
      fsyncDir(unitDir);
      return { resultText: line };
    }
    const r = this.results.read(unit);
    if (r.kind === 'text') return { resultText: r.text };
    if (r.kind === 'absent') return {};
    return { resultProblem: r.why, fault: r.code !== undefined && RUNNER_FAULT_CODES.has(r.code) ? r.code : undefined };
  }
}

/** What one attempt of a unit runs, resolved from the experiment's templates. */
export interface UnitCommand {
  readonly argv: string[];
  readonly cwd: string;
  /** The whole environment the process gets. */
  readonly env: NodeJS.ProcessEnv;
  /** The variables the experiment's `run.env` sets, rendered for this unit. */
  readonly own: readonly (readonly [string, string])[];
  readonly unitDir: string;
  readonly itemJson: string;
  /** The item reaches the unit as a file (RESUMABLE_ITEM_FILE), too big for the environment. */
  readonly itemByFile: boolean;
}

/**
 * The argv, folder and environment of a unit's attempt, as it will start: the one resolution
 * that both an attempt and `run --dry-run` use. Touches no file.
 */
export function unitCommand(exp: LoadedExperiment, paths: RunPaths, unit: Unit, attempt: number, results: ResultFiles): UnitCommand {
  const { templates } = exp;
  const unitDir = paths.unitDir(unit.id);
  const resultFile = results.candidates(unit)[0]!;
  const place: AttemptPlace = { attempt, unitDir, resultFile };
  const lookup = placeholderLookup(exp, paths, unit, place);
  const argv = templates.command.map((t) => render(t, lookup));
  const own = templates.env.map(([k, t]) => [k, render(t, lookup)] as const);
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(own), ...unitEnv(exp, paths, unit, place) };
  const itemJson = JSON.stringify(unit.item.fields);
  const itemByFile = itemJson.length > MAX_ITEM_ENV_BYTES / 3 && Buffer.byteLength(itemJson, 'utf8') > MAX_ITEM_ENV_BYTES;
  // One of the two, never both, nor one inherited from a runner that is itself a unit.
  delete env.RESUMABLE_ITEM;
  delete env.RESUMABLE_ITEM_FILE;
  if (itemByFile) env.RESUMABLE_ITEM_FILE = path.join(unitDir, 'item.json');
  else env.RESUMABLE_ITEM = itemJson;
  return { argv, cwd: path.resolve(exp.dir, render(templates.cwd, lookup)), env, own, unitDir, itemJson, itemByFile };
}

export interface ReadOfResult {
  readonly resultText?: string;
  readonly resultProblem?: string;
  readonly fault?: string;
}

/** An attempt that never started because the runner ran out of something: not the unit's attempt. */
export function runnerFault(code: string, why: string): StartedAttempt {
  return { done: Promise.resolve({ status: 'error', why, durationMs: 0, runnerFault: code }), kill: () => undefined };
}

/** Where one attempt of a unit happens: what its placeholders and environment name beyond the unit itself. */
interface AttemptPlace {
  readonly attempt: number;
  readonly unitDir: string;
  readonly resultFile: string;
}

export function placeholderLookup(exp: LoadedExperiment, paths: RunPaths, unit: Unit, place: AttemptPlace): (ref: string) => string {
  return (ref) => {
    switch (ref) {
      case 'unitDir':
        return place.unitDir;
      case 'attempt':
        return String(place.attempt);
      case 'runDir':
        return paths.root;
      case 'experimentDir':
        return exp.dir;
      case 'resultFile':
        return place.resultFile;
    }
    return unitValue(unit, exp.config.seed, ref) ?? '';
  };
}

function unitEnv(
  exp: LoadedExperiment,
  paths: RunPaths,
  unit: Unit,
  { attempt, unitDir, resultFile }: AttemptPlace,
): Record<string, string> {
  const env: Record<string, string> = {
    RESUMABLE_UNIT_ID: unit.id,
    RESUMABLE_UNIT_DIR: unitDir,
    RESUMABLE_SEED: String(unitSeed(exp.config.seed, unit.id)),
    RESUMABLE_REPEAT: String(unit.repeat ?? 1),
    RESUMABLE_ATTEMPT: String(attempt),
    RESUMABLE_ITEM_ID: unit.item.id,
    RESUMABLE_RESULT_FILE: resultFile,
    // Lets a later runner find this process (and its children) if this runner dies.
    RESUMABLE_RUN_DIR: paths.root,
    RESUMABLE_SHARD: paths.shard ? `${paths.shard.k}of${paths.shard.n}` : '-',
  };
  for (const [k, v] of Object.entries(unit.cell)) env[`RESUMABLE_MATRIX_${k.toUpperCase()}`] = String(v);
  return env;
}

/** Names the unit and keeps the errno code (the CLI reports system errors as such). */
export function unitFolderError(unit: Unit, unitDir: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  return Object.assign(new Error(`Could not prepare the folder of unit ${JSON.stringify(unit.id)} (${unitDir}): ${err.message}`), {
    code: err.code,
  });
}

/**
 * units/ and the unit's folder, made if missing, and refused when they are symlinks: the
 * runner would write the unit's log, and the unit its result, wherever the link points.
 */
export function prepareUnitDir(unitsDir: string, unitDir: string): void {
  for (const dir of [unitsDir, unitDir]) {
    const d = realDir(dir);
    if (d.kind === 'dir') continue;
    if (d.kind === 'refused' && d.link) throw Object.assign(new Error(`${dir} ${d.why}`), { code: 'ELOOP' });
    // Absent: made. Anything else in its place: mkdir says so (EEXIST), as it always did.
    fs.mkdirSync(dir, { recursive: true });
  }
}

/** item.json for a big item; O_NOFOLLOW and O_NONBLOCK: neither a planted link nor a FIFO is written through (or waited on). */
function writeItemFile(file: string, json: string): void {
  const fd = fs.openSync(
    file,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
    0o666,
  );
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${file} is ${kindOf(st)}, not a regular file`), { code: 'ENOTREG' });
    fs.writeSync(fd, json);
  } finally {
    fs.closeSync(fd);
  }
}

/** An argument as a POSIX shell would read it back: for the log header and `--dry-run`. */
export function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { itemField, render, stringify } from '../config/placeholders';
import type { Unit } from '../config/units';
import { unitSeed } from '../ids';
import type { AttemptExecutor, AttemptResult, StartedAttempt } from '../run/attempt';
import type { RunPaths } from '../store/paths';
import { judgeAttempt } from './outcome';
import { spawnUnit, type RunningUnit } from './spawnUnit';

/** Runs each attempt as the experiment's command, in its own process group. */
export class ProcessExecutor implements AttemptExecutor {
  constructor(private readonly exp: LoadedExperiment, private readonly paths: RunPaths, private readonly clock: Clock) {}

  start(unit: Unit, attempt: number, onSpawn: (pid: number, pst: number | undefined) => void): StartedAttempt {
    const { config, templates } = this.exp;
    const unitDir = this.paths.unitDir(unit.id);
    const resultFile = path.join(unitDir, config.result.file);
    const lookup = placeholderLookup(this.exp, this.paths, unit, attempt, unitDir);
    const argv = templates.command.map((t) => render(t, lookup));
    const env = { ...process.env, ...Object.fromEntries(templates.env.map(([k, t]) => [k, render(t, lookup)])), ...unitEnv(this.exp, this.paths, unit, attempt, unitDir) };
    let running: RunningUnit;
    try {
      fs.mkdirSync(unitDir, { recursive: true });
      setAsidePreviousResult(resultFile, attempt);
      // Throws only before the process exists (its log could not be made); spawn errors are results.
      running = spawnUnit({
        argv,
        cwd: path.resolve(this.exp.dir, render(templates.cwd, lookup)),
        env,
        logFile: path.join(unitDir, 'output.log'),
        header: `\n===== resumable: ${unit.id} attempt ${attempt} at ${new Date(this.clock.now()).toISOString()} =====\n$ ${argv.map(quoteArg).join(' ')}\n`,
        timeoutMs: config.run.timeoutSeconds !== undefined ? config.run.timeoutSeconds * 1000 : undefined,
        clock: this.clock,
        onSpawn,
      });
    } catch (e) {
      throw unitFolderError(unit, unitDir, e);
    }
    const done = running.done.then((r): AttemptResult => {
      const resultText = readIfExists(resultFile);
      const v = judgeAttempt({ ...r, resultText }, config, this.clock.now());
      return { status: v.status, why: v.why, resetAt: v.resetAt, exitCode: r.exitCode, signal: r.signal, durationMs: r.durationMs };
    });
    return { done, kill: (s) => running.kill(s) };
  }
}

export function placeholderLookup(exp: LoadedExperiment, paths: RunPaths, unit: Unit, attempt: number, unitDir: string): (ref: string) => string {
  return (ref) => {
    switch (ref) {
      case 'unitId': return unit.id;
      case 'unitDir': return unitDir;
      case 'seed': return String(unitSeed(exp.config.seed, unit.id));
      case 'repeat': return String(unit.repeat ?? 1);
      case 'attempt': return String(attempt);
      case 'runDir': return paths.root;
      case 'experimentDir': return exp.dir;
    }
    if (ref.startsWith('item.')) return stringify(itemField(unit.item, ref.slice(5)));
    const v = unit.cell[ref];
    return v === undefined ? '' : String(v);
  };
}

function unitEnv(exp: LoadedExperiment, paths: RunPaths, unit: Unit, attempt: number, unitDir: string): Record<string, string> {
  const env: Record<string, string> = {
    RESUMABLE_UNIT_ID: unit.id,
    RESUMABLE_UNIT_DIR: unitDir,
    RESUMABLE_SEED: String(unitSeed(exp.config.seed, unit.id)),
    RESUMABLE_REPEAT: String(unit.repeat ?? 1),
    RESUMABLE_ATTEMPT: String(attempt),
    RESUMABLE_ITEM_ID: unit.item.id,
    RESUMABLE_ITEM: JSON.stringify(unit.item.fields),
    RESUMABLE_RESULT_FILE: path.join(unitDir, exp.config.result.file),
    // Lets a later runner find this process (and its children) if this runner dies.
    RESUMABLE_RUN_DIR: paths.root,
    RESUMABLE_SHARD: paths.shard ? `${paths.shard.k}of${paths.shard.n}` : '-',
  };
  for (const [k, v] of Object.entries(unit.cell)) env[`RESUMABLE_MATRIX_${k.toUpperCase()}`] = String(v);
  return env;
}

/** Names the unit and keeps the errno code (the CLI reports system errors as such). */
function unitFolderError(unit: Unit, unitDir: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  return Object.assign(new Error(`Could not prepare the folder of unit ${JSON.stringify(unit.id)} (${unitDir}): ${err.message}`), { code: err.code });
}

/**
 * A result left by an earlier attempt that did not count (an error after writing it, or an
 * interrupt) must not be judged as this attempt's result. Nothing is deleted: it is renamed.
 */
function setAsidePreviousResult(resultFile: string, attempt: number): void {
  try {
    fs.renameSync(resultFile, `${resultFile}.before-attempt-${attempt}-${Date.now()}`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

export function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function quoteArg(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

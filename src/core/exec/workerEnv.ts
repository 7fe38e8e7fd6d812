import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { render } from '../config/placeholders';
import type { RunPaths } from '../store/paths';
import { realDir } from '../store/safeRead';
import type { WorkerSpawn } from './workerProcess';
import { WORKER_PROTOCOL } from './workerProtocol';

/**
 * The helpers shipped beside the engine (`workers/` of the package): found from the bundle
 * (dist/) or the sources (src/core/exec/), whichever runs.
 */
export function workerHelpersDir(): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const candidate = path.join(dir, 'workers');
    if (fs.existsSync(path.join(candidate, 'python', 'resumable_worker.py'))) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

/** How worker `index` of a run is started: its argv, folder and environment (README, "Workers"). */
export function workerSpawn(
  exp: LoadedExperiment,
  paths: RunPaths,
  index: number,
  o: { maxLogBytes: number; readyTimeoutMs: number; clock: Clock },
): WorkerSpawn {
  const { argv, cwd, env } = workerCommand(exp, paths, index);
  ensureWorkersDir(path.dirname(paths.workerLog(index)));
  return {
    index,
    argv,
    cwd,
    env,
    logFile: paths.workerLog(index),
    maxLogBytes: o.maxLogBytes,
    readyTimeoutMs: o.readyTimeoutMs,
    clock: o.clock,
  };
}

/**
 * A worker's argv, folder and environment (with `own`, the variables the experiment's
 * `run.env` sets): the one resolution that both a worker's start and `run --dry-run` use.
 * Touches no file.
 */
export function workerCommand(
  exp: LoadedExperiment,
  paths: RunPaths,
  index: number,
): { argv: string[]; cwd: string; env: NodeJS.ProcessEnv; own: readonly (readonly [string, string])[] } {
  // Checked at load: a worker's templates name only the run's places, never a unit's.
  const lookup = (ref: string): string => (ref === 'runDir' ? paths.root : ref === 'experimentDir' ? exp.dir : '');
  const t = exp.templates;
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A runner that is itself a unit (or a worker) must not hand its own unit's variables on.
  for (const k of Object.keys(env)) if (k.startsWith('RESUMABLE_')) delete env[k];
  const own = t.env.map(([k, v]) => [k, render(v, lookup)] as const);
  for (const [k, v] of own) env[k] = v;
  Object.assign(env, {
    RESUMABLE_WORKER_PROTOCOL: String(WORKER_PROTOCOL),
    RESUMABLE_WORKER: String(index),
    RESUMABLE_PER_WORKER: String(exp.config.run.perWorker),
    // Lets a later runner find this worker (and what it started) if this runner dies.
    RESUMABLE_RUN_DIR: paths.root,
    RESUMABLE_SHARD: paths.shard ? `${paths.shard.k}of${paths.shard.n}` : '-',
  });
  const helpers = workerHelpersDir();
  if (helpers) {
    const py = path.join(helpers, 'python');
    env.PYTHONPATH = env.PYTHONPATH ? `${py}${path.delimiter}${env.PYTHONPATH}` : py;
    env.RESUMABLE_NODE_WORKER = path.join(helpers, 'node', 'resumable-worker.js');
  }
  return { argv: t.worker!.map((w) => render(w, lookup)), cwd: path.resolve(exp.dir, render(t.cwd, lookup)), env, own };
}

/** The run folder's workers/, made if missing; a link there is refused (the logs would go where it points). */
function ensureWorkersDir(dir: string): void {
  const d = realDir(dir);
  if (d.kind === 'dir') return;
  if (d.kind === 'refused' && d.link) throw Object.assign(new Error(`${dir} ${d.why}`), { code: 'ELOOP' });
  fs.mkdirSync(dir, { recursive: true });
}

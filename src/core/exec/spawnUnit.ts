import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Clock } from '../clock';
import { kindOf } from '../store/safeRead';
import { killGroup, procStartTime } from '../store/process';
import type { LogCapper } from './logCap';
import { commandProblem, describeSpawnError } from './spawnLimits';

export interface SpawnRequest {
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Appended across attempts; the child writes to it directly, so output survives the runner. */
  readonly logFile: string;
  readonly header: string;
  readonly timeoutMs?: number;
  readonly clock: Clock;
  readonly onSpawn: (pid: number, startTime: number | undefined) => void;
  /** Keeps this attempt's output within the cap while it runs (none: uncapped). */
  readonly logCap?: LogCapper;
}

export interface SpawnResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly spawnError?: string;
  /** The errno code of a failed start (E2BIG, EMFILE...): who is at fault depends on it. */
  readonly spawnErrorCode?: string;
  /** What this attempt wrote, its head and its tail, for rate-limit patterns. */
  readonly output: string;
  readonly durationMs: number;
}

/** A 429 is often the first line of a long answer, or the last words before the exit: both ends are scanned. */
const SCAN_HEAD_BYTES = 64 * 1024;
const SCAN_TAIL_BYTES = 256 * 1024;
const KILL_AFTER_TERM_MS = 5000;

/** A running unit process; `kill` signals its whole process group. */
export interface RunningUnit {
  readonly done: Promise<SpawnResult>;
  kill(signal: NodeJS.Signals): void;
}

/** Throws only when the log cannot be opened (the process is then never started). */
export function spawnUnit(req: SpawnRequest): RunningUnit {
  const fd = openLog(req.logFile);
  let startOffset: number;
  try {
    fs.writeSync(fd, req.header);
    startOffset = fs.fstatSync(fd).size;
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  const watched = req.logCap?.watch(fd, req.logFile, startOffset);
  const started = req.clock.now();
  let timedOut = false;
  let pid: number | undefined = undefined;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let killTimer: ReturnType<Clock['setTimeout']> | undefined;
  // Declared before anything can call finish: spawn may throw synchronously (E2BIG, ENOMEM).
  let finished = false;
  let hookFailure: unknown;
  let resolveDone!: (r: SpawnResult) => void;
  let rejectDone!: (e: unknown) => void;
  const done = new Promise<SpawnResult>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  function finish(code: number | null, signal: NodeJS.Signals | null, spawnError?: string, spawnErrorCode?: string): void {
    if (finished) return;
    finished = true;
    if (timer) req.clock.clearTimeout(timer);
    if (killTimer) req.clock.clearTimeout(killTimer);
    let output = '';
    try {
      if (spawnError) fs.writeSync(fd, `[resumable] could not start ${JSON.stringify(req.argv[0])}: ${spawnError}\n`);
      watched?.trimNow();
      output = readScan(fd, startOffset);
    } catch {
      // The log could not be written or read (a full disk): the outcome stands without it.
    } finally {
      watched?.stop();
      fs.closeSync(fd);
    }
    if (hookFailure !== undefined) return rejectDone(hookFailure);
    resolveDone({ exitCode: code, signal, timedOut, spawnError, spawnErrorCode, output, durationMs: req.clock.now() - started });
  }

  function kill(signal: NodeJS.Signals): void {
    if (pid !== undefined) killGroup(pid, signal);
  }

  const problem = commandProblem(req.argv, req.env);
  if (problem) {
    finish(null, null, problem.why, problem.code);
    return { done, kill };
  }
  let child: ChildProcess;
  try {
    // detached: the unit leads its own process group, so a timeout or interrupt kills
    // everything it started (a shell script's children too).
    child = spawn(req.argv[0]!, req.argv.slice(1), { cwd: req.cwd, env: req.env, stdio: ['ignore', fd, fd], detached: true });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    finish(null, null, describeSpawnError(err, req.argv, req.env), err.code);
    return { done, kill };
  }
  // EMFILE, ENOENT... come here, on the next tick.
  child.on('error', (e: NodeJS.ErrnoException) => finish(null, null, describeSpawnError(e, req.argv, req.env), e.code));
  child.on('exit', (code, signal) => finish(code, signal));
  pid = child.pid;
  if (pid !== undefined) {
    try {
      req.onSpawn(pid, procStartTime(pid));
    } catch (e) {
      // The start could not be recorded: a unit nobody tracks must not run on.
      hookFailure = e;
      kill('SIGKILL');
    }
  }
  if (req.timeoutMs !== undefined) {
    timer = req.clock.setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      killTimer = req.clock.setTimeout(() => kill('SIGKILL'), KILL_AFTER_TERM_MS);
    }, req.timeoutMs);
  }
  return { done, kill };
}

/**
 * The unit's log, never through a symlink (it would have the unit write outside the run
 * folder) and only a regular file. O_RDWR: the runner reads the output back for rate-limit
 * patterns, and opening a FIFO that way does not block.
 */
function openLog(file: string): number {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o666);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ELOOP')
      throw Object.assign(new Error(`${file} is a symbolic link; not followed (nothing is written through it)`), { code: err.code });
    throw e;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw Object.assign(new Error(`${file} is ${kindOf(st)}, not a regular file`), { code: 'ENOTREG' });
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  return fd;
}

/** The attempt's first SCAN_HEAD_BYTES and last SCAN_TAIL_BYTES (all of it when shorter). */
function readScan(fd: number, from: number): string {
  const size = fs.fstatSync(fd).size;
  if (size - from <= SCAN_HEAD_BYTES + SCAN_TAIL_BYTES) return readRange(fd, from, size);
  return `${readRange(fd, from, from + SCAN_HEAD_BYTES)}\n${readRange(fd, size - SCAN_TAIL_BYTES, size)}`;
}

function readRange(fd: number, from: number, to: number): string {
  const buf = Buffer.alloc(Math.max(0, to - from));
  const n = buf.length > 0 ? fs.readSync(fd, buf, 0, buf.length, from) : 0;
  return buf.subarray(0, n).toString('utf8');
}

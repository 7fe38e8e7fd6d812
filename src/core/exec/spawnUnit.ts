import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { Clock } from '../clock';
import { killGroup, procStartTime } from '../store/process';

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
}

export interface SpawnResult {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  readonly spawnError?: string;
  /** What this attempt wrote (at most the last 256 KiB), for rate-limit patterns. */
  readonly output: string;
  readonly durationMs: number;
}

const TAIL_BYTES = 256 * 1024;
const KILL_AFTER_TERM_MS = 5000;

/** A running unit process; `kill` signals its whole process group. */
export interface RunningUnit {
  readonly done: Promise<SpawnResult>;
  kill(signal: NodeJS.Signals): void;
}

export function spawnUnit(req: SpawnRequest): RunningUnit {
  const fd = fs.openSync(req.logFile, 'a+');
  fs.writeSync(fd, req.header);
  const startOffset = fs.fstatSync(fd).size;
  const started = req.clock.now();
  let timedOut = false;
  let pid: number | undefined;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let killTimer: ReturnType<Clock['setTimeout']> | undefined;

  const done = new Promise<SpawnResult>((resolve) => {
    let child;
    try {
      // detached: the unit leads its own process group, so a timeout or interrupt kills
      // everything it started (a shell script's children too).
      child = spawn(req.argv[0]!, req.argv.slice(1), { cwd: req.cwd, env: req.env, stdio: ['ignore', fd, fd], detached: true });
    } catch (e) {
      return finish(null, null, (e as Error).message);
    }
    pid = child.pid;
    if (pid !== undefined) req.onSpawn(pid, procStartTime(pid));
    if (req.timeoutMs !== undefined) {
      timer = req.clock.setTimeout(() => {
        timedOut = true;
        kill('SIGTERM');
        killTimer = req.clock.setTimeout(() => kill('SIGKILL'), KILL_AFTER_TERM_MS);
      }, req.timeoutMs);
    }
    child.on('error', (e) => finish(null, null, e.message));
    child.on('exit', (code, signal) => finish(code, signal));

    let finished = false;
    function finish(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
      if (finished) return;
      finished = true;
      if (timer) req.clock.clearTimeout(timer);
      if (killTimer) req.clock.clearTimeout(killTimer);
      if (spawnError) fs.writeSync(fd, `[resumable] could not start ${JSON.stringify(req.argv[0])}: ${spawnError}\n`);
      const output = readTail(fd, startOffset);
      fs.closeSync(fd);
      resolve({ exitCode: code, signal, timedOut, spawnError, output, durationMs: req.clock.now() - started });
    }
  });

  function kill(signal: NodeJS.Signals): void {
    if (pid !== undefined) killGroup(pid, signal);
  }
  return { done, kill };
}

function readTail(fd: number, from: number): string {
  const size = fs.fstatSync(fd).size;
  const start = Math.max(from, size - TAIL_BYTES);
  const buf = Buffer.alloc(size - start);
  if (buf.length > 0) fs.readSync(fd, buf, 0, buf.length, start);
  return buf.toString('utf8');
}

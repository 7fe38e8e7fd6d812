import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Clock, TimerHandle } from '../clock';
import { killGroup, procStartTime } from '../store/process';
import { LineSplitter } from './lineSplitter';
import { commandProblem, describeSpawnError } from './spawnLimits';
import { MAX_WORKER_LINE_BYTES, parseWorkerLine, shownLine, WORKER_PROTOCOL, type UnitAnswer } from './workerProtocol';

export interface WorkerSpawn {
  readonly index: number;
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** The worker's stderr and the runner's notes about it; rotated once past `maxLogBytes`. */
  readonly logFile: string;
  readonly maxLogBytes: number;
  readonly readyTimeoutMs: number;
  readonly clock: Clock;
}

/** How a worker ended; `beforeReady`: it never said ready (its units are not to blame). */
export interface WorkerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly beforeReady: boolean;
  /** Why, in words: the exit, a protocol break, a start that failed or took too long. */
  readonly why: string;
  /** The errno code of a start that failed (EMFILE, ENOENT…). */
  readonly spawnErrorCode?: string;
  /** The last lines of its stderr, for the units' errors. */
  readonly stderrTail: string;
  /** It was killed for breaking the protocol (a line on stdout that is no message). */
  readonly brokeProtocol: boolean;
}

export interface WorkerEvents {
  ready(): void;
  answer(a: UnitAnswer): void;
  stderr(chunk: Buffer): void;
  exit(e: WorkerExit): void;
}

const TAIL_BYTES = 2048;
const KILL_AFTER_TERM_MS = 5000;

/**
 * One worker process: its own process group (a timeout or interrupt kills what it started
 * too), the protocol on its stdin/stdout, its stderr in the worker log. Knows nothing of
 * units beyond the messages; the executor decides what an answer or an exit means.
 */
export class WorkerProcess {
  pid: number | undefined;
  pst: number | undefined;
  private child: ChildProcess | undefined;
  private isReady = false;
  private exited = false;
  private broken: string | undefined;
  private tail = '';
  private logFd: number | undefined;
  private logBytes = 0;
  private readyTimer: TimerHandle | undefined;
  private killTimer: TimerHandle | undefined;

  constructor(
    private readonly s: WorkerSpawn,
    private readonly on: WorkerEvents,
  ) {}

  get ready(): boolean {
    return this.isReady;
  }
  get alive(): boolean {
    return !this.exited;
  }

  /** Starts the process; every failure comes back through `exit`, on a later turn. */
  start(): void {
    this.openLog();
    this.note(`starting worker ${this.s.index}: ${this.s.argv.map((a) => JSON.stringify(a)).join(' ')}`);
    const problem = commandProblem(this.s.argv, this.s.env);
    if (problem) return this.failStart(`could not start the worker: ${problem.why}`, problem.code);
    let child: ChildProcess;
    try {
      child = spawn(this.s.argv[0]!, this.s.argv.slice(1), { cwd: this.s.cwd, env: this.s.env, stdio: 'pipe', detached: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      return this.failStart(`could not start the worker: ${describeSpawnError(err, this.s.argv, this.s.env)}`, err.code);
    }
    this.child = child;
    this.pid = child.pid;
    if (this.pid !== undefined) this.pst = procStartTime(this.pid);
    let spawnError: NodeJS.ErrnoException | undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError ??= e;
    });
    // A worker that died leaves a closed pipe: what we still write is lost, as its units are.
    child.stdin!.on('error', () => undefined);
    const lines = new LineSplitter(MAX_WORKER_LINE_BYTES, (l) => {
      if (l.kind === 'oversized')
        this.breakProtocol(
          `printed a line of ${l.bytes} bytes on stdout (starting ${shownLine(l.head, 80)}), over the ${MAX_WORKER_LINE_BYTES / 1024 / 1024} MiB a protocol line may have`,
        );
      else this.line(l.text);
    });
    child.stdout!.on('data', (c: Buffer) => lines.push(c));
    child.stdout!.on('end', () => lines.end());
    child.stderr!.on('data', (c: Buffer) => {
      this.log(c);
      this.keepTail(c.toString('utf8'));
      this.on.stderr(c);
    });
    child.on('exit', () => {
      // What it started is orphaned now: its group goes with it (and its pipes close).
      if (this.pid !== undefined) killGroup(this.pid, 'SIGKILL');
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (spawnError)
        return this.finish(
          null,
          null,
          `could not start the worker: ${describeSpawnError(spawnError, this.s.argv, this.s.env)}`,
          spawnError.code,
        );
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.finish(code, signal, this.broken ?? (this.isReady ? `the worker ${how}` : `the worker ${how} before it was ready`));
    });
    this.readyTimer = this.s.clock.setTimeout(() => {
      if (this.isReady || this.exited) return;
      this.breakProtocol(`did not say it was ready within ${Math.round(this.s.readyTimeoutMs / 1000)} s (run.workerStartSeconds)`);
    }, this.s.readyTimeoutMs);
  }

  send(line: string): void {
    this.child?.stdin?.write(line);
  }

  /** No more units: a worker of the protocol finishes what it has and exits. */
  close(): void {
    this.child?.stdin?.end();
  }

  /** Signals the worker's whole process group; SIGTERM is followed by SIGKILL if it lingers. */
  kill(signal: NodeJS.Signals): void {
    if (this.pid === undefined || this.exited) return;
    killGroup(this.pid, signal);
    if (signal !== 'SIGKILL' && !this.killTimer) this.killTimer = this.s.clock.setTimeout(() => this.kill('SIGKILL'), KILL_AFTER_TERM_MS);
  }

  /** A line in the worker log from the runner (what it did to the worker, and why). */
  note(text: string): void {
    this.log(Buffer.from(`[resumable] ${new Date(this.s.clock.now()).toISOString()} ${text}\n`));
  }

  private line(text: string): void {
    if (this.broken) return;
    const p = parseWorkerLine(text);
    if (!this.isReady) {
      if (p.kind === 'bad') {
        // A library's banner printed at import, before the worker took over its stdout.
        this.log(Buffer.from(`[stdout before ready] ${text}\n`));
        return;
      }
      if (p.message.type !== 'ready') return this.breakProtocol(`sent ${shownLine(text)} before its "ready" line`);
      if (p.message.protocol !== WORKER_PROTOCOL)
        return this.breakProtocol(`speaks protocol ${p.message.protocol}; this runner speaks protocol ${WORKER_PROTOCOL}`);
      this.isReady = true;
      if (this.readyTimer) this.s.clock.clearTimeout(this.readyTimer);
      this.note(`worker ${this.s.index} (pid ${this.pid}) is ready`);
      return this.on.ready();
    }
    if (p.kind === 'bad') return this.breakProtocol(`printed ${shownLine(text)} on stdout: ${p.why}`);
    if (p.message.type === 'ready') return;
    this.on.answer(p.message);
  }

  /** The worker's stdout can no longer be trusted: it is killed, and its units are told why. */
  private breakProtocol(why: string): void {
    if (this.broken) return;
    this.broken = `the worker ${why}`;
    this.note(`${this.broken}; killing it`);
    this.kill('SIGKILL');
  }

  private failStart(why: string, code: string | undefined): void {
    // On a later turn, as every other exit: the caller has not finished its own bookkeeping yet.
    setImmediate(() => this.finish(null, null, why, code));
  }

  private finish(code: number | null, signal: NodeJS.Signals | null, why: string, spawnErrorCode?: string): void {
    if (this.exited) return;
    this.exited = true;
    if (this.readyTimer) this.s.clock.clearTimeout(this.readyTimer);
    if (this.killTimer) this.s.clock.clearTimeout(this.killTimer);
    // A protocol break was noted when it happened (with "killing it"): not twice.
    if (!this.broken || why !== this.broken) this.note(why);
    if (this.logFd !== undefined) fs.closeSync(this.logFd);
    this.logFd = undefined;
    const exit: WorkerExit = {
      code,
      signal,
      beforeReady: !this.isReady,
      why,
      stderrTail: this.tail.trim(),
      brokeProtocol: this.broken !== undefined,
    };
    this.on.exit(spawnErrorCode !== undefined ? { ...exit, spawnErrorCode } : exit);
  }

  private keepTail(text: string): void {
    this.tail = (this.tail + text).slice(-TAIL_BYTES);
  }

  private openLog(): void {
    try {
      this.logFd = fs.openSync(
        this.s.logFile,
        fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW,
      );
      this.logBytes = fs.fstatSync(this.logFd).size;
    } catch {
      // No log (a full disk, a link planted in its place): the worker still runs; its stderr tail still reaches the units' errors.
      this.logFd = undefined;
    }
  }

  private log(chunk: Buffer): void {
    if (this.logFd === undefined) return;
    try {
      if (this.logBytes + chunk.length > this.s.maxLogBytes) this.rotate();
      fs.writeSync(this.logFd, chunk);
      this.logBytes += chunk.length;
    } catch {
      // Output that cannot be kept is dropped; the worker's units are not its log.
    }
  }

  /** One older log is kept beside it (`.1`): the log stays under twice the cap however long the worker runs. */
  private rotate(): void {
    fs.closeSync(this.logFd!);
    this.logFd = undefined;
    try {
      fs.renameSync(this.s.logFile, `${this.s.logFile}.1`);
    } catch {
      // Gone already: a new one is opened all the same.
    }
    this.openLog();
  }
}

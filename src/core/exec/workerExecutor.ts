import * as path from 'node:path';
import type { Clock, TimerHandle } from '../clock';
import type { LoadedExperiment } from '../config/load';
import type { Unit } from '../config/units';
import type { RunPaths } from '../store/paths';
import type { WorkerCounts } from '../model/snapshot';
import type { AttemptExecutor, AttemptResult, StartedAttempt } from './attempt';
import { DEFAULT_MAX_LOG_BYTES } from './logCap';
import { runnerFault, unitFolderError } from './processExecutor';
import { makeUnitDir, writeResultFile } from './unitFolder';
import { ResultFiles } from './resultFiles';
import { RUNNER_FAULT_CODES } from './spawnLimits';
import { judgeAnswer } from './workerAnswer';
import { workerSpawn } from './workerEnv';
import { WorkerProcess, type WorkerExit } from './workerProcess';
import { unitMessage, type UnitAnswer } from './workerProtocol';
import { UnitLog } from './unitLog';

/** A worker that ended this way: its units are not to blame (EWORKER: the run stops after a few in a row). */
const WORKER_FAULT = 'EWORKER';
const CLOSE_GRACE_MS = 5000;
const RESTART_BACKOFF_MS: readonly [number, number] = [500, 30_000];
const OUTPUT_KEPT = 64 * 1024;

interface Slot {
  readonly index: number;
  readonly proc: WorkerProcess;
  readonly units: Map<string, Assignment>;
  /** A unit whose timeout had the worker killed: the others on it are told so. */
  timedOut?: string;
  /** Killed by the runner (interrupt): not a crash. */
  killed?: boolean;
  closing?: boolean;
  readonly exited: Promise<void>;
  startTimer?: TimerHandle;
}

interface Assignment {
  readonly unit: Unit;
  readonly attempt: number;
  readonly unitDir: string;
  readonly resultFile: string;
  readonly log: UnitLog;
  readonly resolve: (r: AttemptResult) => void;
  sentAt?: number;
  deadlineTimer?: TimerHandle;
  timedOut?: boolean;
  output: string;
  /** Its folder is being made: sent once it exists. */
  preparing: boolean;
}

/**
 * Runs attempts on long-lived workers (`run.worker`, README "Workers"): up to
 * ceil(concurrency / perWorker) processes, each given at most `run.perWorker` units at a time
 * over the line protocol. The runner stays the only writer of the journal; a worker only
 * answers. A unit's timeout, a crash or a protocol break kills the worker's process group and
 * a new worker takes its place (after a backoff when they keep crashing).
 */
export class WorkerExecutor implements AttemptExecutor {
  private readonly slots: Slot[] = [];
  private readonly results: ResultFiles;
  private readonly maxWorkers: number;
  private readonly perWorker: number;
  private readonly timeoutMs: number | undefined;
  private started = 0;
  private restarts = 0;
  private crashStreak = 0;
  private lastCrashAt = 0;
  private closed = false;
  private toldOfBreak = false;

  constructor(
    private readonly exp: LoadedExperiment,
    private readonly paths: RunPaths,
    private readonly clock: Clock,
    concurrency: number,
    /** Told once of what the user must see (a worker that breaks the protocol): the runner prints it. */
    private readonly note: (message: string) => void = () => undefined,
  ) {
    this.results = new ResultFiles(exp, paths);
    this.perWorker = exp.config.run.perWorker;
    this.maxWorkers = Math.max(1, Math.ceil(concurrency / this.perWorker));
    this.timeoutMs = exp.config.run.timeoutSeconds !== undefined ? exp.config.run.timeoutSeconds * 1000 : undefined;
  }

  workerStats(): WorkerCounts {
    return { live: this.slots.filter((s) => s.proc.alive).length, started: this.started, restarts: this.restarts };
  }

  start(unit: Unit, attempt: number, onSpawn: (pid: number, pst: number | undefined) => void): StartedAttempt {
    const unitDir = this.paths.unitDir(unit.id);
    const resultFile = this.results.candidates(unit)[0]!;
    let moved: string[];
    try {
      try {
        moved = this.results.setAside(unit, attempt, this.clock.now());
        this.results.prepare(unit);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EXDEV' && code !== 'ENOTREG') throw e;
        return { done: Promise.resolve({ status: 'error', why: (e as Error).message, durationMs: 0 }), kill: () => undefined };
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== undefined && RUNNER_FAULT_CODES.has(code))
        return runnerFault(code, `could not prepare the unit: ${(e as Error).message}`);
      throw unitFolderError(unit, unitDir, e);
    }
    const slot = this.slotFor();
    let resolve!: (r: AttemptResult) => void;
    const done = new Promise<AttemptResult>((r) => (resolve = r));
    const header = `\n===== resumable: ${unit.id} attempt ${attempt} at ${new Date(this.clock.now()).toISOString()} (worker ${slot.index}) =====\n${moved.map((m) => `[resumable] ${m}\n`).join('')}`;
    const a: Assignment = {
      unit,
      attempt,
      unitDir,
      resultFile,
      log: new UnitLog(path.join(unitDir, 'output.log'), header),
      resolve,
      output: '',
      preparing: true,
    };
    slot.units.set(unit.id, a);
    makeUnitDir(this.paths.units, unitDir).then(
      () => {
        a.preparing = false;
        if (slot.units.get(unit.id) === a && slot.proc.ready) this.send(slot, a);
      },
      (e: NodeJS.ErrnoException) => {
        if (slot.units.get(unit.id) !== a) return;
        slot.units.delete(unit.id);
        const fault = e.code !== undefined && RUNNER_FAULT_CODES.has(e.code) ? e.code : undefined;
        a.resolve({ status: 'error', why: unitFolderError(unit, unitDir, e).message, durationMs: 0, runnerFault: fault });
      },
    );
    if (slot.proc.pid !== undefined) onSpawn(slot.proc.pid, slot.proc.pst);
    return {
      done,
      kill: (signal) => {
        slot.killed = true;
        slot.proc.kill(signal);
      },
    };
  }

  /** The end of the run: each worker's stdin is closed (it exits), and its group killed if it lingers. */
  async close(): Promise<void> {
    this.closed = true;
    const waits = this.slots.map(async (s) => {
      s.closing = true;
      if (s.startTimer) {
        this.clock.clearTimeout(s.startTimer);
        return;
      }
      s.proc.close();
      const t = this.clock.setTimeout(() => s.proc.kill('SIGTERM'), CLOSE_GRACE_MS);
      await s.exited;
      this.clock.clearTimeout(t);
    });
    await Promise.all(waits);
  }

  /** The least busy worker with room, else a new one, else the least busy of all (more units than slots: never by the scheduler's count). */
  private slotFor(): Slot {
    let best: Slot | undefined;
    let healthy = 0;
    for (const s of this.slots) {
      // A worker on its way out (timed out, killed, closing) takes nothing more and leaves its place to a new one.
      if (s.closing || s.killed || !s.proc.alive || s.timedOut !== undefined) continue;
      healthy++;
      if (s.units.size < this.perWorker && (!best || s.units.size < best.units.size)) best = s;
    }
    if (best) return best;
    if (healthy < this.maxWorkers) return this.spawn();
    return this.slots.reduce((x, y) => (y.units.size < x.units.size ? y : x));
  }

  private spawn(): Slot {
    const used = new Set(this.slots.map((s) => s.index));
    let index = 1;
    while (used.has(index)) index++;
    let markExited!: () => void;
    const exited = new Promise<void>((r) => (markExited = r));
    const spec = workerSpawn(this.exp, this.paths, index, {
      maxLogBytes: this.exp.config.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES,
      readyTimeoutMs: this.exp.config.run.workerStartSeconds * 1000,
      clock: this.clock,
    });
    const slot: Slot = {
      index,
      units: new Map(),
      exited,
      proc: new WorkerProcess(spec, {
        ready: () => {
          for (const a of slot.units.values()) if (a.sentAt === undefined && !a.preparing) this.send(slot, a);
        },
        answer: (m) => this.answer(slot, m),
        stderr: (c) => {
          // Attributed only when one unit is on the worker: with more, whose line it is cannot be known.
          // Nor before ready: a new worker's loading output is not its first unit's.
          if (slot.units.size !== 1 || !slot.proc.ready) return;
          const a = slot.units.values().next().value!;
          a.output = (a.output + c.toString('utf8')).slice(-OUTPUT_KEPT);
          a.log.write(c);
        },
        exit: (e) => {
          this.exited(slot, e);
          markExited();
        },
      }),
    };
    this.slots.push(slot);
    this.started++;
    const wait = this.crashStreak === 0 ? 0 : Math.min(RESTART_BACKOFF_MS[1], RESTART_BACKOFF_MS[0] * 2 ** (this.crashStreak - 1));
    const left = this.lastCrashAt + wait - this.clock.monotonic();
    if (left > 0) {
      slot.proc.note(`waiting ${Math.round(left)} ms before starting worker ${index}: ${this.crashStreak} worker(s) crashed in a row`);
      slot.startTimer = this.clock.setTimeout(() => {
        slot.startTimer = undefined;
        slot.proc.start();
      }, left);
    } else slot.proc.start();
    return slot;
  }

  private send(slot: Slot, a: Assignment): void {
    const now = this.clock.now();
    a.sentAt = this.clock.monotonic();
    const deadline = this.timeoutMs !== undefined ? now + this.timeoutMs : undefined;
    slot.proc.send(
      unitMessage(a.unit, { attempt: a.attempt, seed: this.exp.config.seed, unitDir: a.unitDir, resultFile: a.resultFile, deadline }),
    );
    if (this.timeoutMs === undefined) return;
    a.deadlineTimer = this.clock.setTimeout(() => {
      a.timedOut = true;
      slot.timedOut ??= a.unit.id;
      slot.proc.note(
        `unit ${JSON.stringify(a.unit.id)} timed out after ${this.timeoutMs! / 1000} s; killing worker ${slot.index} (pid ${slot.proc.pid})`,
      );
      slot.proc.kill('SIGTERM');
    }, this.timeoutMs);
  }

  private answer(slot: Slot, m: UnitAnswer): void {
    const a = slot.units.get(m.id);
    if (!a || a.sentAt === undefined || a.timedOut) {
      slot.proc.note(`ignored an answer for ${JSON.stringify(m.id)}: no such unit is in flight on this worker`);
      return;
    }
    slot.units.delete(m.id);
    if (a.deadlineTimer) this.clock.clearTimeout(a.deadlineTimer);
    void this.settleAnswer(a, m).then(a.resolve, (e: Error) =>
      a.resolve({
        status: 'error',
        why: `could not keep the worker's answer: ${e.message}`,
        durationMs: this.durationOf(a),
        runnerFault: faultOf(e),
      }),
    );
  }

  private async settleAnswer(a: Assignment, m: UnitAnswer): Promise<AttemptResult> {
    let resultText: string | undefined;
    let resultProblem: string | undefined;
    if (m.type === 'result') {
      if (m.result !== undefined) {
        resultText = JSON.stringify(m.result);
        // Before the journal says so: a runner killed after this adopts the result instead of running the unit again.
        await writeResultFile(a.resultFile, resultText + '\n');
      } else if (this.results.source.kind !== 'exit') {
        const r = this.results.read(a.unit);
        if (r.kind === 'text') resultText = r.text;
        else if (r.kind === 'refused') resultProblem = r.why;
      }
    }
    // The helpers print the traceback too: kept once, where stderr reached the unit's log.
    if (m.type === 'error') {
      const tb = m.traceback?.trimEnd();
      const shown = tb && !a.output.includes(tb.split('\n').pop()!) ? `\n${tb}` : '';
      a.log.write(Buffer.from(`[resumable] the worker's error: ${m.message ?? '(no message)'}${shown}\n`));
    }
    this.crashStreak = 0;
    const v = judgeAnswer(m, { resultText, resultProblem, output: a.output }, this.exp.config, this.clock.now());
    a.log.close();
    return { ...v, durationMs: this.durationOf(a) };
  }

  private exited(slot: Slot, e: WorkerExit): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    const expected = slot.closing || this.closed;
    if (!expected) this.restarts++;
    if (!expected && !slot.killed && slot.timedOut === undefined) {
      this.crashStreak++;
      this.lastCrashAt = this.clock.monotonic();
    }
    const tail = e.stderrTail ? `; its last output: ${lastLines(e.stderrTail)}` : '';
    if (e.brokeProtocol && !this.toldOfBreak) {
      this.toldOfBreak = true;
      this.note(
        `Worker ${slot.index}: ${e.why}. Its units are errors (retried) and it is replaced; a worker writes only protocol lines on stdout (debug output goes to stderr: the helpers send print() there). Worker log: ${path.relative(this.exp.dir, this.paths.workerLog(slot.index))}`,
      );
    }
    for (const a of slot.units.values()) {
      if (a.deadlineTimer) this.clock.clearTimeout(a.deadlineTimer);
      const result = this.lostUnit(slot, a, e, tail);
      a.log.write(Buffer.from(`[resumable] ${result.why}\n`));
      a.log.close();
      a.resolve(result);
    }
    slot.units.clear();
  }

  /** What a unit on a worker that ended without answering for it ended with. */
  private lostUnit(slot: Slot, a: Assignment, e: WorkerExit, tail: string): AttemptResult {
    const durationMs = this.durationOf(a);
    const how = { exitCode: e.code, signal: e.signal, durationMs };
    if (a.timedOut) {
      a.log.write(Buffer.from(`[resumable] timed out after ${this.timeoutMs! / 1000} s (run.timeoutSeconds): its worker was killed\n`));
      return { status: 'error', why: 'timed out', ...how };
    }
    if (slot.timedOut !== undefined)
      return { status: 'error', why: `cut short: its worker was killed because unit ${JSON.stringify(slot.timedOut)} timed out`, ...how };
    if (e.beforeReady && !slot.killed) {
      const code = e.spawnErrorCode !== undefined && RUNNER_FAULT_CODES.has(e.spawnErrorCode) ? e.spawnErrorCode : WORKER_FAULT;
      return {
        status: 'error',
        why: `${e.why}${tail} (worker log: ${path.relative(this.exp.dir, this.paths.workerLog(slot.index))})`,
        runnerFault: code,
        durationMs,
      };
    }
    return { status: 'error', why: `${e.why} while this unit ran${tail}`, ...how };
  }

  private durationOf(a: Assignment): number {
    return a.sentAt === undefined ? 0 : this.clock.monotonic() - a.sentAt;
  }
}

function faultOf(e: Error): string | undefined {
  const code = (e as NodeJS.ErrnoException).code;
  return code !== undefined && RUNNER_FAULT_CODES.has(code) ? code : undefined;
}

/** The last few lines of a worker's stderr, on one line: enough to say what killed it. */
function lastLines(text: string): string {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  // Five: a Python SyntaxError is four lines (File …, line N; the code; the caret; the error).
  return JSON.stringify(lines.slice(-5).join(' | ').slice(-800));
}

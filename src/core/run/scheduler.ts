import type { TimerHandle } from '../clock';
import type { Unit } from '../config/units';
import type { AttemptResult, StartedAttempt } from '../exec/attempt';
import { backoffMs, defaultPauseMs, resetBufferMs } from './backoff';
import { RateLimitStreaks, rateLimitCap } from './rateLimitStreaks';
import type { SchedulerEnd, SchedulerOptions, StopReason } from './schedulerOptions';
import { UnitQueue } from './unitQueue';

export type { SchedulerEnd, SchedulerHooks, SchedulerOptions, StopReason } from './schedulerOptions';

/** Signals a scheduler or a terminal sends to a whole job or group, the runner included. */
const GROUP_SIGNALS = new Set(['SIGTERM', 'SIGINT', 'SIGHUP']);
const SIGNAL_SETTLE_MS = 500;
const RUNNER_FAULT_LIMIT = 5;
const RUNNER_FAULT_WAIT_MS = 200;
const PAUSE_SLACK_MS = 500;

/**
 * Dispatches units with bounded concurrency; retries errors with backoff; on a rate limit
 * re-queues the unit first in line and pauses all dispatching until the reset time.
 * Knows nothing of files: the runner journals through the hooks.
 */
export class Scheduler {
  private readonly queue: UnitQueue;
  private readonly streaks: RateLimitStreaks;
  private readonly inFlight = new Map<Unit, StartedAttempt>();
  private readonly killedByUs = new Set<Unit>();
  /** The pause's end on the monotonic clock (a wall clock stepped back cannot make it endless). */
  private pauseEndsAt = 0;
  private paused = false;
  private pumpQueued = false;
  private waitingForBacklog = false;
  /** Runner faults (EMFILE…) in a row: past a few with nothing to free resources, the run stops. */
  private runnerFaults = 0;
  private consecutiveRateLimits = 0;
  private wake: TimerHandle | undefined;
  private graceTimer: TimerHandle | undefined;
  private stopReason: StopReason | undefined;
  private stopUntil: number | undefined;
  private stopWhy: string | undefined;
  /** Per unit in flight: when it started (monotonic) and the tokens reserved for it. */
  private readonly started = new Map<Unit, { at: number; reserved: number }>();
  private resolveEnd!: (end: SchedulerEnd) => void;
  private readonly ended: Promise<SchedulerEnd>;
  private probing = false;

  constructor(
    plan: readonly Unit[],
    private readonly o: SchedulerOptions,
  ) {
    this.queue = new UnitQueue(plan);
    this.streaks = new RateLimitStreaks(rateLimitCap(o.rateLimit));
    this.ended = new Promise((r) => (this.resolveEnd = r));
  }

  run(): Promise<SchedulerEnd> {
    this.pump();
    return this.ended;
  }

  /** The units in flight, with their attempt numbers (for a last journal entry before a forced exit). */
  inFlightUnits(): { unit: Unit; attempt: number }[] {
    return [...this.inFlight.keys()].map((unit) => ({ unit, attempt: this.o.attemptsSoFar(unit.id) + 1 }));
  }

  get running(): number {
    return this.inFlight.size;
  }

  /** First call: stop dispatching, give units in flight `graceMs`, then kill them. Second: kill now. */
  stop(): void {
    if (this.stopReason === 'interrupted' && this.graceTimer) return this.killAll('SIGKILL');
    this.beginStop('interrupted');
  }

  /** Kill every unit in flight right now (second Ctrl+C, lost lock). */
  killAll(signal: NodeJS.Signals): void {
    this.stopReason ??= 'interrupted';
    for (const [unit, a] of this.inFlight) {
      this.killedByUs.add(unit);
      a.kill(signal);
    }
    this.pump();
  }

  /** `finishInFlight`: a park or a spend limit lets the units in flight finish and count; only Ctrl+C kills after the grace. */
  private beginStop(reason: StopReason, until?: number, why?: string, finishInFlight = false): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.stopUntil = until;
    this.stopWhy = why;
    this.clearWake();
    if (this.inFlight.size > 0 && !finishInFlight) {
      this.graceTimer = this.o.clock.setTimeout(() => {
        this.killAll('SIGTERM');
        this.graceTimer = this.o.clock.setTimeout(() => this.killAll('SIGKILL'), 3000);
      }, this.o.graceMs);
    }
    this.pump();
  }

  /**
   * A unit's end pumps on the next turn of the event loop, never inside the exit callback:
   * re-spawning from there kept the loop from reaching its poll phase with units of a few
   * ms, so journal commits, heartbeats and signals starved (1,320 units done, 131 journaled).
   * A budget that let a pump run inline when the loop had a turn within the last 2 ms was
   * tried: the journal lag of such units went from 18 back to 235.
   */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    (this.o.defer ?? setImmediate)(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopReason) return this.endStopWhenIdle();
    if (this.probing) return;
    const mono = this.o.clock.monotonic();
    if (this.paused) {
      // Waited on the monotonic clock: a wall clock stepped back cannot make a pause endless.
      if (mono < this.pauseEndsAt) return this.wakeAt(this.pauseEndsAt);
      void this.endPause();
      return;
    }
    if (this.waitingForBacklog) return;
    const backlog = this.inFlight.size < this.o.concurrency ? this.o.backlog?.() : undefined;
    if (backlog) {
      this.waitingForBacklog = true;
      const go = () => {
        this.waitingForBacklog = false;
        this.schedulePump();
      };
      backlog.then(go, go);
      return;
    }
    const cap = Math.min(this.o.concurrency, this.o.throttle?.limit ?? Infinity);
    while (this.inFlight.size < cap && !this.stopReason) {
      if (!this.mayDispatch(mono)) break;
      const unit = this.queue.take(mono);
      if (!unit) break;
      if (!this.dispatch(unit)) break;
    }
    // A unit that could not be prepared stopped the run inside the loop.
    if (this.stopReason) return this.endStopWhenIdle();
    if (this.inFlight.size === 0 && this.queue.empty) {
      return this.finish({ reason: 'completed' });
    }
    const retryAt = this.queue.nextRetryAt;
    if (retryAt !== undefined && this.inFlight.size < this.o.concurrency) this.wakeAt(retryAt);
  }

  private endStopWhenIdle(): void {
    if (this.inFlight.size > 0) return;
    const end: SchedulerEnd = { reason: this.stopReason! };
    this.finish({
      ...end,
      ...(this.stopUntil !== undefined ? { rateLimitedUntil: this.stopUntil } : {}),
      ...(this.stopWhy !== undefined ? { why: this.stopWhy } : {}),
    });
  }

  /** The throttle's say: spend limits first (they stop the run), then pacing (a wake-up). */
  private mayDispatch(mono: number): boolean {
    const t = this.o.throttle;
    if (!t || !this.queue.hasReady(mono)) return true;
    const gate = t.budget(this.inFlight.size);
    if (gate.kind === 'exhausted') {
      this.beginStop('budget_exhausted', undefined, gate.why, true);
      return false;
    }
    // Held while units in flight could reach the limit; their ends pump again.
    if (gate.kind === 'hold' && this.inFlight.size > 0) return false;
    const wait = t.delayMs(mono);
    if (wait > 0) {
      this.wakeAt(mono + wait);
      return false;
    }
    return true;
  }

  /** Makes dispatching reconsider now (another shard's state changed). */
  poke(): void {
    if (!this.stopReason && !this.paused) this.schedulePump();
  }

  /** False when nothing more may be dispatched now. */
  private dispatch(unit: Unit): boolean {
    try {
      this.o.fence?.();
    } catch (e) {
      this.queue.putFirst(unit);
      this.o.hooks.failed(e as Error);
      // Whatever the hook does, this runner starts nothing more.
      this.beginStop('interrupted');
      return false;
    }
    const attempt = this.o.attemptsSoFar(unit.id) + 1;
    let reported = false;
    let started: StartedAttempt;
    try {
      started = this.o.executor.start(unit, attempt, (pid, pst) => {
        reported = true;
        this.o.hooks.started(unit, attempt, pid, pst);
      });
    } catch (e) {
      // Its folder or log could not be made: a failure of the run, not of the unit, which
      // stays pending with nothing journaled.
      this.queue.putFirst(unit);
      this.o.hooks.failed(e as Error);
      return false;
    }
    if (!reported) this.o.hooks.started(unit, attempt);
    this.inFlight.set(unit, started);
    const at = this.o.clock.monotonic();
    this.started.set(unit, { at, reserved: this.o.throttle?.dispatched(at) ?? 0 });
    started.done.then(
      (result) => this.settle(unit, attempt, result),
      (e: Error) => this.settle(unit, attempt, { status: 'error', why: `internal: ${e.message}`, durationMs: 0 }),
    );
    return true;
  }

  private settle(unit: Unit, attempt: number, given: AttemptResult, deferred = false): void {
    const result = deferred ? given : this.streaks.judge(unit.id, given);
    if (
      !deferred &&
      !this.stopReason &&
      result.status === 'error' &&
      result.signal &&
      GROUP_SIGNALS.has(result.signal) &&
      !this.killedByUs.has(unit)
    ) {
      // The signal that killed the unit may be on its way to us too (scancel signals every
      // process of the job at once, and the unit can die first): give our own handler a
      // moment before calling it an error. The unit stays in flight meanwhile.
      this.o.clock.setTimeout(() => this.settle(unit, attempt, result, true), SIGNAL_SETTLE_MS);
      return;
    }
    this.inFlight.delete(unit);
    const began = this.started.get(unit);
    this.started.delete(unit);
    if (this.o.throttle && began && this.o.throttle.ended(result, began.at, began.reserved, this.o.clock.monotonic()))
      this.o.hooks.adapted?.();
    if (result.runnerFault) return this.runnerFault(unit, attempt, result);
    this.runnerFaults = 0;
    // A unit killed by a signal while we stop was killed with us (Slurm's scancel and time
    // limits signal every process of the job): interrupted, not an error that spends an attempt.
    const killedWithUs = this.stopReason === 'interrupted' && result.status === 'error' && !!result.signal;
    if (this.killedByUs.delete(unit) || killedWithUs) {
      this.o.hooks.ended(unit, attempt, 'interrupted');
      return this.schedulePump();
    }
    this.o.hooks.ended(unit, attempt, result);
    if (result.status === 'rate_limited') {
      this.queue.putBack(unit);
      this.rateLimited(result.resetAt, unit.id, result.why, result.quota);
    } else {
      this.consecutiveRateLimits = 0;
      if (result.status === 'error' && attempt < this.o.maxAttempts) {
        const readyAt = this.o.clock.monotonic() + backoffMs(attempt, this.o.backoffSeconds, this.o.random);
        this.queue.retryAt(unit, readyAt);
      }
    }
    this.schedulePump();
  }

  /**
   * The runner could not start the unit (EMFILE, ENOMEM…): not the unit's fault, so it is
   * not an attempt. It goes back first in line and dispatch waits a moment; if it goes on
   * with nothing in flight to free what is missing, the run stops.
   */
  private runnerFault(unit: Unit, attempt: number, result: AttemptResult): void {
    this.o.hooks.ended(
      unit,
      attempt,
      'interrupted',
      `${result.why ?? `the runner could not start it (${result.runnerFault})`}; not counted as an attempt`,
    );
    this.queue.putFirst(unit);
    this.runnerFaults++;
    if (this.runnerFaults >= RUNNER_FAULT_LIMIT && this.inFlight.size === 0) {
      const what = result.why ?? result.runnerFault;
      const message =
        result.runnerFault === 'EWORKER'
          ? `The worker could not start ${RUNNER_FAULT_LIMIT} times in a row: ${what}. Stopping; nothing was charged to the units: fix the worker and run again.`
          : `The runner itself could not start units ${RUNNER_FAULT_LIMIT} times in a row: ${what}. Stopping; lower the concurrency or raise the limit (e.g. ulimit -n), then run again.`;
      // EWORKER is the worker's, not the system's: reported as a plain error, not as a system error.
      this.o.hooks.failed(
        result.runnerFault === 'EWORKER' ? new Error(message) : Object.assign(new Error(message), { code: result.runnerFault }),
      );
      return this.beginStop('interrupted');
    }
    this.wakeAt(this.o.clock.monotonic() + RUNNER_FAULT_WAIT_MS * this.runnerFaults);
  }

  /**
   * Pauses all dispatching until the reset (plus a buffer), or parks the run: a reset past
   * `maxWaitSeconds`, or a quota (`quota`: its words) with no reset in reach. A park lets the
   * units in flight finish. Also used by the runner for a preflight answer.
   */
  rateLimited(resetAt: number | undefined, src: string, why: string | undefined, quota?: string): void {
    const now = this.o.clock.now();
    const rl = this.o.rateLimit;
    this.consecutiveRateLimits++;
    if (this.stopReason) return;
    if (quota !== undefined && resetAt === undefined)
      return this.beginStop('paused_rate_limit', undefined, `quota exhausted (${quota})`, true);
    const until =
      resetAt !== undefined
        ? Math.max(resetAt, now) + resetBufferMs(Math.max(resetAt, now) - now, rl.bufferSeconds)
        : now + defaultPauseMs(this.consecutiveRateLimits, rl.defaultWaitSeconds, rl.maxWaitSeconds + 1);
    this.pauseUntil(until, src, why, quota);
  }

  /** Pauses until `until` (wall time, the buffer included): another shard's pause is taken as it is. */
  pauseUntil(until: number, src: string, why: string | undefined, quota?: string): void {
    const now = this.o.clock.now();
    const rl = this.o.rateLimit;
    if (this.stopReason) return;
    const endsAt = this.o.clock.monotonic() + (until - now);
    // The other answers of one burst of 429s say about the same reset: one pause, not a line each.
    if (this.paused && endsAt <= this.pauseEndsAt + PAUSE_SLACK_MS) return;
    this.paused = true;
    this.pauseEndsAt = endsAt;
    this.o.hooks.paused(until, src, why);
    if (until - now > rl.maxWaitSeconds * 1000)
      return this.beginStop('paused_rate_limit', until, quota !== undefined ? `quota exhausted (${quota})` : undefined, true);
    this.wakeAt(endsAt);
  }

  /** Wakes `pump` at monotonic time `t`. */
  private wakeAt(t: number): void {
    this.clearWake();
    this.wake = this.o.clock.setTimeout(() => {
      this.wake = undefined;
      this.pump();
    }, t - this.o.clock.monotonic());
  }

  private async endPause(): Promise<void> {
    if (this.o.probe && !this.stopReason) {
      this.probing = true;
      const answer = await this.o.probe().catch(() => undefined);
      this.probing = false;
      if (answer) {
        this.paused = false;
        this.rateLimited(answer.resetAt, 'preflight', answer.why, answer.quota);
        // A preflight that said "limited" but gave no later reset: wait the default again.
        if (!this.paused && !this.stopReason) this.pump();
        return;
      }
    }
    this.paused = false;
    if (!this.stopReason) this.o.hooks.unpaused();
    this.pump();
  }

  private clearWake(): void {
    if (this.wake) this.o.clock.clearTimeout(this.wake);
    this.wake = undefined;
  }

  private finish(end: SchedulerEnd): void {
    this.clearWake();
    if (this.graceTimer) this.o.clock.clearTimeout(this.graceTimer);
    this.resolveEnd(end);
  }
}

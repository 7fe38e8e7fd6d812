import type { Clock, TimerHandle } from '../clock';
import type { Unit } from '../config/units';
import type { AttemptExecutor, AttemptResult, StartedAttempt } from './attempt';
import { backoffMs, defaultPauseMs } from './backoff';

/** Signals a scheduler or a terminal sends to a whole job or group, the runner included. */
const GROUP_SIGNALS = new Set(['SIGTERM', 'SIGINT', 'SIGHUP']);
const SIGNAL_SETTLE_MS = 500;

export interface SchedulerOptions {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly backoffSeconds: readonly [number, number];
  readonly rateLimit: { readonly maxWaitSeconds: number; readonly defaultWaitSeconds: number; readonly bufferSeconds: number };
  readonly graceMs: number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly executor: AttemptExecutor;
  /** Attempts already spent per unit (from the journal), so a resume continues the budget. */
  readonly attemptsSoFar: (unitId: string) => number;
  readonly hooks: SchedulerHooks;
  /** Checked before ending a pause: a rate-limited answer extends it. */
  readonly probe?: () => Promise<{ resetAt?: number; why: string } | undefined>;
}

export interface SchedulerHooks {
  started(unit: Unit, attempt: number, pid?: number, pst?: number): void;
  ended(unit: Unit, attempt: number, result: AttemptResult | 'interrupted'): void;
  paused(until: number, src: string, why: string | undefined): void;
  unpaused(): void;
  /** A unit could not be prepared (the run folder refused a write): the run must stop. */
  failed(e: Error): void;
}

export type StopReason = 'completed' | 'interrupted' | 'paused_rate_limit';
export interface SchedulerEnd { readonly reason: StopReason; readonly rateLimitedUntil?: number }

/**
 * Dispatches units with bounded concurrency; retries errors with backoff; on a rate limit
 * re-queues the unit first in line and pauses all dispatching until the reset time.
 * Knows nothing of files: the runner journals through the hooks.
 */
export class Scheduler {
  private next = 0;
  private readonly front: Unit[] = [];
  private retries: { unit: Unit; readyAt: number }[] = [];
  private readonly inFlight = new Map<Unit, StartedAttempt>();
  private readonly killedByUs = new Set<Unit>();
  private pausedUntil = 0;
  private consecutiveRateLimits = 0;
  private wake: TimerHandle | undefined;
  private graceTimer: TimerHandle | undefined;
  private stopReason: StopReason | undefined;
  private stopUntil: number | undefined;
  private resolveEnd!: (end: SchedulerEnd) => void;
  private readonly ended: Promise<SchedulerEnd>;
  private probing = false;

  constructor(private readonly queue: readonly Unit[], private readonly o: SchedulerOptions) {
    this.ended = new Promise((r) => (this.resolveEnd = r));
  }

  run(): Promise<SchedulerEnd> {
    this.pump();
    return this.ended;
  }

  get running(): number { return this.inFlight.size; }

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

  private beginStop(reason: StopReason, until?: number): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    this.stopUntil = until;
    this.clearWake();
    if (this.inFlight.size > 0) {
      this.graceTimer = this.o.clock.setTimeout(() => {
        this.killAll('SIGTERM');
        this.graceTimer = this.o.clock.setTimeout(() => this.killAll('SIGKILL'), 3000);
      }, this.o.graceMs);
    }
    this.pump();
  }

  private pump(): void {
    if (this.stopReason) return this.endStopWhenIdle();
    const now = this.o.clock.now();
    if (now < this.pausedUntil || this.probing) return;
    while (this.inFlight.size < this.o.concurrency && !this.stopReason) {
      const unit = this.take(now);
      if (!unit) break;
      this.dispatch(unit);
    }
    // A unit that could not be prepared stopped the run inside the loop.
    if (this.stopReason) return this.endStopWhenIdle();
    if (this.inFlight.size === 0 && this.front.length === 0 && this.retries.length === 0 && this.next >= this.queue.length) {
      return this.finish({ reason: 'completed' });
    }
    const firstRetry = this.retries[0];
    if (firstRetry && this.inFlight.size < this.o.concurrency) this.wakeAt(firstRetry.readyAt);
  }

  private endStopWhenIdle(): void {
    if (this.inFlight.size === 0) this.finish(this.stopUntil !== undefined ? { reason: this.stopReason!, rateLimitedUntil: this.stopUntil } : { reason: this.stopReason! });
  }

  private take(now: number): Unit | undefined {
    const f = this.front.shift();
    if (f) return f;
    if (this.retries.length > 0 && this.retries[0]!.readyAt <= now) return this.retries.shift()!.unit;
    if (this.next < this.queue.length) return this.queue[this.next++];
    return undefined;
  }

  private dispatch(unit: Unit): void {
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
      this.front.unshift(unit);
      return this.o.hooks.failed(e as Error);
    }
    if (!reported) this.o.hooks.started(unit, attempt);
    this.inFlight.set(unit, started);
    started.done.then(
      (result) => this.settle(unit, attempt, result),
      (e: Error) => this.settle(unit, attempt, { status: 'error', why: `internal: ${e.message}`, durationMs: 0 }),
    );
  }

  private settle(unit: Unit, attempt: number, result: AttemptResult, deferred = false): void {
    if (!deferred && !this.stopReason && result.status === 'error' && result.signal && GROUP_SIGNALS.has(result.signal) && !this.killedByUs.has(unit)) {
      // The signal that killed the unit may be on its way to us too (scancel signals every
      // process of the job at once, and the unit can die first): give our own handler a
      // moment before calling it an error. The unit stays in flight meanwhile.
      this.o.clock.setTimeout(() => this.settle(unit, attempt, result, true), SIGNAL_SETTLE_MS);
      return;
    }
    this.inFlight.delete(unit);
    // A unit killed by a signal while we stop was killed with us (Slurm's scancel and time
    // limits signal every process of the job): interrupted, not an error that spends an attempt.
    const killedWithUs = this.stopReason === 'interrupted' && result.status === 'error' && !!result.signal;
    if (this.killedByUs.delete(unit) || killedWithUs) {
      this.o.hooks.ended(unit, attempt, 'interrupted');
      return this.pump();
    }
    this.o.hooks.ended(unit, attempt, result);
    if (result.status === 'rate_limited') {
      this.front.push(unit);
      this.rateLimited(result.resetAt, unit.id, result.why);
    } else {
      this.consecutiveRateLimits = 0;
      if (result.status === 'error' && attempt < this.o.maxAttempts) {
        const readyAt = this.o.clock.now() + backoffMs(attempt, this.o.backoffSeconds, this.o.random);
        this.retries.push({ unit, readyAt });
        this.retries.sort((a, b) => a.readyAt - b.readyAt);
      }
    }
    this.pump();
  }

  /** Also used by the runner for a preflight answer. */
  rateLimited(resetAt: number | undefined, src: string, why: string | undefined): void {
    const now = this.o.clock.now();
    const rl = this.o.rateLimit;
    this.consecutiveRateLimits++;
    const until = resetAt !== undefined
      ? Math.max(resetAt, now) + rl.bufferSeconds * 1000
      : now + defaultPauseMs(this.consecutiveRateLimits, rl.defaultWaitSeconds, rl.maxWaitSeconds + 1);
    if (until <= this.pausedUntil || this.stopReason) return;
    this.pausedUntil = until;
    this.o.hooks.paused(until, src, why);
    if (until - now > rl.maxWaitSeconds * 1000) return this.beginStop('paused_rate_limit', until);
    this.wakeAt(until);
  }

  private wakeAt(t: number): void {
    this.clearWake();
    this.wake = this.o.clock.setTimeout(() => {
      this.wake = undefined;
      if (this.pausedUntil !== 0 && this.o.clock.now() >= this.pausedUntil) void this.endPause();
      else this.pump();
    }, t - this.o.clock.now());
  }

  private async endPause(): Promise<void> {
    if (this.o.probe && !this.stopReason) {
      this.probing = true;
      const answer = await this.o.probe().catch(() => undefined);
      this.probing = false;
      if (answer) return this.rateLimited(answer.resetAt, 'preflight', answer.why);
    }
    this.pausedUntil = 0;
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

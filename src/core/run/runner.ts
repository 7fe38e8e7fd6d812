import { systemClock, type Clock } from '../clock';
import { resolveExperiment, type ExperimentSource, type LoadedExperiment } from '../config/load';
import type { Unit } from '../config/units';
import { Emitter, type Disposable, type Event } from '../disposable';
import type { UnitHandler } from '../exec/handlerExecutor';
import { applyRecord } from '../model/view';
import type { JournalRecord, RunStatus } from '../store/events';
import { JournalWriter } from '../store/journalWriter';
import { LockLostError } from '../store/lock';
import type { Shard } from '../store/paths';
import { dryRun } from './dryRun';
import { endOfRun } from './endOfRun';
import type { RunEvent, RunSummary } from './events';
import { summaryOf } from './summary';
import { openRun, type OpenedRun } from './openRun';
import { runPreflight } from './preflight';
import { beginSession } from './session';
import { checkBeforeRun } from './beforeRun';
import { repeat } from './repeat';
import { Scheduler, type SchedulerEnd } from './scheduler';
import { endRecord, executorFor } from './executors';
import type { AttemptExecutor } from '../exec/attempt';
import { Fleet } from './fleet';
import { Throttle } from './throttle';
import { SnapshotWriter } from './snapshotWriter';
import { knownItems } from './itemsFingerprint';
import { leftOutMessage } from './plan';
import { hasSubset, resolveSubset, type Subset, type SubsetFlags } from './subset';
import { progressEvent, stoppingEvent } from './liveEvents';

/** `limit`, `only`, `units` (SubsetFlags): run only part of what is left this time. */
export interface RunOptions extends SubsetFlags {
  /**
   * Path of an `*.experiment.json`, one already loaded, or the experiment as an object (its
   * relative paths are taken from `baseDir`). With a handler, `run` may be left out.
   */
  readonly experiment: ExperimentSource;
  /** Folder an experiment given as an object is relative to (default: the current folder). */
  readonly baseDir?: string;
  readonly fresh?: boolean;
  readonly retryErrors?: boolean;
  readonly retryFailed?: boolean;
  readonly dryRun?: boolean;
  /** Overrides the file's concurrency (a runtime knob). */
  readonly concurrency?: number;
  readonly shard?: Shard;
  /** What chose the shard (`--shard 2/4`, `SLURM_ARRAY_TASK_ID=1 …`), for the run's log. */
  readonly shardSource?: string;
  /** Run units in this process instead of the experiment's command. */
  readonly handler?: UnitHandler;
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Written into the journal's runner_start line. */
  readonly argv?: readonly string[];
}

export const SNAPSHOT_EVERY_MS = 1000;
export const HEARTBEAT_EVERY_MS = 15_000;
/** Unit ends not yet durable before dispatch waits, per unit of concurrency: what a crash may lose stays a few batches. */
const UNDURABLE_ENDS_PER_SLOT = 4;

/**
 * One run of an experiment: opens (or resumes) its run folder, recovers what a crash left,
 * dispatches what is left, and keeps journal, snapshot and lock up to date. The single
 * writer of the run's state (invariant 3, docs/architecture.md): units and handlers never write it.
 */
export class Run {
  private readonly emitter = new Emitter<RunEvent>();
  readonly onEvent: Event<RunEvent> = this.emitter.event;
  private readonly clock: Clock;
  private scheduler: Scheduler | undefined;
  private executor: AttemptExecutor | undefined;
  private stopRequests = 0;
  private opened: OpenedRun | undefined;
  private journal: JournalWriter | undefined;
  private status: RunStatus = 'running';
  private failure: Error | undefined;
  /** A unit could not be prepared: the run ends failed, but the journal is sound and keeps being written. */
  private unitFailure: Error | undefined;
  private snapshots: SnapshotWriter | undefined;
  private readonly timers: Disposable[] = [];
  /** Unit end records queued but not yet durable. */
  private undurableEnds = 0;
  private startedAt = 0;
  private exp: LoadedExperiment | undefined;
  private throttle: Throttle | undefined;
  private fleet: Fleet | undefined;

  constructor(private readonly o: RunOptions) {
    this.clock = o.clock ?? systemClock;
    if (o.concurrency !== undefined && (!Number.isInteger(o.concurrency) || o.concurrency < 1)) {
      throw new RangeError(`Expected concurrency ≥ 1, got ${o.concurrency}`);
    }
  }

  /** First call: finish units in flight (grace period) then stop. Second call: kill them now. */
  stop(): void {
    this.stopRequests++;
    const grace = this.exp?.config.graceSeconds;
    this.emitter.fire(stoppingEvent(this.stopRequests, this.scheduler?.running ?? 0, grace && grace * 1000, this.clock.now()));
    if (!this.scheduler) return;
    if (this.stopRequests === 1) this.scheduler.stop();
    else {
      this.scheduler.killAll('SIGKILL');
      this.journal?.flushSync();
    }
  }

  /**
   * The process must end now (a second interrupt whose wind-down did not finish in time, e.g.
   * under a storm of signals): journal the units in flight as interrupted and the runner's end,
   * synchronously, so the journal ends cleanly. Their processes were killed by the second stop.
   */
  abandon(): string | undefined {
    if (!this.scheduler || !this.journal || this.failure) return undefined;
    for (const { unit, attempt } of this.scheduler.inFlightUnits()) {
      this.record({
        t: 'end',
        ts: this.clock.now(),
        u: unit.id,
        a: attempt,
        s: 'interrupted',
        why: 'killed by the runner (second interrupt)',
      });
    }
    const why = 'second interrupt: the runner exited before its units were reaped';
    this.record({ t: 'runner_end', ts: this.clock.now(), status: 'interrupted', why });
    this.journal.flushSync();
    this.failure = new Error('abandoned');
    this.opened?.lock?.release();
    return `■ Interrupted: ${this.exp?.config.name ?? 'the run'}: the runner exited before its killed units were reaped (second interrupt). Nothing finished was lost. Run the same command again to resume.`;
  }

  async run(): Promise<RunSummary> {
    // An unchanged dataset is not hashed, nor (on a resume from the unit snapshot) read but for the units that run.
    const load = { handler: !!this.o.handler, baseDir: this.o.baseDir, knownItems, lazyItems: true };
    const exp = await resolveExperiment(this.o.experiment, load);
    this.exp = exp;
    const subset = hasSubset(this.o) ? resolveSubset(exp.units, this.o) : undefined; // (every unit read only then)
    // Before anything runs or is written (dryRun checks the same).
    if (!this.o.handler && !this.o.dryRun) checkBeforeRun(exp, this.clock.now());
    if (this.o.dryRun) {
      const summary = await dryRun(exp, {
        shard: this.o.shard,
        clock: this.clock,
        retryErrors: this.o.retryErrors,
        retryFailed: this.o.retryFailed,
        fresh: this.o.fresh,
        subset,
        note: (m) => this.note(m),
      });
      this.emitter.fire({ type: 'end', summary });
      return summary;
    }
    const opened = await openRun(exp, { fresh: this.o.fresh, shard: this.o.shard, clock: this.clock });
    this.opened = opened;
    for (const n of opened.notes) this.note(n);
    try {
      return await this.execute(exp, opened, subset);
    } finally {
      for (const t of this.timers) t.dispose();
      // After a failure too: no worker outlives its runner.
      await this.closeExecutor();
      await this.journal?.close().catch(() => undefined);
      // Safe after a lost lock too: release removes the file only while it is still ours.
      opened.lock?.release();
      this.emitter.dispose();
    }
  }

  private async execute(exp: LoadedExperiment, opened: OpenedRun, subset: Subset | undefined): Promise<RunSummary> {
    const { paths, view, lock } = opened;
    this.journal = JournalWriter.open(paths.journal, () => lock!.verify());
    this.startedAt = this.clock.now();
    const shardTag = paths.shard ? `${paths.shard.k}of${paths.shard.n}` : null;
    this.snapshots = new SnapshotWriter(
      {
        opened,
        lock: lock!,
        journal: this.journal,
        base: { name: exp.config.name, hash: exp.hash, shard: shardTag, startedAt: this.startedAt, budget: exp.config.budget },
        status: () => this.status,
        now: () => this.clock.now(),
        workers: () => (this.status === 'running' ? this.executor?.workerStats?.() : undefined),
        note: (m) => this.note(m),
      },
      (e) => this.fail(e),
    );
    const plan = await beginSession(
      exp,
      opened,
      this.clock,
      { ...this.o, subset },
      {
        record: (r) => this.record(r),
        note: (m) => this.note(m),
      },
    );
    const todo = plan.todo;
    this.emitter.fire({
      type: 'start',
      runDir: paths.root,
      total: view.units.size,
      todo: todo.length,
      done: view.units.size - todo.length - plan.leftOut,
      concurrency: this.concurrency(exp),
      counts: { ...view.counts },
      adopted: plan.adopted,
    });
    // Not awaited: dispatch need not wait for its fsyncs (status reconciles an older one with the journal).
    void this.writeSnapshot();
    this.timers.push(repeat(this.clock, SNAPSHOT_EVERY_MS, () => void this.writeSnapshot()));
    this.timers.push(repeat(this.clock, HEARTBEAT_EVERY_MS, () => this.guard(() => lock!.heartbeat())));

    let end: SchedulerEnd = { reason: 'completed' };
    if (todo.length > 0) {
      const probe = exp.config.rateLimit.preflight && !this.o.handler ? () => runPreflight(exp, paths, this.clock) : undefined;
      const firstAnswer = probe ? await probe() : undefined;
      const budgeted = exp.config.budget.maxCostUSD !== undefined || exp.config.budget.maxTokens !== undefined;
      const fleet = new Fleet(
        paths,
        view,
        this.clock,
        budgeted,
        () => this.scheduler?.running ?? 0,
        (e) => this.note(`Could not tell the other shards what this one is doing: ${e.message}`),
        () => this.throttle?.adaptive.goodput(this.clock.monotonic()),
      );
      this.fleet = fleet;
      const throttle = new Throttle(
        this.concurrency(exp),
        exp.config,
        () => view.spend,
        () => fleet.facts(),
        this.clock.monotonic(),
      );
      this.throttle = throttle;
      const executor = executorFor(exp, paths, this.clock, this.o.handler, this.concurrency(exp), (m) => this.note(m));
      this.executor = executor;
      this.scheduler = new Scheduler(todo, {
        concurrency: this.concurrency(exp),
        maxAttempts: exp.config.retries.maxAttempts,
        backoffSeconds: exp.config.retries.backoffSeconds,
        rateLimit: exp.config.rateLimit,
        graceMs: exp.config.graceSeconds * 1000,
        clock: this.clock,
        random: this.o.random ?? Math.random,
        executor,
        attemptsSoFar: (id) => view.units.get(id)?.attempts ?? 0,
        probe,
        // One stat per dispatch: a runner that was paused and taken over starts nothing when it wakes.
        fence: () => lock!.check(),
        backlog: () =>
          this.undurableEnds >= Math.max(16, UNDURABLE_ENDS_PER_SLOT * this.concurrency(exp)) ? this.journal!.whenDurable() : undefined,
        throttle,
        hooks: {
          started: (unit, a, pid, pst) => this.record({ t: 'start', ts: this.clock.now(), u: unit.id, a, pid, pst }),
          ended: (unit, a, r, why) => this.unitEnded(unit, a, r, why),
          paused: (until, src, why) => {
            this.record({ t: 'pause', ts: this.clock.now(), until, src, why });
            void fleet.publish(true);
            this.emitter.fire({ type: 'pause', until, src, why });
            this.progress();
            void this.writeSnapshot();
          },
          unpaused: () => {
            this.record({ t: 'unpause', ts: this.clock.now() });
            this.emitter.fire({ type: 'unpause' });
            this.progress();
            void this.writeSnapshot();
          },
          adapted: () => this.adapted(throttle, fleet),
          failed: (e) => (e instanceof LockLostError ? this.fail(e) : this.stopOnUnitFailure(e)),
        },
      });
      if (this.stopRequests > 0) this.scheduler.stop();
      if (firstAnswer) {
        // Preflight said "rate limited": pause (or stop past maxWait) before any unit is spent.
        this.scheduler.rateLimited(firstAnswer.resetAt, 'preflight', firstAnswer.why, firstAnswer.quota);
      }
      if (fleet.sharded) {
        const scheduler = this.scheduler;
        fleet.follow(scheduler, throttle);
        this.timers.push(repeat(this.clock, SNAPSHOT_EVERY_MS, () => fleet.follow(scheduler, throttle)));
      }
      end = await this.scheduler.run();
      await this.closeExecutor();
      await fleet.publish(false);
    }
    return this.finish(exp, end, leftOutMessage(subset, plan.leftOut));
  }

  private concurrency(exp: LoadedExperiment): number {
    return this.o.concurrency ?? exp.config.concurrency;
  }

  private unitEnded(unit: Unit, attempt: number, r: Parameters<import('./scheduler').SchedulerHooks['ended']>[2], why?: string): void {
    const now = this.clock.now();
    if (r === 'interrupted') {
      this.record({ t: 'end', ts: now, u: unit.id, a: attempt, s: 'interrupted', why: why ?? 'killed by the runner (interrupt)' });
      this.emitter.fire({ type: 'unit', id: unit.id, status: 'interrupted', attempt });
      return;
    }
    this.record(endRecord(unit.id, attempt, r, now));
    if (this.emitter.hasListeners)
      this.emitter.fire({ type: 'unit', id: unit.id, status: r.status, attempt, why: r.why, durationMs: r.durationMs });
    this.progress();
  }

  /** The adaptive limit changed: journaled (the tree and status show it), and a cut is told to the other shards. */
  private adapted(throttle: Throttle, fleet: Fleet): void {
    const a = throttle.adaptive;
    const rpm = Number.isFinite(a.rate) ? Math.round(a.rate * 60 * 10) / 10 : undefined;
    const prev = this.opened!.view.concurrency;
    this.record({ t: 'conc', ts: this.clock.now(), c: a.limit, max: a.max, rpm });
    if (prev === undefined || a.limit < prev.limit || (rpm !== undefined && (prev.rpm === undefined || rpm < prev.rpm))) fleet.cut();
  }

  private progress(): void {
    // Per unit end: rate and ETA cost more than the unit's own bookkeeping when nobody listens.
    if (this.emitter.hasListeners) this.emitter.fire(progressEvent(this.opened!.view, this.clock.now()));
  }

  /** Applies a record to the view and queues it for the journal in the same tick, so the two never disagree. */
  private record(r: JournalRecord): void {
    if (this.failure) return;
    applyRecord(this.opened!.view, r);
    const durable = this.journal!.append(r);
    if (r.t === 'end') {
      this.undurableEnds++;
      durable.then(
        () => this.undurableEnds--,
        (e: Error) => this.fail(e),
      );
    } else durable.catch((e: Error) => this.fail(e));
  }

  private fail(e: Error): void {
    if (this.failure) return;
    this.failure = e;
    this.note(`Stopping: ${e.message}`);
    this.scheduler?.killAll('SIGKILL');
  }

  /** Units in flight finish within the grace period and are journaled, then the run ends failed (exit 1). */
  private stopOnUnitFailure(e: Error): void {
    if (this.failure || this.unitFailure) return;
    this.unitFailure = e;
    this.note(`Stopping: ${e.message}`);
    if (this.stopRequests === 0) this.scheduler?.stop();
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private async closeExecutor(): Promise<void> {
    const e = this.executor;
    this.executor = undefined;
    await e?.close?.().catch(() => undefined);
  }

  private writeSnapshot(): Promise<void> {
    return this.failure ? Promise.resolve() : this.snapshots!.write();
  }

  private async finish(exp: LoadedExperiment, end: SchedulerEnd, leftOut?: string): Promise<RunSummary> {
    const { view, paths } = this.opened!;
    const decided = endOfRun({
      failure: this.failure,
      unitFailure: this.unitFailure,
      end,
      stopRequests: this.stopRequests,
      maxWaitSeconds: exp.config.rateLimit.maxWaitSeconds,
      leftOut,
    });
    this.status = decided.status;
    const { exitCode, message } = decided;
    if (!this.failure) {
      this.record({ t: 'runner_end', ts: this.clock.now(), status: this.status, why: message });
      await this.writeSnapshot();
      if (this.failure) return this.finish(exp, end, leftOut);
    }
    this.progress();
    const summary = summaryOf(this.status, exitCode, message, paths.root, view, end);
    this.emitter.fire({ type: 'end', summary });
    return summary;
  }

  private note(message: string): void {
    this.emitter.fire({ type: 'note', message });
  }
}

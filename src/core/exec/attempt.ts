import type { Unit } from '../config/units';
import type { Outcome } from '../store/events';
import type { WorkerCounts } from '../model/snapshot';

/** What one attempt of one unit ended with, whatever ran it (a process or a handler). */
export interface AttemptResult {
  readonly status: Outcome;
  readonly why?: string;
  readonly exitCode?: number | null;
  readonly signal?: string | null;
  readonly durationMs: number;
  readonly resetAt?: number;
  /** Rate limits: quota words (insufficient_quota, a daily limit…): the run parks instead of pausing. */
  readonly quota?: string;
  /** What the attempt spent (USD, tokens), when it said. */
  readonly usage?: { readonly usd?: number; readonly tok?: number };
  /** Its `result.metrics` (numbers by field), when the result had them. */
  readonly metrics?: Readonly<Record<string, number>>;
  /** A handler's returned value, kept in the journal. */
  readonly value?: unknown;
  /**
   * The runner itself could not start the attempt (EMFILE, ENFILE, EAGAIN, ENOMEM: the errno
   * code): not the unit's fault, so the scheduler does not count it as an attempt.
   */
  readonly runnerFault?: string;
}

export interface StartedAttempt {
  readonly done: Promise<AttemptResult>;
  /** Stops the attempt (kills a process group, aborts a handler). */
  kill(signal: NodeJS.Signals): void;
}

/** Runs attempts; `onSpawn` reports a process's identity as soon as it exists. */
export interface AttemptExecutor {
  start(unit: Unit, attempt: number, onSpawn: (pid: number, pst: number | undefined) => void): StartedAttempt;
  /** The run needs no more attempts: whatever the executor keeps running (workers) is stopped. */
  close?(): Promise<void>;
  /** Its long-lived workers, when it has them (status and the tree show them). */
  workerStats?(): WorkerCounts;
}

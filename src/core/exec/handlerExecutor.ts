import type { Clock } from '../clock';
import type { Unit } from '../config/units';
import { unitSeed } from '../ids';
import type { AttemptExecutor, AttemptResult, StartedAttempt } from '../run/attempt';

/** What a library handler sees for one attempt. */
export interface UnitContext {
  readonly unit: Unit;
  readonly attempt: number;
  readonly seed: number;
  /** Aborted on interrupt or timeout: stop work and throw. */
  readonly signal: AbortSignal;
}

/** Return `{ passed }` (and anything else to keep), or throw. Throw RateLimitError on a rate limit. */
export type UnitHandler = (ctx: UnitContext) => Promise<{ passed: boolean; [k: string]: unknown } | boolean>;

export class RateLimitError extends Error {
  override readonly name = 'RateLimitError';
  /** `resetAt`: epoch ms when the limit lifts, if known. */
  constructor(message = 'rate limited', readonly resetAt?: number) {
    super(message);
  }
}

/** Runs each attempt in this process through an async handler (library use, benchmarks). */
export class HandlerExecutor implements AttemptExecutor {
  constructor(private readonly handler: UnitHandler, private readonly seed: number, private readonly clock: Clock, private readonly timeoutMs?: number) {}

  start(unit: Unit, attempt: number): StartedAttempt {
    const ac = new AbortController();
    const started = this.clock.now();
    const timer = this.timeoutMs !== undefined ? this.clock.setTimeout(() => ac.abort(new Error('timed out')), this.timeoutMs) : undefined;
    const done = (async (): Promise<AttemptResult> => {
      try {
        const out = await this.handler({ unit, attempt, seed: unitSeed(this.seed, unit.id), signal: ac.signal });
        const passed = typeof out === 'boolean' ? out : out.passed === true;
        return { status: passed ? 'passed' : 'failed', value: typeof out === 'boolean' ? undefined : out, durationMs: this.clock.now() - started };
      } catch (e) {
        if (e instanceof RateLimitError) return { status: 'rate_limited', why: e.message, resetAt: e.resetAt, durationMs: this.clock.now() - started };
        const why = ac.signal.aborted && ac.signal.reason instanceof Error ? ac.signal.reason.message : (e as Error)?.message ?? String(e);
        return { status: 'error', why, durationMs: this.clock.now() - started };
      } finally {
        if (timer) this.clock.clearTimeout(timer);
      }
    })();
    return { done, kill: () => ac.abort(new Error('interrupted')) };
  }
}

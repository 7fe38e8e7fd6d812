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
    // The AbortController and the seed (a sha256) are made only when the handler asks for
    // them: for a fast handler they were most of the engine's cost per unit.
    let ac: AbortController | undefined;
    let abortedWith: Error | undefined;
    const controller = () => {
      if (!ac) {
        ac = new AbortController();
        if (abortedWith) ac.abort(abortedWith);
      }
      return ac;
    };
    const abort = (why: Error) => {
      abortedWith ??= why;
      if (ac && !ac.signal.aborted) ac.abort(why);
    };
    const started = this.clock.now();
    const timer = this.timeoutMs !== undefined ? this.clock.setTimeout(() => abort(new Error('timed out')), this.timeoutMs) : undefined;
    const masterSeed = this.seed;
    const ctx: UnitContext = {
      unit, attempt,
      get seed() { return unitSeed(masterSeed, unit.id); },
      get signal() { return controller().signal; },
    };
    const done = (async (): Promise<AttemptResult> => {
      try {
        const out = await this.handler(ctx);
        const passed = typeof out === 'boolean' ? out : out.passed === true;
        return { status: passed ? 'passed' : 'failed', value: typeof out === 'boolean' ? undefined : out, durationMs: this.clock.now() - started };
      } catch (e) {
        if (e instanceof RateLimitError) return { status: 'rate_limited', why: e.message, resetAt: e.resetAt, durationMs: this.clock.now() - started };
        const why = abortedWith ? abortedWith.message : (e as Error)?.message ?? String(e);
        return { status: 'error', why, durationMs: this.clock.now() - started };
      } finally {
        if (timer) this.clock.clearTimeout(timer);
      }
    })();
    return { done, kill: () => abort(new Error('interrupted')) };
  }
}

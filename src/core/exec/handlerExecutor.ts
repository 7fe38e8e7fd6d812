import type { Clock } from '../clock';
import type { Unit } from '../config/units';
import { unitSeed } from '../ids';
import type { Experiment } from '../config/schema';
import { findRateLimitHints } from '../ratelimit/hints';
import type { AttemptExecutor, AttemptResult, StartedAttempt } from './attempt';
import { metricsIn, usageIn } from './outcome';

/** What a library handler sees for one attempt. */
export interface UnitContext {
  readonly unit: Unit;
  readonly attempt: number;
  readonly seed: number;
  /** Aborted on interrupt or timeout: stop work and throw. */
  readonly signal: AbortSignal;
}

/** What an attempt spent, as a handler reports it (summed per run, group and shard; `budget` stops on it). */
export interface HandlerUsage {
  readonly costUSD?: number;
  readonly tokens?: number;
}

/**
 * Return `{ passed }` (and anything else to keep; `usage` says what it spent), or throw. Throw
 * RateLimitError on a rate limit; an SDK's error with `status` 429 (OpenAI's, Anthropic's) is
 * one too, its message and headers searched for the reset time.
 */
export type UnitHandler = (ctx: UnitContext) => Promise<{ passed: boolean; usage?: HandlerUsage; [k: string]: unknown } | boolean>;

export class RateLimitError extends Error {
  override readonly name = 'RateLimitError';
  /** `resetAt`: epoch ms when the limit lifts, if known. */
  constructor(
    message = 'rate limited',
    readonly resetAt?: number,
  ) {
    super(message);
  }
}

/** Runs each attempt in this process through an async handler (library use, benchmarks). */
export class HandlerExecutor implements AttemptExecutor {
  constructor(
    private readonly handler: UnitHandler,
    private readonly seed: number,
    private readonly clock: Clock,
    private readonly timeoutMs?: number,
    /** `result.cost` / `result.tokens`: fields of the returned value that say what it spent, beside `usage`. */
    private readonly spendRule: Pick<Experiment['result'], 'cost' | 'tokens' | 'metrics'> = {},
  ) {}

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
      unit,
      attempt,
      get seed() {
        return unitSeed(masterSeed, unit.id);
      },
      get signal() {
        return controller().signal;
      },
    };
    const done = (async (): Promise<AttemptResult> => {
      try {
        const out = await this.handler(ctx);
        if (typeof out === 'boolean')
          return {
            status: out ? 'passed' : 'failed',
            ...(out ? {} : { why: 'the handler returned false' }),
            durationMs: this.clock.now() - started,
          };
        const unsavable = resultProblem(out);
        if (unsavable) return { status: 'error', why: unsavable, durationMs: this.clock.now() - started };
        const usage = usageOf(out, this.spendRule);
        const metrics = metricsIn(out, this.spendRule.metrics);
        return {
          status: out.passed === true ? 'passed' : 'failed',
          // Said as a result file's failed check is, so `status --errors` and `results` agree.
          ...(out.passed === true ? {} : { why: `passed is ${JSON.stringify(out.passed) ?? 'absent'}` }),
          value: out,
          durationMs: this.clock.now() - started,
          usage,
          ...(metrics ? { metrics } : {}),
        };
      } catch (e) {
        const limited = rateLimitOf(e, this.clock.now());
        if (limited) return { ...limited, durationMs: this.clock.now() - started };
        const why = abortedWith ? abortedWith.message : whyOf(e);
        return { status: 'error', why, durationMs: this.clock.now() - started };
      } finally {
        if (timer) this.clock.clearTimeout(timer);
      }
    })();
    return { done, kill: () => abort(new Error('interrupted')) };
  }
}

function usageOf(out: Record<string, unknown>, rule: Pick<Experiment['result'], 'cost' | 'tokens'>): AttemptResult['usage'] {
  const u = out.usage as HandlerUsage | undefined;
  const fromRule = usageIn(out, rule);
  const usd = finite(u?.costUSD) ?? fromRule?.usd;
  const tok = finite(u?.tokens) ?? fromRule?.tok;
  if (usd === undefined && tok === undefined) return undefined;
  return { ...(usd !== undefined ? { usd } : {}), ...(tok !== undefined ? { tok } : {}) };
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

/**
 * A thrown RateLimitError, or an SDK's error that is one (`status` 429, or a standard signal
 * in its message): rate limited, the reset from the error or from what its text and headers say.
 */
function rateLimitOf(e: unknown, now: number): Pick<AttemptResult, 'status' | 'why' | 'resetAt' | 'quota'> | undefined {
  const why = whyOf(e);
  const own = e instanceof RateLimitError;
  const status = typeof e === 'object' && e !== null ? (e as { status?: unknown }).status : undefined;
  const text = `${why}\n${headersText(e)}`;
  const hint = findRateLimitHints(text, now);
  if (!own && status !== 429 && hint.signal === undefined) return undefined;
  const given = own && typeof e.resetAt === 'number' && Number.isFinite(e.resetAt) ? e.resetAt : undefined;
  const resetAt = given ?? hint.resetAt;
  return { status: 'rate_limited', why, resetAt, ...(hint.quota !== undefined ? { quota: hint.quota } : {}) };
}

/** An SDK error's response headers (a Headers object or a plain record) as `name: value` lines. */
function headersText(e: unknown): string {
  const h = typeof e === 'object' && e !== null ? (e as { headers?: unknown }).headers : undefined;
  if (!h || typeof h !== 'object') return '';
  try {
    const entries: Iterable<[string, unknown]> =
      typeof (h as Headers).entries === 'function' ? (h as Headers).entries() : Object.entries(h as Record<string, unknown>);
    const lines: string[] = [];
    for (const [k, v] of entries) if (lines.length < 200) lines.push(`${k}: ${String(v)}`);
    return lines.join('\n');
  } catch {
    return '';
  }
}

/** A handler's result goes into the journal line of its unit: past this, it belongs in a file in the unit's folder. */
export const MAX_RESULT_BYTES = 1 << 20;
/** Deeper than this, JSON.stringify's recursion is at the mercy of the stack left where the journal line is written. */
export const MAX_RESULT_DEPTH = 1000;
const MAX_WHY_CHARS = 4000;

/**
 * Why a handler's result cannot go into the journal, or undefined when it can. Thrown at the
 * journal write instead, it crashed the runner, and the same unit again on every resume.
 */
export function resultProblem(out: unknown): string | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(out);
  } catch (e) {
    const why =
      e instanceof RangeError && /call stack/i.test(e.message) ? `it is nested too deeply (at most ${MAX_RESULT_DEPTH} levels)` : whyOf(e);
    return `the handler's result cannot be saved as JSON: ${why}`;
  }
  if (json === undefined) return undefined;
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_RESULT_BYTES) {
    return `the handler's result is ${mib(bytes)} of JSON, over the ${mib(MAX_RESULT_BYTES)} cap for a result in the journal: write large outputs to a file in the unit's folder and return its path`;
  }
  // Nesting needs two characters a level: a short result cannot be too deep (the common case costs nothing).
  if (json.length > 2 * MAX_RESULT_DEPTH && depthOf(json) > MAX_RESULT_DEPTH) {
    return `the handler's result cannot be saved as JSON: it is nested more than ${MAX_RESULT_DEPTH} levels deep`;
  }
  return undefined;
}

/** Deepest nesting of arrays and objects in a JSON text (brackets inside strings do not count). */
function depthOf(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92 /* backslash: skip the escaped character */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) max = Math.max(max, ++depth);
    else if (c === 93 /* ] */ || c === 125 /* } */) depth--;
  }
  return max;
}

/** A thrown value as text for the journal, whatever was thrown (a BigInt in `message`, an object without a prototype). */
function whyOf(e: unknown): string {
  let why: string;
  try {
    const m = (e as { message?: unknown } | null)?.message;
    why = typeof m === 'string' ? m : String(m ?? e);
  } catch {
    why = 'the handler threw a value that cannot be shown as text';
  }
  return why.length > MAX_WHY_CHARS ? `${why.slice(0, MAX_WHY_CHARS)}… (${why.length} characters)` : why;
}

function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(bytes % (1 << 20) === 0 ? 0 : 1)} MiB`;
}

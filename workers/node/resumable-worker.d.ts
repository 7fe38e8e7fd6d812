// Types of resumable-worker.js: the worker side of Resumable's worker protocol (version 1).

/** The protocol version this module speaks (sent in the `ready` line). */
export declare const PROTOCOL: 1;
/** The longest protocol line the runner accepts, in bytes; a longer result is written to `resultFile`. */
export declare const MAX_LINE_BYTES: number;

/** What a unit cost, summed by the runner. Other keys are kept as they are. */
export interface Usage {
  costUSD?: number;
  tokens?: number;
  [key: string]: unknown;
}

/** The runner's message for one attempt of one unit (the `unit` line, as parsed). */
export interface UnitMessage {
  type: 'unit';
  id: string;
  itemId: string;
  item: Record<string, unknown>;
  matrix: Record<string, unknown>;
  repeat: number;
  seed: number;
  attempt: number;
  unitDir: string;
  resultFile: string;
  /** Epoch ms when the unit's time is up, or null. */
  deadline: number | null;
  [key: string]: unknown;
}

/** One attempt of one unit, as the handler gets it. */
export declare class Unit<Item extends Record<string, unknown> = Record<string, unknown>> {
  private constructor();
  /** The unit id, e.g. "q01/small". */
  readonly id: string;
  readonly itemId: string;
  /** The item's fields. */
  readonly item: Item;
  /** The matrix cell, e.g. `{ model: 'small' }`. */
  readonly matrix: Record<string, unknown>;
  /** 1 unless the matrix repeats. */
  readonly repeat: number;
  /** The unit's seed (stable across attempts and runs). */
  readonly seed: number;
  /** 1 for the first attempt, 2 for the first retry… */
  readonly attempt: number;
  /** The unit's own folder (it exists). */
  readonly unitDir: string;
  /** Where the result is written (by the runner from the answer, or by the handler that returns undefined). */
  readonly resultFile: string;
  /** Epoch ms when the unit's time is up, or null. */
  readonly deadline: number | null;
  /** The message as the runner sent it. */
  readonly raw: UnitMessage;
  /** Milliseconds left before the deadline (may be negative), or null without one. */
  remainingMs(): number | null;
}

/** A unit's result: the field the experiment judges ("passed" by default) and anything else worth keeping. */
export type UnitResult = Record<string, unknown> & { passed?: boolean; usage?: Usage };

/**
 * Runs one unit. Returns the result object, a boolean (shorthand for `{ passed }`), or
 * undefined when it wrote `u.resultFile` itself. A thrown RateLimitError (or any error with
 * `status === 429` or `statusCode === 429`) makes the runner wait and run the unit again; any
 * other error is reported as an error (retried as the experiment's `retries` say).
 */
export type Handler<Item extends Record<string, unknown> = Record<string, unknown>> = (
  u: Unit<Item>,
) => UnitResult | boolean | undefined | void | Promise<UnitResult | boolean | undefined | void>;

export interface ServeOptions {
  /** How many units run at once (default: env RESUMABLE_PER_WORKER, else 1). The runner sends no more than its own setting. */
  concurrency?: number;
  /** Exit the process when done (default true): at once if nothing else keeps it alive, else after a second. */
  exit?: boolean;
}

/**
 * Says `ready`, then runs units until the runner closes stdin. Resolves when stdin has ended
 * and every unit received is answered. From the first call (or the require, inside a worker)
 * `console.log` and `process.stdout.write` go to stderr, the unit's log. Throws if called twice.
 */
export declare function serve<Item extends Record<string, unknown> = Record<string, unknown>>(
  handler: Handler<Item>,
  options?: ServeOptions,
): Promise<void>;

export interface RateLimitOptions {
  /** When the limit resets: epoch ms, a Date, or text (an HTTP date, an ISO time). */
  resetAt?: number | Date | string;
  /** Seconds to wait before running the unit again. */
  retryAfterSeconds?: number;
  /** The response's headers (a Headers object, a Map or a plain object); the runner reads retry-after and the like. */
  headers?: unknown;
  /** What the failed call cost. */
  usage?: Usage;
  cause?: unknown;
}

/** Throw from a handler when the service said "too many requests". */
export declare class RateLimitError extends Error {
  constructor(message?: string, options?: RateLimitOptions);
  readonly resetAt: number | Date | string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly headers: unknown;
  readonly usage: Usage | undefined;
}

// Types of scripts/limitServer.mjs, for the TypeScript tests that import it.

/** The shape of a 429: which headers and body carry the hint (or none). */
export type LimitForm = 'openai' | 'anthropic' | 'retry-after-seconds' | 'retry-after-date' | 'retry-after-ms' | 'gemini' | 'none';

export const LIMIT_FORMS: readonly LimitForm[];

/** While set, every request is answered 429 insufficient_quota; `resetAt` (ms since epoch or a Date) clears it by itself. */
export interface Quota {
  message?: string;
  resetAt?: number | Date;
}

export interface LimitServerOptions {
  /** Accepted requests per window (default Infinity). */
  requestsPerWindow?: number;
  /** Tokens of accepted requests per window (default Infinity). */
  tokensPerWindow?: number;
  /** Default 60_000. */
  windowMs?: number;
  /** sliding (default): the last windowMs; fixed: windows of windowMs from the server's start (or reset()). */
  mode?: 'sliding' | 'fixed';
  /** Delay before any /call answer (the decision is taken on arrival). Default 0. */
  latencyMs?: number;
  /** Default 'openai'. */
  form?: LimitForm;
  quota?: Quota | null;
  /** The server closes by itself after this long (default 600_000), so a forgotten one cannot hang CI. */
  maxLifetimeMs?: number;
}

export interface ShardStats {
  ok: number;
  limited: number;
}

export interface LimitStats {
  ok: number;
  /** 429s of both kinds: rate limit and quota. */
  limited: number;
  /** Of `limited`, the insufficient_quota ones. */
  quotaLimited: number;
  /** By the `shard` query parameter ('-' when absent). */
  byShard: Record<string, ShardStats>;
  /** ms since epoch of accepted requests, in order. */
  acceptedAt: number[];
  limitedAt: number[];
  tokensAccepted: number;
  /** The most accepted requests any window held, recounted from acceptedAt: never above requestsPerWindow. */
  maxInWindow: number;
}

export interface LimitServer {
  /** http://127.0.0.1:<port> (no path: requests go to `${url}/call`). */
  readonly url: string;
  readonly port: number;
  /** A copy. Also served as JSON at GET /stats. */
  stats(): LimitStats;
  /** Forgets stats and the window's contents (a fixed window restarts now); the quota stays. */
  reset(): void;
  /** Sets the quota, or clears it (no argument, null). */
  setQuota(quota?: Quota | null): void;
  /** Stops listening, drops pending answers and destroys every socket (keep-alive ones too). Idempotent. */
  close(): Promise<void>;
}

export function startLimitServer(opts?: LimitServerOptions): Promise<LimitServer>;

/** Go's time.Duration.String() of whole milliseconds (rounded up): 20ms, 1s, 1.2s, 6m0s. */
export function goDuration(ms: number): string;

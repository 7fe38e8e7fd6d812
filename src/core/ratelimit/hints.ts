/**
 * Reads the standard signs of a rate limit out of whatever a failing unit printed (SDK
 * exceptions, headers dicts, curl dumps, CLI messages), so that no user regex is needed to
 * tell a rate limit from a bug, when it lifts, and whether it is a quota that no short pause
 * will cure. A false signal is costly (a buggy unit would be paused and retried as if
 * throttled), so every signal is anchored to a provider code, a status field or a phrase.
 *
 * Decisions (test/core/rateLimitHints.test.ts pins each):
 * - Only the last 64 KiB are read: the newest response is at the end, and it bounds the cost.
 * - Reset forms, highest first: retry-after-ms > retry-after > x-ratelimit-reset and
 *   anthropic-ratelimit-reset (one tier) > try-again-in > retry-delay > resets-at > epoch.
 *   Headers beat prose; a delay beats a wall-clock time, which may need a guessed zone.
 *   Except: a per-kind reset within the last second before Retry-After's is the same instant
 *   to the millisecond (Retry-After rounds up to whole seconds), and is taken instead.
 * - Within a form the last occurrence that gives an instant wins: it is the newest response.
 * - "Now": an instant before nowMs is dropped and the next form is tried; nowMs itself
 *   ("Retry-After: 0") is kept, meaning "retry now".
 * - (x-)ratelimit-reset: >= 1e12 is epoch ms, >= 1e9 epoch seconds, smaller is seconds from
 *   now (IETF RateLimit-Reset and some APIs send a delta; 1e9 s is 2001, below any real epoch).
 * - Per-kind resets (OpenAI -requests/-tokens, Anthropic -requests/-tokens/-input-tokens/…):
 *   the latest among the kinds whose remaining is 0 if any is, else the latest of all.
 * - Quota: insufficient_quota, "credit balance is too low", billing hard limit, "daily/weekly/
 *   usage/N-hour limit|quota" reached/hit/exceeded/exhausted, "requests|tokens per day" (OpenAI
 *   RPD/TPD). Bare "billing", "daily limit" or "usage limit" are not: settings print them too.
 *   Gemini (RESOURCE_EXHAUSTED) says "exceeded your current quota" for per-minute limits too, so
 *   there it is a quota only with per-day words (PerDay, per day, daily) within 4 KiB of it, or
 *   with no reset at all; elsewhere "quota exceeded" is one. Disk/storage quotas never are.
 *   A quota is always also a signal.
 */
import { DateTime } from 'luxon';
import { parseResetTime, type ParseResetTimeOptions } from './resetTime';

export interface RateLimitHint {
  /** The standard rate-limit signal found, as printed (trimmed to ≤ 80 chars), e.g. "HTTP/1.1 429 Too Many Requests", "rate_limit_exceeded". */
  readonly signal?: string;
  /** Epoch ms when the limit lifts, if the text says. */
  readonly resetAt?: number;
  /** Which form gave resetAt: 'retry-after-ms' | 'retry-after' | 'x-ratelimit-reset' | 'anthropic-ratelimit-reset' | 'try-again-in' | 'retry-delay' | 'resets-at' | 'epoch'. */
  readonly resetForm?: string;
  /** Quota words found (e.g. "insufficient_quota", "RESOURCE_EXHAUSTED", "usage limit reached"), as printed: the limit may be hours or a billing matter away. */
  readonly quota?: string;
}

interface Reset {
  resetAt: number;
  form: string;
}

const SCAN_BYTES = 64 * 1024;
const MAX_SHOWN = 80;
// Later occurrences are tried first; a text with thousands of them is not worth reading all.
const MAX_TRIES = 50;
const NEAR = 4096;

const UNITS = 'ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?';
// Separators are bounded so a long run of blanks cannot make the repetition backtrack.
const DURATION = `(?:\\d{1,9}(?:\\.\\d{1,9})?[ \\t]?(?:${UNITS})(?![a-z])(?:[ \\t]{0,2},?[ \\t]{0,2}(?:and[ \\t]{1,2})?)?){1,6}`;
const DURATION_AT_START = new RegExp(`^${DURATION}`, 'i');
const RL_HEADERS = '(?:x-)?ratelimit-(?:reset|remaining)(?:-requests|-tokens)?|anthropic-ratelimit-[a-z0-9-]{1,40}?-(?:reset|remaining)';
const TRY_AGAIN_RE = new RegExp(`\\b(?:(?:try|retry)[ \\t]{1,4}again|retry)[ \\t]{1,4}(?:in|after)[ \\t]{1,4}(${DURATION})`, 'gi');
const RETRY_DELAY_RE =
  /\bretry_?delay\\?["']?[ \t]{0,4}[:=][ \t]{0,4}\\?["']?(\d{1,9}(?:\.\d{1,9})?)s\b|\bretry_delay[ \t]{0,4}\{\s{0,40}seconds:[ \t]{0,4}(\d{1,9})(?:\s{1,40}nanos:[ \t]{0,4}(\d{1,9}))?/gi;
// Only a date or time may follow, so "connection reset by peer 10:32" is not a reset time.
const RESETS_AT_RE =
  /\b(?:resets?|try[ \t]{1,4}again)(?:[ \t]{1,4}(?:at|on|in))?[ \t]{0,4}:?[ \t]{1,4}(?=\d|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|tomorrow|noon|midnight))([^\r\n|∙·•]{1,100})/gi;
// A bare epoch only right after "reset"/"limit" (Claude Code: "usage limit reached|<epoch>"):
// logs are full of timestamps.
const EPOCH_RE = /\b(?:resets?|limit)\b[^\r\n\d]{0,40}(\d{13}|\d{10})(?!\d)/gi;

const QUOTA_EXCEEDED =
  /(?<!(?:disk|storage|memory|inode|file|user|group)[ _])\bquota[ _]?exceeded\b|\bexceeded[ \t]{1,4}your[ \t]{1,4}current[ \t]{1,4}quota\b/gi;
// In order of preference: the first that matches names the signal, by its last occurrence.
const SIGNALS: RegExp[] = [
  /\bHTTP\/\d(?:\.\d)?[ \t]{1,4}429\b(?:[ \t]{1,4}Too Many Requests)?/gi,
  /\b(?:insufficient_quota|rate_limit_(?:exceeded|error)|RESOURCE_EXHAUSTED|ResourceExhausted|ThrottlingException|RateLimit(?:Error|Exceeded)|TooManyRequests(?:Exception|Error)?)\b/gi,
  /["']?\b(?:status(?:[ _-]?code)?|(?:error[ _-]?)?code)\\?["']?[ \t]{0,4}[:=]?[ \t]{0,4}\\?["']?429\b["']?(?:[ \t]{1,4}Too Many Requests)?/gi,
  /\b(?:429[ \t:-]{0,3})?Too[ _-]?Many[ _-]?Requests\b/gi,
  /\brate[ _-]?limit(?:s|ed)?[ _-]?(?:exceeded|reached|error)\b|\bexceed(?:ed|s|ing)?[ \t]{1,4}(?:[a-z]{1,20}[ \t]{1,4}){0,3}?rate[ _-]?limits?\b/gi,
  QUOTA_EXCEEDED,
];
const LONG_LIMIT = '(?:daily|weekly|monthly|usage|\\d{1,2}[- ]hour)[ _-](?:limit|quota)s?';
const QUOTAS: RegExp[] = [
  /\binsufficient_quota\b/gi,
  /\bcredit balance is too low\b/gi,
  /\bbilling[ _]hard[ _]limit(?:[ _]reached)?\b/gi,
  new RegExp(
    `\\b${LONG_LIMIT}[ \\t]{1,4}(?:reached|exceeded|hit|exhausted)\\b|\\b(?:reached|hit|exceeded|exhausted)[ \\t]{1,4}(?:your|the)[ \\t]{1,4}(?:[a-z]{1,20}[ \\t]{1,4}){0,2}?${LONG_LIMIT}\\b`,
    'gi',
  ),
  /\b(?:requests|tokens)[ \t]{1,4}per[ \t]{1,4}day\b/gi,
];
const GEMINI_RE = /\b(?:RESOURCE_EXHAUSTED|ResourceExhausted)\b/gi;
const PER_DAY_RE = /per[ _-]?day|\bdaily\b/i;

/** Bounded: only the last 64 KiB of `text` are scanned. Never throws. */
export function findRateLimitHints(text: string, nowMs: number, opts?: ParseResetTimeOptions): RateLimitHint {
  try {
    if (typeof text !== 'string' || !Number.isFinite(nowMs)) return {};
    const s = tail(text);
    const reset = findReset(s, nowMs, opts);
    const quota = findQuota(s, reset !== undefined);
    const signal = SIGNALS.map((re) => lastMatch(re, s)).find((m) => m !== undefined)?.[0] ?? quota;
    return {
      ...(signal !== undefined && { signal: shown(signal) }),
      ...(reset && { resetAt: reset.resetAt, resetForm: reset.form }),
      ...(quota !== undefined && { quota: shown(quota) }),
    };
  } catch {
    // Classifying an outcome must never crash a run: a parser bug degrades to "no hint".
    return {};
  }
}

/** Just the reset instant (what a user pattern without a named group `reset` falls back to). */
export function findResetHint(text: string, nowMs: number, opts?: ParseResetTimeOptions): { resetAt: number; form: string } | undefined {
  try {
    if (typeof text !== 'string' || !Number.isFinite(nowMs)) return undefined;
    return findReset(tail(text), nowMs, opts);
  } catch {
    return undefined;
  }
}

function tail(text: string): string {
  return text.length > SCAN_BYTES ? text.slice(-SCAN_BYTES) : text;
}

function shown(s: string): string {
  return s.trim().slice(0, MAX_SHOWN);
}

function findReset(s: string, now: number, opts?: ParseResetTimeOptions): Reset | undefined {
  const tiers: Array<[string, () => number | Reset | undefined]> = [
    ['retry-after-ms', () => latest(headers(s, 'retry-after-ms'), ([, v]) => plus(now, leadingNumber(v)), now)],
    ['retry-after', () => latest(headers(s, 'retry-after'), ([, v]) => retryAfter(v, now), now)],
    ['', () => perKindReset(s, now)], // names its own form
    ['try-again-in', () => latest(s.matchAll(TRY_AGAIN_RE), (m) => delay(m[1] ?? '', now), now)],
    ['retry-delay', () => latest(s.matchAll(RETRY_DELAY_RE), (m) => retryDelay(m, now), now)],
    ['resets-at', () => latest(s.matchAll(RESETS_AT_RE), (m) => resetsAt(m[1] ?? '', now, opts), now)],
    ['epoch', () => latest(s.matchAll(EPOCH_RE), (m) => epochOrDelta(Number(m[1]), now), now)],
  ];
  for (const [form, find] of tiers) {
    const found = find();
    if (typeof found === 'number') return form === 'retry-after' ? finerThanRetryAfter(found, s, now) : { resetAt: found, form };
    if (found) return found;
  }
  return undefined;
}

/**
 * Retry-After has whole seconds: a sliding window that frees a slot in 0.1 s says 1. When the
 * provider's own per-kind reset is in that last second, it is the same instant, exactly: a
 * paced run then waits 0.1 s instead of 1 s at every limit it meets.
 */
function finerThanRetryAfter(retryAt: number, s: string, now: number): Reset {
  const fine = perKindReset(s, now);
  if (fine && fine.resetAt <= retryAt && fine.resetAt > retryAt - 1000) return fine;
  return { resetAt: retryAt, form: 'retry-after' };
}

/** The value from the last item that gives an instant not before now. */
function latest<T>(items: Iterable<T>, value: (item: T) => number | undefined, now: number): number | undefined {
  for (const item of [...items].slice(-MAX_TRIES).reverse()) {
    const at = value(item);
    if (at !== undefined && Number.isFinite(at) && at >= now) return Math.round(at);
  }
  return undefined;
}

/** `[lowercased name, value]` of each `Name: value` line or `'name': 'value'` dict entry, in order. */
function headers(s: string, name: string): Array<[string, string]> {
  // The optional backslash reads headers dumped inside a JSON string (\"retry-after\": \"1\");
  // the value is read in a lookahead so that the next entry of a one-line dict is still found.
  const re = new RegExp(`(?<![\\w-])\\\\?["']?(${name})\\\\?["']?[ \\t]{0,4}[:=][ \\t]{0,4}(?=([^\\r\\n]{0,200}))`, 'gi');
  return [...s.matchAll(re)].map((m) => [(m[1] ?? '').toLowerCase(), unquote(m[2] ?? '')]);
}

function unquote(v: string): string {
  const quoted = /^\\?(["'])([^"'\\]{0,200})/.exec(v);
  return (quoted ? (quoted[2] ?? '') : v).trim();
}

function leadingNumber(v: string): number | undefined {
  const m = /^\d{1,16}(?:\.\d{1,9})?(?![\w.:-])/.exec(v);
  return m ? Number(m[0]) : undefined;
}

function plus(now: number, ms: number | undefined): number | undefined {
  return ms === undefined ? undefined : now + ms;
}

function epochOrDelta(n: number | undefined, now: number): number | undefined {
  if (n === undefined || !Number.isFinite(n)) return undefined;
  return n >= 1e12 ? n : n >= 1e9 ? n * 1000 : now + n * 1000;
}

/** A duration ("1m30s", "2 hours 3 minutes"), or bare seconds. */
function delay(text: string, now: number): number | undefined {
  const d = DURATION_AT_START.exec(text);
  if (d) return parseResetTime(`in ${d[0]}`, now);
  const n = leadingNumber(text);
  return n === undefined ? undefined : now + n * 1000;
}

function retryAfter(v: string, now: number): number | undefined {
  const n = leadingNumber(v);
  if (n !== undefined) return now + n * 1000;
  if (!/^(?:mon|tue|wed|thu|fri|sat|sun)/i.test(v)) return undefined;
  const at = parseResetTime(v, now);
  // An HTTP date has whole seconds: a reset within the last two is "now", not "no reset" (the long default wait).
  return at !== undefined && at < now && at >= now - 2000 ? now : at;
}

function retryDelay(m: RegExpMatchArray, now: number): number | undefined {
  if (m[1] !== undefined) return now + Number(m[1]) * 1000;
  return now + Number(m[2]) * 1000 + Number(m[3] ?? 0) / 1e6;
}

function resetsAt(text: string, now: number, opts?: ParseResetTimeOptions): number | undefined {
  // A following sentence may hold other dates ("… at 5pm. Created 2026-01-01 …").
  return parseResetTime(text.split(/\.[ \t]+(?=[A-Z])/)[0] ?? '', now, opts);
}

function perKindReset(s: string, now: number): Reset | undefined {
  const resets = new Map<string, Reset>();
  const exhausted = new Set<string>();
  for (const [name, v] of headers(s, RL_HEADERS)) {
    const kind = name.replace(/-(?:reset|remaining)(?=-|$)/, '');
    if (/-remaining(?:-|$)/.test(name)) {
      const left = leadingNumber(v);
      if (left === 0) exhausted.add(kind);
      else if (left !== undefined) exhausted.delete(kind);
      continue;
    }
    const anthropic = name.startsWith('anthropic');
    const at = anthropic ? isoOrEpoch(v, now) : /-(?:requests|tokens)$/.test(name) ? delay(v, now) : plainReset(v, now);
    if (at !== undefined)
      resets.set(kind, { resetAt: Math.round(at), form: anthropic ? 'anthropic-ratelimit-reset' : 'x-ratelimit-reset' });
  }
  const live = [...resets].filter(([, r]) => Number.isFinite(r.resetAt) && r.resetAt >= now);
  const pool = live.some(([k]) => exhausted.has(k)) ? live.filter(([k]) => exhausted.has(k)) : live;
  return pool.map(([, r]) => r).reduce<Reset | undefined>((a, b) => (a && a.resetAt >= b.resetAt ? a : b), undefined);
}

function plainReset(v: string, now: number): number | undefined {
  const n = leadingNumber(v);
  return n !== undefined ? epochOrDelta(n, now) : delay(v, now);
}

function isoOrEpoch(v: string, now: number): number | undefined {
  const n = leadingNumber(v);
  if (n !== undefined) return epochOrDelta(n, now);
  const iso = /^\d{4}-\d\d-\d\dT[\d:.]{5,18}(?:Z|[+-]\d\d:?\d\d)?/i.exec(v);
  const dt = iso ? DateTime.fromISO(iso[0], { zone: 'utc' }) : undefined;
  return dt?.isValid ? dt.toMillis() : undefined;
}

function findQuota(s: string, hasReset: boolean): string | undefined {
  for (const re of QUOTAS) {
    const m = lastMatch(re, s);
    if (m) return m[0];
  }
  const gemini = lastMatch(GEMINI_RE, s);
  if (gemini) {
    const at = gemini.index ?? 0;
    return PER_DAY_RE.test(s.slice(Math.max(0, at - NEAR), at + NEAR)) || !hasReset ? gemini[0] : undefined;
  }
  return lastMatch(QUOTA_EXCEEDED, s)?.[0];
}

function lastMatch(re: RegExp, s: string): RegExpMatchArray | undefined {
  let last: RegExpMatchArray | undefined;
  for (const m of s.matchAll(re)) last = m;
  return last;
}

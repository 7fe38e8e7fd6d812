import type { Experiment } from '../config/schema';
import { findRateLimitHints } from '../ratelimit/hints';
import { parseResetTime } from '../ratelimit/resetTime';
import type { AttemptResult } from './attempt';
import { judgeAttempt, metricsIn, parseResult, rateLimitIn, usageIn } from './outcome';
import type { UnitAnswer } from './workerProtocol';

type Rules = Pick<Experiment, 'result' | 'rateLimit'>;

/** What judging a worker's answer needs besides the answer: the result's text as saved or found, and the unit's output. */
export interface AnswerFacts {
  /** The result's text: the answer's `result`, or the file the worker wrote; undefined when neither. */
  readonly resultText?: string;
  /** Why the worker's result file was not read (a link, too big). */
  readonly resultProblem?: string;
  /** The unit's stderr, when it was the only unit on its worker: searched for rate limits as a process's output is. */
  readonly output: string;
}

const MAX_WHY_CHARS = 2000;

/**
 * A worker's answer for one unit, as an attempt's outcome: the same rules as a process unit's
 * (README, "Result rules"; rate limits by the user's patterns and the standard signals). A
 * `result` is judged as a result file would be; an `error` is a rate limit when its text says so.
 */
export function judgeAnswer(a: UnitAnswer, f: AnswerFacts, config: Rules, now: number): Omit<AttemptResult, 'durationMs'> {
  const zone = { defaultZone: config.rateLimit.timeZone };
  const spent = usageOf(a, f.resultText, config.result);
  const withUsage = <T extends object>(r: T): T & Pick<AttemptResult, 'usage'> => (spent ? { ...r, usage: spent } : r);
  if (a.type === 'result') {
    const v = judgeAttempt(
      { exitCode: 0, signal: null, timedOut: false, output: f.output, resultText: f.resultText, resultProblem: f.resultProblem },
      config,
      now,
    );
    const metrics = config.result.metrics ? metricsIn(parseResult(f.resultText), config.result.metrics) : undefined;
    return withUsage({ status: v.status, why: v.why, resetAt: v.resetAt, quota: v.quota, ...(metrics ? { metrics } : {}) });
  }
  const said = [a.message, a.traceback].filter((s): s is string => s !== undefined).join('\n');
  const why = capped(a.message?.trim() || (a.type === 'error' ? 'the worker reported an error' : 'rate limited'));
  if (a.type === 'error') {
    const rl = rateLimitIn({ exitCode: null, output: `${said}\n${f.output}` }, config.rateLimit, now);
    if (rl) return withUsage({ ...rl, why: `${rl.why} (the worker's error: ${capped(why, 200)})` });
    return withUsage({ status: 'error', why });
  }
  const text = `${said}\n${headerLines(a.headers)}`;
  const hint = findRateLimitHints(text, now, zone);
  const resetAt = resetOf(a.resetAt, now, zone) ?? (a.retryAfterSeconds !== undefined ? now + a.retryAfterSeconds * 1000 : hint.resetAt);
  return withUsage({ status: 'rate_limited', why, resetAt, ...(hint.quota !== undefined ? { quota: hint.quota } : {}) });
}

/** `resetAt` as epoch ms: a number (ms; a number of seconds is taken as such), or any text a reset hint may be. */
function resetOf(v: number | string | undefined, now: number, zone: { defaultZone?: string }): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Number.isFinite(v) ? (v < 1e11 ? v * 1000 : v) : undefined;
  return parseResetTime(v, now, zone);
}

function usageOf(a: UnitAnswer, resultText: string | undefined, rule: Experiment['result']): AttemptResult['usage'] {
  const fromRule =
    a.type === 'result' && (rule.cost !== undefined || rule.tokens !== undefined) ? usageIn(parseResult(resultText), rule) : undefined;
  const usd = a.usage?.costUSD ?? fromRule?.usd;
  const tok = a.usage?.tokens ?? fromRule?.tok;
  if (usd === undefined && tok === undefined) return undefined;
  return { ...(usd !== undefined ? { usd } : {}), ...(tok !== undefined ? { tok } : {}) };
}

function headerLines(h: Readonly<Record<string, unknown>> | undefined): string {
  if (!h) return '';
  return Object.entries(h)
    .slice(0, 200)
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
}

function capped(s: string, max = MAX_WHY_CHARS): string {
  return s.length > max ? `${s.slice(0, max)}… (${s.length} characters)` : s;
}

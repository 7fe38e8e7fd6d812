import type { Experiment } from '../config/schema';
import { resultSource, STORED_RESULT } from '../config/resultRule';
import { findRateLimitHints, findResetHint } from '../ratelimit/hints';
import { parseResetTime } from '../ratelimit/resetTime';
import type { Outcome } from '../store/events';

export interface Verdict {
  readonly status: Outcome;
  readonly why?: string;
  /** Rate limits: when the API said it resets (epoch ms), if it said. */
  readonly resetAt?: number;
  /** Rate limits: the quota words found (insufficient_quota, a daily limit…): not a minute's limit, the run parks. */
  readonly quota?: string;
}

export interface AttemptFacts {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly spawnError?: string;
  readonly output: string;
  /** The result's text (the file, or the printed JSON line), or undefined when there is none. */
  readonly resultText: string | undefined;
  /** Why the result file was not read (a FIFO, a symlink, too big): an error, said as such. */
  readonly resultProblem?: string;
}

/**
 * What a result says. `rerun`: it is not a result yet (cut short, not valid JSON, marked not
 * done, or without a verdict under `missing: "rerun"`): never adopted, and an attempt that
 * leaves one is an error.
 */
export interface ResultVerdict {
  readonly status: 'passed' | 'failed' | 'error' | 'rerun';
  readonly why?: string;
}

type Rules = Pick<Experiment, 'result' | 'rateLimit'>;

/**
 * The outcome rules (README, "Result rules"), as a pure function. Rate limits are checked only
 * on an unsuccessful attempt: a passing unit may well print "429" in its own output. `shown`
 * is how messages name the result (its file name).
 */
export function judgeAttempt(f: AttemptFacts, config: Rules, now: number, shown = resultName(config.result)): Verdict {
  if (f.timedOut) return { status: 'error', why: 'timed out' };
  if (f.exitCode === 0 && !f.spawnError && !f.signal) {
    const v = judgeSuccess(f, config.result, shown);
    if (v.status === 'passed' || v.status === 'failed')
      return v.why === undefined ? { status: v.status } : { status: v.status, why: v.why };
    // A result that is no verdict (a judge that hit its usage limit) may be a rate limit.
    return rateLimitIn(f, config.rateLimit, now) ?? { status: 'error', why: v.why };
  }
  const rl = rateLimitIn(f, config.rateLimit, now);
  if (rl) return rl;
  if (f.spawnError) return { status: 'error', why: `could not start: ${f.spawnError}` };
  if (f.signal) return { status: 'error', why: `killed by ${f.signal}` };
  if (config.result.from === 'exit' && !(config.result.errorExitCodes ?? []).includes(f.exitCode!))
    return { status: 'failed', why: `exit code ${f.exitCode}` };
  return { status: 'error', why: `exit code ${f.exitCode}${lastWords(f.output)}` };
}

/**
 * " — RuntimeError: …": the output's last line, where a traceback names its exception, so a
 * bare "exit code 1" in `status --errors` and at the end of a run says what went wrong.
 */
function lastWords(output: string): string {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0 && i >= lines.length - 20; i--) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    return ` — ${line.length > 200 ? line.slice(0, 197) + '...' : line}`;
  }
  return '';
}

/** An attempt that exited 0: what its result says, by where the rule reads it. */
function judgeSuccess(f: AttemptFacts, rule: Experiment['result'], shown: string): ResultVerdict {
  const src = resultSource(rule);
  if (src.kind === 'exit') return { status: 'passed' };
  if (f.resultProblem !== undefined) return { status: 'error', why: f.resultProblem };
  if (f.resultText === undefined) {
    if (src.kind === 'auto') return { status: 'passed' };
    if (src.kind === 'stdout') return { status: 'error', why: 'exit 0 but no line of the output is a JSON object' };
    return { status: 'error', why: `exit 0 but no ${shown}` };
  }
  return judgeResult(f.resultText, rule, shown);
}

type Threshold = Exclude<NonNullable<Experiment['result']['passed']>, string>;

/** `{ "field": "score", "atLeast": 0.5 }`: a number at the bar passes; no number is what `missing` says. */
function judgeNumber(v: unknown, t: Threshold, rule: Experiment['result'], shown: string): ResultVerdict {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) {
    const why = `${shown} has no number "${t.field}" (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`;
    return { status: rule.missing ?? 'error', why };
  }
  if (t.atLeast !== undefined && n < t.atLeast) return { status: 'failed', why: `${t.field} is ${n}, below ${t.atLeast}` };
  if (t.atMost !== undefined && n > t.atMost) return { status: 'failed', why: `${t.field} is ${n}, above ${t.atMost}` };
  return { status: 'passed' };
}

/** How messages name a rule's result: its file name. */
export function resultName(rule: Experiment['result']): string {
  if (rule.file !== undefined) return rule.file;
  const p = rule.path === undefined ? undefined : typeof rule.path === 'string' ? rule.path : rule.path[0];
  return p !== undefined ? p.slice(p.lastIndexOf('/') + 1) : STORED_RESULT;
}

export function judgeResult(text: string, rule: Experiment['result'], shown = resultName(rule)): ResultVerdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { status: 'rerun', why: `${shown} is not valid JSON: ${(e as Error).message}` };
  }
  for (const nd of rule.notDone === undefined ? [] : Array.isArray(rule.notDone) ? rule.notDone : [rule.notDone]) {
    const v = dotted(value, nd.field);
    if (v === undefined) continue;
    const textOf = typeof v === 'string' ? v : JSON.stringify(v);
    const m = new RegExp(nd.pattern, 'i').exec(textOf);
    if (m) return { status: 'rerun', why: `${shown} is not finished: ${nd.field} has ${JSON.stringify(m[0].slice(0, 80))}` };
  }
  const pass = rule.passed ?? 'passed';
  if (typeof pass !== 'string') return judgeNumber(dotted(value, pass.field), pass, rule, shown);
  const field = pass;
  const v = dotted(value, field);
  if (v === true || v === 1 || v === 'true' || v === 'pass' || v === 'passed') return { status: 'passed' };
  if (v === false || v === 0 || v === 'false' || v === 'fail' || v === 'failed')
    return { status: 'failed', why: `${field} is ${JSON.stringify(v)}` };
  const why = `${shown} has no boolean "${field}" (got ${v === undefined ? 'nothing' : JSON.stringify(v)})`;
  const missing = rule.missing ?? 'error';
  return { status: missing, why };
}

/** The last line of the output that is a JSON object: what a `from: "stdout"` unit printed as its result. */
export function lastJsonLine(output: string): string | undefined {
  let end = output.length;
  while (end > 0) {
    const start = output.lastIndexOf('\n', end - 1) + 1;
    const line = output.slice(start, end).trim();
    end = start - 1;
    if (!line.startsWith('{') || !line.endsWith('}')) continue;
    try {
      const v: unknown = JSON.parse(line);
      if (v && typeof v === 'object' && !Array.isArray(v)) return line;
    } catch {
      // Not JSON after all: an earlier line may be.
    }
  }
  return undefined;
}

/**
 * A rate limit in an unsuccessful attempt's output: an exit code or pattern of the user's, or
 * (unless `standardSignals` is off) a standard answer such as an HTTP 429 status line. The
 * reset comes from the user's named group `reset`, else from the standard hints
 * (Retry-After, x-ratelimit-reset-*, "try again in 20s"…) wherever the output has them.
 */
export function rateLimitIn(f: Pick<AttemptFacts, 'exitCode' | 'output'>, rule: Experiment['rateLimit'], now: number): Verdict | undefined {
  const byCode = f.exitCode !== null && rule.exitCodes.includes(f.exitCode);
  let resetAt: number | undefined;
  let matched: string | undefined;
  for (const p of rule.patterns) {
    const m = new RegExp(p, 'i').exec(f.output);
    if (!m) continue;
    matched ??= m[0];
    const reset = m.groups?.reset;
    if (reset !== undefined && resetAt === undefined) resetAt = parseResetTime(reset, now, { defaultZone: rule.timeZone });
  }
  const zone = { defaultZone: rule.timeZone };
  const hint = rule.standardSignals !== false ? findRateLimitHints(f.output, now, zone) : undefined;
  if (!byCode && matched === undefined && hint?.signal === undefined) return undefined;
  resetAt ??= hint ? hint.resetAt : findResetHint(f.output, now, zone)?.resetAt;
  // A reset time may be printed even when only the exit code flagged the rate limit.
  const why = byCode
    ? `exit code ${f.exitCode}`
    : matched !== undefined
      ? `output matched ${JSON.stringify(matched.slice(0, 80))}`
      : `the output says ${JSON.stringify(hint!.signal)}`;
  const verdict: Verdict = { status: 'rate_limited', why, resetAt };
  return hint?.quota !== undefined ? { ...verdict, quota: hint.quota } : verdict;
}

/**
 * The `result.metrics` an attempt's result has, as numbers (a number written as a string
 * counts; anything else is left out): summed and averaged per group by status and compare.
 */
export function metricsIn(value: unknown, fields: string | readonly string[] | undefined): Record<string, number> | undefined {
  if (fields === undefined || value === undefined) return undefined;
  let out: Record<string, number> | undefined;
  for (const f of typeof fields === 'string' ? [fields] : fields) {
    const v = dotted(value, f);
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isFinite(n)) (out ??= {})[f] = n;
  }
  return out;
}

/**
 * What an adopted result keeps in its journal line beside its verdict: its metrics and what it
 * says it spent (the attempt that wrote it spent it, though its end was never journaled).
 */
export function adoptedFacts(
  text: string,
  rule: Pick<Experiment['result'], 'cost' | 'tokens' | 'metrics'>,
): { m?: Record<string, number>; usd?: number; tok?: number } {
  if (rule.metrics === undefined && rule.cost === undefined && rule.tokens === undefined) return {};
  const value = parseResult(text);
  const m = metricsIn(value, rule.metrics);
  return { ...(m ? { m } : {}), ...usageIn(value, rule) };
}

/** What an attempt's result says it spent: `result.cost` and `result.tokens`, each a field or a sum of fields. */
export function usageIn(value: unknown, rule: Pick<Experiment['result'], 'cost' | 'tokens'>): { usd?: number; tok?: number } | undefined {
  const usd = sumOf(value, rule.cost);
  const tok = sumOf(value, rule.tokens);
  if (usd === undefined && tok === undefined) return undefined;
  return { ...(usd !== undefined ? { usd } : {}), ...(tok !== undefined ? { tok } : {}) };
}

function sumOf(value: unknown, fields: string | readonly string[] | undefined): number | undefined {
  if (fields === undefined) return undefined;
  let sum: number | undefined;
  for (const f of typeof fields === 'string' ? [fields] : fields) {
    const v = dotted(value, f);
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (Number.isFinite(n) && n >= 0) sum = (sum ?? 0) + n;
  }
  return sum;
}

/** A result's text as JSON, or undefined when it is not. */
export function parseResult(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function dotted(v: unknown, path: string): unknown {
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

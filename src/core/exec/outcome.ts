import type { Experiment } from '../config/schema';
import { parseResetTime } from '../ratelimit/resetTime';
import type { Outcome } from '../store/events';

export interface Verdict {
  readonly status: Outcome;
  readonly why?: string;
  /** Rate limits: when the API said it resets (epoch ms), if it said. */
  readonly resetAt?: number;
}

export interface AttemptFacts {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly spawnError?: string;
  readonly output: string;
  /** The result file's text, or undefined when there is none. */
  readonly resultText: string | undefined;
  /** Why the result file was not read (a FIFO, a symlink, too big): an error, said as such. */
  readonly resultProblem?: string;
}

/**
 * The outcome rules (README, "Outcomes"), as a pure function. Rate limits are checked first and
 * only on an unsuccessful attempt: a passing unit may well print "429" in its own output.
 */
export function judgeAttempt(f: AttemptFacts, config: Pick<Experiment, 'result' | 'rateLimit'>, now: number): Verdict {
  if (f.timedOut) return { status: 'error', why: 'timed out' };
  const succeeded = f.exitCode === 0 && f.resultText !== undefined;
  if (!succeeded) {
    const rl = rateLimitIn(f, config.rateLimit, now);
    if (rl) return rl;
  }
  if (f.spawnError) return { status: 'error', why: `could not start: ${f.spawnError}` };
  if (f.signal) return { status: 'error', why: `killed by ${f.signal}` };
  if (f.exitCode !== 0) return { status: 'error', why: `exit code ${f.exitCode}` };
  if (f.resultProblem !== undefined) return { status: 'error', why: f.resultProblem };
  if (f.resultText === undefined) return { status: 'error', why: `exit 0 but no ${config.result.file}` };
  return judgeResult(f.resultText, config.result);
}

export function judgeResult(text: string, rule: Experiment['result']): Verdict {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { status: 'error', why: `${rule.file} is not valid JSON: ${(e as Error).message}` };
  }
  const field = rule.passed ?? 'passed';
  const v = dotted(value, field);
  if (v === true || v === 1 || v === 'true' || v === 'pass' || v === 'passed') return { status: 'passed' };
  if (v === false || v === 0 || v === 'false' || v === 'fail' || v === 'failed')
    return { status: 'failed', why: `${field} is ${JSON.stringify(v)}` };
  return { status: 'error', why: `${rule.file} has no boolean "${field}" (got ${v === undefined ? 'nothing' : JSON.stringify(v)})` };
}

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
  if (!byCode && matched === undefined) return undefined;
  // A reset time may be printed even when only the exit code flagged the rate limit.
  const why = byCode ? `exit code ${f.exitCode}` : `output matched ${JSON.stringify(matched!.slice(0, 80))}`;
  return { status: 'rate_limited', why, resetAt };
}

function dotted(v: unknown, path: string): unknown {
  for (const k of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

import type { AttemptResult } from '../exec/attempt';
import { defaultPauseMs } from './backoff';

/**
 * Rate-limit answers one unit may get in a row before the next counts as an error (an
 * attempt, retried with backoff like any error). A unit whose own output always looks like a
 * limit (a traceback that quotes "Too Many Requests", a pattern "429" meeting `line 429`)
 * would otherwise pause the run again and again and never end. Ten: a real limit clears
 * within a few pauses (a provider's reset is seconds to minutes away, and the default pause
 * doubles), so ten answers in a row from one unit are far more likely its own output.
 */
export const RATE_LIMITS_IN_A_ROW = 10;

/**
 * Below this the cap is not lowered: a file whose default pause parks the run at once (or at
 * the second pause) asked to park early, and gets it.
 */
const FEWEST_IN_A_ROW = 3;

/**
 * The cap for a run's rate-limit settings. Without a reset time the pause doubles with each
 * one in a row and parks the run (exit 2) once it passes `maxWaitSeconds`: with the defaults
 * (60 s, 3600 s) the 7th. A cap past that never fired (a traceback's `line 429` parked the
 * run again and again), so the cap is the streak whose pause would park, when that is sooner.
 */
export function rateLimitCap(rl: { readonly defaultWaitSeconds: number; readonly maxWaitSeconds: number }): number {
  for (let n = FEWEST_IN_A_ROW; n < RATE_LIMITS_IN_A_ROW; n++) {
    if (defaultPauseMs(n, rl.defaultWaitSeconds, Infinity) > rl.maxWaitSeconds * 1000) return n;
  }
  return RATE_LIMITS_IN_A_ROW;
}

export class RateLimitStreaks {
  private readonly streaks = new Map<string, number>();

  constructor(private readonly cap = RATE_LIMITS_IN_A_ROW) {}

  /** The result to act on: at the cap a rate limit becomes an error that says why. */
  judge(unitId: string, result: AttemptResult): AttemptResult {
    if (result.status !== 'rate_limited' || result.quota !== undefined) {
      this.streaks.delete(unitId);
      return result;
    }
    const n = (this.streaks.get(unitId) ?? 0) + 1;
    // The cap is lowered for the doubling default pause; an answer that said when the limit
    // resets (an API's own word, paused for that long) is held to the plain one: many units
    // sharing a small quota each meet several such answers in a row.
    const cap = result.resetAt !== undefined ? Math.max(this.cap, RATE_LIMITS_IN_A_ROW) : this.cap;
    if (n < cap) {
      this.streaks.set(unitId, n);
      return result;
    }
    this.streaks.delete(unitId);
    return { ...result, status: 'error', why: streakWhy(cap, result.why), resetAt: undefined };
  }
}

/** Names the setting that most likely misfired, from the verdict's own words (src/core/exec/outcome.ts). */
function streakWhy(n: number, why: string | undefined): string {
  const said = why ?? 'rate limited';
  const check = said.startsWith('output matched')
    ? 'the rate-limit pattern may match something that is not a rate limit (e.g. a line number); check rateLimit.patterns'
    : said.startsWith('exit code')
      ? 'the exit code may mean something else for this unit; check rateLimit.exitCodes'
      : "is the rate-limit signal in the unit's own output? Check it, or set rateLimit.standardSignals to false";
  return `rate limited ${n} times in a row: ${check} (last: ${said}); counted as an error`;
}

import type { AttemptResult } from '../exec/attempt';

/**
 * Rate-limit answers one unit may get in a row before the next counts as an error (an
 * attempt, retried with backoff like any error). A unit whose own output always looks like a
 * limit (a traceback that quotes "Too Many Requests", a request larger than the tokens a
 * minute allow) would otherwise pause the run again and again and never end.
 */
export const RATE_LIMITS_IN_A_ROW = 20;

export class RateLimitStreaks {
  private readonly streaks = new Map<string, number>();

  /** The result to act on: past the cap a rate limit becomes an error that says why. */
  judge(unitId: string, result: AttemptResult): AttemptResult {
    if (result.status !== 'rate_limited' || result.quota !== undefined) {
      this.streaks.delete(unitId);
      return result;
    }
    const n = (this.streaks.get(unitId) ?? 0) + 1;
    if (n < RATE_LIMITS_IN_A_ROW) {
      this.streaks.set(unitId, n);
      return result;
    }
    this.streaks.delete(unitId);
    return {
      ...result,
      status: 'error',
      why: `rate limited ${RATE_LIMITS_IN_A_ROW} times in a row, so counted as an error (is the rate-limit signal in the unit's own output?): ${result.why ?? 'rate limited'}`,
      resetAt: undefined,
    };
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveLimit } from '../../src/core/ratelimit/adaptive';
import { TokenBucket } from '../../src/core/ratelimit/tokenBucket';
import { NO_FLEET, Throttle, type FleetFacts } from '../../src/core/run/throttle';
import type { Spend } from '../../src/core/model/view';

/** Successes ending every `everyMs` from `from` for `count` units, each started `latencyMs` before. */
function succeed(a: AdaptiveLimit, from: number, count: number, everyMs: number, latencyMs = 100): number {
  let t = from;
  for (let i = 0; i < count; i++) {
    t += everyMs;
    a.succeeded(t - latencyMs, t);
  }
  return t;
}

test('a rate limit cuts the limit to 70% once per round: a limit met by a unit started before the cut does not cut again', () => {
  const a = new AdaptiveLimit(16, true, 0);
  const t = succeed(a, 0, 50, 100); // 10 a second for 5 s
  assert.equal(a.rateLimited(t - 100, t), true);
  assert.equal(a.limit, 11);
  assert.equal(a.rateLimited(t - 50, t + 10), false, 'started before the cut: the same overload seen late');
  assert.equal(a.limit, 11);
  assert.equal(a.rateLimited(t + 20, t + 200), true, 'started after it: a new round');
  assert.equal(a.limit, 7);
});

test('the first cut paces dispatch at 90% of the goodput measured before it; the pace is back to that goodput 10 s later (CUBIC), then grows faster', () => {
  const a = new AdaptiveLimit(16, true, 0);
  assert.equal(a.rate, Infinity, 'unbounded before any rate limit');
  let t = succeed(a, 0, 50, 100);
  a.rateLimited(t - 100, t);
  assert.ok(Math.abs(a.rate - 9) < 0.25, `paced at ~9/s, got ${a.rate}`);
  t = succeed(a, t, 90, 111); // ~10 s of successes at the paced rate
  assert.ok(Math.abs(a.rate - 10) < 0.3, `back at the measured 10/s after 10 s, got ${a.rate.toFixed(3)}`);
  assert.equal(a.limit, 16, 'back to the maximum: +1 per round of units in flight');
  assert.ok(a.rateAt(t + 5000) - a.rateAt(t) < 0.2, 'flat around the goodput the limit was met at');
  assert.ok(a.rateAt(t + 30_000) > 2 * a.rateAt(t), 'then faster and faster: the limit may have been raised');
});

test('pacing: after a cut the next dispatch waits for the bucket; at the paced rate it never runs ahead', () => {
  const a = new AdaptiveLimit(8, true, 0);
  const t = succeed(a, 0, 50, 100);
  a.rateLimited(t - 100, t);
  let now = t;
  const starts: number[] = [];
  while (starts.length < 20) {
    const d = a.delayMs(now);
    if (d > 0) now += d;
    else {
      a.dispatched(now);
      starts.push(now);
    }
  }
  const perSecond = (starts.length - 1) / ((starts[starts.length - 1]! - starts[0]!) / 1000);
  const pace = a.rateAt(now);
  assert.ok(perSecond <= pace * 1.05, `${perSecond.toFixed(2)}/s at a pace of at most ${pace.toFixed(2)}/s`);
});

test('adaptive off: the limit stays the configured concurrency and nothing is paced', () => {
  const a = new AdaptiveLimit(12, false, 0);
  succeed(a, 0, 20, 100);
  assert.equal(a.rateLimited(1900, 2000), false);
  assert.equal(a.limit, 12);
  assert.equal(a.delayMs(2001), 0);
  assert.equal(a.adapting, false);
});

test('a cut taken by another shard cuts this one too, at most once per 10 s of its own cuts (the shards are one flow)', () => {
  const a = new AdaptiveLimit(10, true, 0);
  assert.equal(a.cutByFleet(20_000), true);
  assert.equal(a.limit, 7);
  assert.equal(a.cutByFleet(25_000), false);
  assert.equal(a.cutByFleet(30_100), true);
  a.rateLimited(30_500, 31_000);
  assert.equal(a.cutByFleet(35_000), false, 'its own cut counts too');
});

test('a burst of ends within milliseconds is measured over a second, not read as thousands a second', () => {
  const a = new AdaptiveLimit(16, true, 0);
  for (let i = 0; i < 15; i++) a.succeeded(4000, 5000 + i);
  a.rateLimited(4500, 5020);
  assert.ok(a.rate <= 14 * 0.9 + 1e-9, `paced at ${a.rate}/s`);
});

test('token bucket: a debt is paid by the refill before the next dispatch', () => {
  const b = new TokenBucket(10, 10, 0);
  assert.equal(b.delayMs(1, 0), 0);
  b.take(25, 0); // an attempt used far more than reserved: 15 in debt
  assert.equal(b.delayMs(1, 0), 1600);
  assert.equal(b.delayMs(1, 1600), 0);
});

function throttle(budget: { maxCostUSD?: number; maxTokens?: number }, spend: Spend, fleet: FleetFacts = NO_FLEET): Throttle {
  const rateLimit = {
    exitCodes: [],
    patterns: [],
    standardSignals: true,
    adaptive: true,
    maxWaitSeconds: 3600,
    defaultWaitSeconds: 60,
    bufferSeconds: 5,
  };
  return new Throttle(
    4,
    { rateLimit, budget },
    () => spend,
    () => fleet,
    0,
  );
}

test('spend limit: go, hold while the units in flight could reach it, exhausted once reached; other shards count', () => {
  assert.deepEqual(throttle({}, { usd: 100, tokens: 0, attempts: 1 }).budget(4), { kind: 'go' });
  // $0.10 a unit so far, $0.80 spent of $1: one more with 1 in flight reaches $1.00, fine; with 2 in flight, hold.
  const near = { usd: 0.8, tokens: 0, attempts: 8 };
  assert.equal(throttle({ maxCostUSD: 1 }, near).budget(0).kind, 'go');
  assert.equal(throttle({ maxCostUSD: 1 }, near).budget(2).kind, 'hold');
  const reached = throttle({ maxCostUSD: 1 }, { usd: 1.0, tokens: 0, attempts: 10 }).budget(0);
  assert.equal(reached.kind, 'exhausted');
  const fleet = { liveShards: 3, others: { usd: 0.5, tokens: 0, inFlight: 0, goodput: 0 } };
  assert.equal(
    throttle({ maxCostUSD: 1 }, { usd: 0.5, tokens: 0, attempts: 5 }, fleet).budget(0).kind,
    'exhausted',
    'summed over the shards',
  );
  assert.equal(throttle({ maxTokens: 1000 }, { usd: 0, tokens: 1000, attempts: 3 }).budget(0).kind, 'exhausted');
});

test('a shard of a fleet paces at an equal share of the goodput all live shards measured', () => {
  let others = { others: 0, live: 1 };
  const a = new AdaptiveLimit(16, true, 0, () => others);
  const t = succeed(a, 0, 50, 200); // this shard: 5 a second
  others = { others: 13, live: 3 }; // the other two: 13 a second together
  a.rateLimited(t - 100, t);
  assert.ok(Math.abs(a.rate - 0.9 * 6) < 0.2, `paced at 90% of 18/3, got ${a.rate}`);
});

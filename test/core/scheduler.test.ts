import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Unit } from '../../src/core/config/units';
import type { AttemptExecutor, AttemptResult } from '../../src/core/exec/attempt';
import { Scheduler, type SchedulerOptions } from '../../src/core/run/scheduler';
import { RATE_LIMITS_IN_A_ROW, rateLimitCap } from '../../src/core/run/rateLimitStreaks';
import { FakeClock } from '../helpers/fakeClock';

function units(n: number): Unit[] {
  return Array.from({ length: n }, (_, i) => ({ id: `u${i}`, item: { id: `u${i}`, fields: {}, where: {} }, cell: {}, group: '' }));
}

/** An executor whose attempts end after `ms` on the fake clock with what `answer` says. */
function fakeExecutor(clock: FakeClock, answer: (id: string, attempt: number) => Partial<AttemptResult>, ms = 100) {
  const log: { id: string; attempt: number; at: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const exec: AttemptExecutor = {
    start(unit, attempt) {
      log.push({ id: unit.id, attempt, at: clock.now() });
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let resolve!: (r: AttemptResult) => void;
      const done = new Promise<AttemptResult>((r) => (resolve = r));
      const h = clock.setTimeout(() => {
        inFlight--;
        resolve({ status: 'passed', durationMs: ms, ...answer(unit.id, attempt) });
      }, ms);
      return {
        done,
        kill: () => {
          clock.clearTimeout(h);
          inFlight--;
          resolve({ status: 'error', why: 'killed', durationMs: 0 });
        },
      };
    },
  };
  return { exec, log, maxInFlight: () => maxInFlight };
}

function options(clock: FakeClock, exec: AttemptExecutor, over: Partial<SchedulerOptions> = {}) {
  const ends: { id: string; status: string }[] = [];
  const endTimes = new Map<string, number>();
  const pauses: { until: number; src: string }[] = [];
  let unpauses = 0;
  const attempts = new Map<string, number>();
  const o: SchedulerOptions = {
    concurrency: 4,
    maxAttempts: 3,
    backoffSeconds: [5, 300],
    graceMs: 1000,
    clock,
    random: () => 0.5,
    executor: exec,
    rateLimit: { maxWaitSeconds: 3600, defaultWaitSeconds: 60, bufferSeconds: 5 },
    attemptsSoFar: (id) => attempts.get(id) ?? 0,
    hooks: {
      started: () => undefined,
      ended: (u, a, r) => {
        if (r !== 'interrupted' && r.status !== 'rate_limited') attempts.set(u.id, a);
        ends.push({ id: u.id, status: r === 'interrupted' ? 'interrupted' : r.status });
        endTimes.set(u.id, clock.now());
      },
      paused: (until, src) => pauses.push({ until, src }),
      unpaused: () => unpauses++,
      failed: (e) => {
        throw e;
      },
    },
    ...over,
  };
  return { o, ends, endTimes, pauses, unpauses: () => unpauses };
}

test('runs every unit once with bounded concurrency', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({}));
  const s = options(clock, f.exec);
  const end = new Scheduler(units(10), s.o).run();
  await clock.advance(10_000);
  assert.deepEqual(await end, { reason: 'completed' });
  assert.equal(f.log.length, 10);
  assert.equal(f.maxInFlight(), 4);
});

test('errors are retried with exponential backoff up to maxAttempts', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({ status: 'error', why: 'boom' }));
  const s = options(clock, f.exec, { concurrency: 1 });
  const end = new Scheduler(units(1), s.o).run();
  await clock.advance(60_000);
  await end;
  assert.deepEqual(
    f.log.map((l) => l.attempt),
    [1, 2, 3],
  );
  // backoff with random()=0.5: 5 s * 0.75 after attempt 1, 10 s * 0.75 after attempt 2.
  assert.equal(f.log[1]!.at - f.log[0]!.at, 100 + 3750);
  assert.equal(f.log[2]!.at - f.log[1]!.at, 100 + 7500);
});

test('a rate limit re-queues the unit, pauses every dispatch until reset + a tenth of the wait, then resumes by itself', async () => {
  const clock = new FakeClock();
  const t0 = clock.now();
  let limited = false;
  const f = fakeExecutor(clock, (id) => {
    if (id === 'u2' && !limited) {
      limited = true;
      return { status: 'rate_limited', resetAt: t0 + 30_000 };
    }
    return {};
  });
  const s = options(clock, f.exec, { concurrency: 2 });
  const end = new Scheduler(units(6), s.o).run();
  await clock.advance(200);
  const endedAt = s.endTimes.get('u2')!;
  // The buffer is a tenth of the wait (at least 0.1 s, at most bufferSeconds = 5 s): 29.9 s → 2.99 s.
  const until = t0 + 30_000 + (t0 + 30_000 - endedAt) / 10;
  assert.deepEqual(s.pauses, [{ until, src: 'u2' }]);
  await clock.advance(20_000);
  const duringPause = f.log.filter((l) => l.at > t0 + 200 && l.at < until);
  assert.deepEqual(duringPause, [], 'nothing dispatched during the pause');
  await clock.advance(60_000);
  assert.deepEqual(await end, { reason: 'completed' });
  assert.equal(s.unpauses(), 1);
  const u2 = f.log.filter((l) => l.id === 'u2');
  assert.equal(u2.length, 2);
  assert.equal(u2[1]!.at, until, 'the rate-limited unit goes first after the pause');
  assert.equal(u2[1]!.attempt, 1, 'a rate limit does not use up an attempt');
  assert.ok(!s.ends.some((e) => e.status === 'error' || e.status === 'failed'));
});

test('a pause longer than maxWaitSeconds stops with paused_rate_limit', async () => {
  const clock = new FakeClock();
  const t0 = clock.now();
  const f = fakeExecutor(clock, (id) => (id === 'u0' ? { status: 'rate_limited', resetAt: t0 + 7200_000 } : {}));
  const s = options(clock, f.exec, { concurrency: 1 });
  const end = new Scheduler(units(3), s.o).run();
  await clock.advance(1000);
  assert.deepEqual(await end, { reason: 'paused_rate_limit', rateLimitedUntil: t0 + 7205_000 });
  assert.equal(f.log.length, 1);
});

test('without a reset time the default pause doubles with each pause in a row', async () => {
  const clock = new FakeClock();
  let n = 0;
  const f = fakeExecutor(clock, () => (n++ < 3 ? { status: 'rate_limited' } : {}));
  const s = options(clock, f.exec, { concurrency: 1 });
  const end = new Scheduler(units(1), s.o).run();
  await clock.advance(1000_000);
  await end;
  const gaps = s.pauses.map((p, i) => p.until - (i === 0 ? 0 : s.pauses[i - 1]!.until));
  assert.deepEqual(gaps.slice(1), [100 + 120_000, 100 + 240_000]);
});

test('stop: no new dispatch, in-flight units finish within the grace period', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({}), 500);
  const s = options(clock, f.exec, { concurrency: 2 });
  const sched = new Scheduler(units(10), s.o);
  const end = sched.run();
  await clock.advance(100);
  sched.stop();
  await clock.advance(5000);
  assert.deepEqual(await end, { reason: 'interrupted' });
  assert.equal(f.log.length, 2);
  assert.deepEqual(
    s.ends.map((e) => e.status),
    ['passed', 'passed'],
  );
});

test('stop: units past the grace period are killed and reported interrupted', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({}), 60_000);
  const s = options(clock, f.exec, { concurrency: 2, graceMs: 1000 });
  const sched = new Scheduler(units(4), s.o);
  const end = sched.run();
  await clock.advance(10);
  sched.stop();
  await clock.advance(2000);
  assert.deepEqual(await end, { reason: 'interrupted' });
  assert.deepEqual(
    s.ends.map((e) => e.status),
    ['interrupted', 'interrupted'],
  );
});

test('stop: a unit killed by a signal from outside while we stop (Slurm scancel signals the whole job) is interrupted, not an error', async () => {
  const clock = new FakeClock();
  // Unit u0 dies of SIGTERM 200 ms in (after the stop), u1 finishes normally; before a stop, a signal death is an error.
  const f = fakeExecutor(
    clock,
    (id) => (id === 'u0' || id === 'u2' ? { status: 'error', signal: 'SIGTERM', why: 'killed by SIGTERM' } : {}),
    200,
  );
  const s = options(clock, f.exec, { concurrency: 2 });
  const sched = new Scheduler(units(2), s.o);
  const end = sched.run();
  await clock.advance(50);
  sched.stop();
  await clock.advance(5000);
  assert.deepEqual(await end, { reason: 'interrupted' });
  assert.deepEqual(s.ends, [
    { id: 'u0', status: 'interrupted' },
    { id: 'u1', status: 'passed' },
  ]);

  const clock2 = new FakeClock();
  const f2 = fakeExecutor(
    clock2,
    (id, a) => (id === 'u0' && a === 1 ? { status: 'error', signal: 'SIGKILL', why: 'killed by SIGKILL' } : {}),
    200,
  );
  const s2 = options(clock2, f2.exec, { concurrency: 1 });
  const end2 = new Scheduler(units(1), s2.o).run();
  await clock2.advance(60_000);
  assert.deepEqual(await end2, { reason: 'completed' });
  assert.deepEqual(
    s2.ends.map((e) => e.status),
    ['error', 'passed'],
    'without a stop, a signal death spends an attempt and is retried',
  );
});

test('a unit that dies of SIGTERM just before the runner is told to stop (the same scancel) is interrupted, not an error', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({ status: 'error', signal: 'SIGTERM', why: 'killed by SIGTERM' }), 200);
  const s = options(clock, f.exec, { concurrency: 1 });
  const sched = new Scheduler(units(3), s.o);
  const end = sched.run();
  await clock.advance(200); // u0 dies of SIGTERM…
  await clock.advance(100); // …and our own SIGTERM handler runs a moment later
  sched.stop();
  await clock.advance(5000);
  assert.deepEqual(await end, { reason: 'interrupted' });
  assert.deepEqual(s.ends, [{ id: 'u0', status: 'interrupted' }]);
});

test('a unit that cannot be prepared stops dispatching: the failure is reported once, units in flight end, nothing else starts', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({}));
  const failures: string[] = [];
  const exec: AttemptExecutor = {
    start(unit, attempt, onSpawn) {
      if (unit.id === 'u5') throw new Error('ENOSPC: no space left on device');
      return f.exec.start(unit, attempt, onSpawn);
    },
  };
  const s = options(clock, exec);
  s.o.hooks.failed = (e) => {
    failures.push(e.message);
    scheduler.stop(); // what the runner does: finish the units in flight, then end
  };
  const scheduler = new Scheduler(units(20), s.o);
  const end = scheduler.run();
  await clock.advance(10_000);
  assert.deepEqual(await end, { reason: 'interrupted' });
  assert.deepEqual(failures, ['ENOSPC: no space left on device']);
  assert.deepEqual(
    f.log.map((l) => l.id),
    ['u0', 'u1', 'u2', 'u3', 'u4'],
    'nothing dispatched after the failure',
  );
  assert.deepEqual(
    s.ends.map((e) => `${e.id}:${e.status}`).sort(),
    ['u0:passed', 'u1:passed', 'u2:passed', 'u3:passed', 'u4:passed'],
    'the units in flight finished',
  );
});

test('a rate-limit pause ends on time when the wall clock steps back during it (an NTP step)', async () => {
  const clock = new FakeClock();
  const t0 = clock.now();
  let limited = false;
  const f = fakeExecutor(clock, (id) => {
    if (id === 'u0' && !limited) {
      limited = true;
      return { status: 'rate_limited', resetAt: t0 + 4_000 };
    }
    return {};
  });
  const s = options(clock, f.exec, { concurrency: 1 });
  const end = new Scheduler(units(3), s.o).run();
  await clock.advance(1_000);
  assert.equal(s.pauses.length, 1, 'paused on the rate limit');
  clock.stepWall(-2_000);
  // The pause was 4 s + 5 s buffer from t0 + 100 ms: well past it on the monotonic clock.
  await clock.advance(20_000);
  assert.deepEqual(await Promise.race([end, Promise.resolve('still paused')]), { reason: 'completed' });
  assert.equal(s.unpauses(), 1);
  assert.deepEqual(
    s.ends.map((e) => `${e.id}:${e.status}`),
    ['u0:rate_limited', 'u0:passed', 'u1:passed', 'u2:passed'],
  );
});

test('a unit the runner could not start (EMFILE) is not an attempt: it goes back first in line and runs later', async () => {
  const clock = new FakeClock();
  let faults = 2;
  const f = fakeExecutor(clock, (id) =>
    id === 'u1' && faults-- > 0 ? { status: 'error', runnerFault: 'EMFILE', why: 'could not start: EMFILE' } : {},
  );
  const s = options(clock, f.exec, { concurrency: 2, maxAttempts: 1 });
  const end = new Scheduler(units(4), s.o).run();
  await clock.advance(60_000);
  assert.deepEqual(await end, { reason: 'completed' });
  const u1 = f.log.filter((l) => l.id === 'u1');
  assert.deepEqual(
    u1.map((l) => l.attempt),
    [1, 1, 1],
    'the same attempt number each time: none was spent',
  );
  assert.deepEqual(
    s.ends.filter((e) => e.id === 'u1').map((e) => e.status),
    ['interrupted', 'interrupted', 'passed'],
  );
});

test('runner faults that go on with nothing in flight stop the run with the cause, spending no attempt', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({ status: 'error', runnerFault: 'EMFILE', why: 'could not start: EMFILE (too many open files)' }));
  const failures: string[] = [];
  const s = options(clock, f.exec, { concurrency: 1 });
  s.o.hooks.failed = (e) => void failures.push(e.message);
  const end = new Scheduler(units(3), s.o).run();
  await clock.advance(60_000);
  assert.deepEqual(await end, { reason: 'interrupted' });
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /could not start units 5 times in a row: could not start: EMFILE/);
  assert.ok(s.ends.every((e) => e.status === 'interrupted'));
});

test('the fence is asked before every dispatch: once it refuses, nothing more starts', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({}));
  let allowed = 6;
  const failures: string[] = [];
  const s = options(clock, f.exec, {
    concurrency: 2,
    fence: () => {
      if (allowed-- <= 0) throw new Error('Lost the run lock');
    },
  });
  s.o.hooks.failed = (e) => void failures.push(e.message);
  const end = new Scheduler(units(20), s.o).run();
  await clock.advance(10_000);
  assert.deepEqual(await end, { reason: 'interrupted' });
  assert.equal(f.log.length, 6, 'exactly the dispatches the fence allowed');
  assert.deepEqual(failures, ['Lost the run lock']);
});

test('while the journal is behind (backlog), nothing new is dispatched; units in flight go on', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, () => ({}));
  let release!: () => void;
  let behind: Promise<void> | undefined = new Promise<void>((r) => (release = r));
  const s = options(clock, f.exec, { concurrency: 2, backlog: () => (f.log.length >= 2 ? behind : undefined) });
  const end = new Scheduler(units(6), s.o).run();
  await clock.advance(5_000);
  assert.equal(f.log.length, 2, 'the first two ran; then dispatch waited for the journal');
  assert.equal(s.ends.length, 2, 'the units in flight ended meanwhile');
  behind = undefined;
  release();
  await clock.advance(5_000);
  assert.deepEqual(await end, { reason: 'completed' });
  assert.equal(f.log.length, 6);
});

test('a unit rate-limited 10 times in a row is an error the 10th time (an attempt): the run ends', async () => {
  const clock = new FakeClock();
  const f = fakeExecutor(clock, (id) => (id === 'u0' ? { status: 'rate_limited', resetAt: clock.now(), why: 'Too Many Requests' } : {}));
  // No default pause: nothing parks the run, so the cap is the plain one.
  const rateLimit = { maxWaitSeconds: 3600, defaultWaitSeconds: 0, bufferSeconds: 5 };
  const s = options(clock, f.exec, { concurrency: 1, maxAttempts: 1, rateLimit });
  const end = new Scheduler(units(2), s.o).run();
  for (let i = 0; i < 100; i++) await clock.advance(500);
  assert.deepEqual(await end, { reason: 'completed' });
  const u0 = s.ends.filter((e) => e.id === 'u0').map((e) => e.status);
  assert.equal(u0.length, RATE_LIMITS_IN_A_ROW);
  assert.ok(u0.slice(0, RATE_LIMITS_IN_A_ROW - 1).every((x) => x === 'rate_limited'));
  assert.equal(u0[RATE_LIMITS_IN_A_ROW - 1], 'error');
  assert.equal(s.pauses.length, RATE_LIMITS_IN_A_ROW - 1, 'the last did not pause the run');
});

test('the cap comes before the doubling default pause would park the run', () => {
  assert.equal(RATE_LIMITS_IN_A_ROW, 10);
  // 60 s doubling: the 7th pause (3840 s) would pass 3600 s and park.
  assert.equal(rateLimitCap({ defaultWaitSeconds: 60, maxWaitSeconds: 3600 }), 7);
  assert.equal(rateLimitCap({ defaultWaitSeconds: 0.01, maxWaitSeconds: 0.3 }), 6);
  assert.equal(rateLimitCap({ defaultWaitSeconds: 0, maxWaitSeconds: 3600 }), 10);
  assert.equal(rateLimitCap({ defaultWaitSeconds: 1, maxWaitSeconds: 1e6 }), 10);
  // A file that parks at the first pause asked for it: the cap does not go under 3.
  assert.equal(rateLimitCap({ defaultWaitSeconds: 60, maxWaitSeconds: 0 }), 3);
});

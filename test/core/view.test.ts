import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { LoadedExperiment } from '../../src/core/config/load';
import type { Unit } from '../../src/core/config/units';
import type { EndStatus, JournalRecord } from '../../src/core/store/events';
import { applyRecord, doneCount, emptyCounts, newView, type Counts, type RunView } from '../../src/core/model/view';
import { planRun } from '../../src/core/run/plan';

const IDS = ['a', 'b', 'c'];

function viewOf(ids: readonly string[], records: readonly JournalRecord[]): RunView {
  const v = newView(ids);
  for (const r of records) applyRecord(v, r);
  return v;
}

/** The counts recomputed from the units' statuses, to compare with the incremental ones. */
function tally(v: RunView): Counts {
  const c = emptyCounts();
  for (const u of v.units.values()) c[u.status]++;
  return c;
}

const sum = (c: Counts) => c.passed + c.failed + c.error + c.rate_limited + c.running + c.pending;

let ts = 0;
const start = (u: string, a = 1): JournalRecord => ({ t: 'start', ts: ++ts, u, a, pid: 100, pst: 5 });
const end = (u: string, s: EndStatus, a = 1): JournalRecord => ({ t: 'end', ts: ++ts, u, a, s, d: 10 });
const adopt = (u: string, s: 'passed' | 'failed' | 'error' | 'rate_limited'): JournalRecord => ({
  t: 'adopt',
  ts: ++ts,
  u,
  s,
  why: 'test',
});
const runnerStart = (): JournalRecord => ({ t: 'runner_start', ts: ++ts, pid: 1, host: 'h' });
const requeue = (...u: string[]): JournalRecord => ({ t: 'requeue', ts: ++ts, u, why: '--retry-errors' });

test('newView: every unit pending, nothing else', () => {
  const v = newView(IDS);
  assert.deepEqual(v.counts, { ...emptyCounts(), pending: 3 });
  assert.deepEqual([...v.units.keys()], IDS);
  for (const u of v.units.values()) assert.deepEqual(u, { status: 'pending', attempts: 0 });
  assert.equal(v.pauseCount, 0);
  assert.equal(v.sessions, 0);
  assert.equal(doneCount(v.counts), 0);
});

test('start then end moves a unit pending → running → outcome, with consistent counts', () => {
  const v = newView(IDS);
  applyRecord(v, start('a'));
  assert.equal(v.units.get('a')!.status, 'running');
  assert.equal(v.units.get('a')!.pid, 100);
  assert.equal(v.units.get('a')!.pst, 5);
  assert.deepEqual(v.counts, { ...emptyCounts(), running: 1, pending: 2 });

  const e = end('a', 'passed');
  applyRecord(v, e);
  const a = v.units.get('a')!;
  assert.equal(a.status, 'passed');
  assert.equal(a.attempts, 1);
  assert.equal(a.pid, undefined, 'pid cleared at the end');
  assert.equal(a.pst, undefined);
  assert.equal(a.lastEnd, e.ts);
  assert.equal(a.lastDuration, 10);
  assert.deepEqual(v.counts, { ...emptyCounts(), passed: 1, pending: 2 });

  applyRecord(v, start('b'));
  applyRecord(v, end('b', 'failed'));
  applyRecord(v, start('c'));
  applyRecord(v, end('c', 'error'));
  assert.deepEqual(v.counts, { ...emptyCounts(), passed: 1, failed: 1, error: 1 });
  assert.equal(doneCount(v.counts), 3);
  assert.deepEqual(v.recentEnds.length, 3);
});

test('an end keeps the highest attempt number seen', () => {
  const v = viewOf(IDS, [start('a', 1), end('a', 'error', 1), start('a', 2), end('a', 'error', 2)]);
  assert.equal(v.units.get('a')!.attempts, 2);
  assert.equal(v.units.get('a')!.status, 'error');
  assert.equal(v.counts.error, 1);
});

test('runner_start turns units left running back into pending', () => {
  const v = viewOf(IDS, [runnerStart(), start('a'), start('b'), end('b', 'passed')]);
  assert.equal(v.counts.running, 1);
  applyRecord(v, runnerStart());
  assert.equal(v.units.get('a')!.status, 'pending');
  assert.equal(v.units.get('b')!.status, 'passed', 'finished units stay finished');
  assert.deepEqual(v.counts, { ...emptyCounts(), passed: 1, pending: 2 });
  assert.equal(v.sessions, 2);
  assert.equal(v.lastStatus, 'running');
});

test('runner_end also returns running units to pending and records the status', () => {
  const v = viewOf(IDS, [runnerStart(), start('a'), { t: 'runner_end', ts: ++ts, status: 'interrupted' }]);
  assert.equal(v.units.get('a')!.status, 'pending');
  assert.equal(v.counts.running, 0);
  assert.equal(v.lastStatus, 'interrupted');
});

test('rate_limited does not use an attempt, nor count as an end for the rate', () => {
  const v = viewOf(IDS, [start('a', 1), end('a', 'rate_limited', 1)]);
  const a = v.units.get('a')!;
  assert.equal(a.status, 'rate_limited');
  assert.equal(a.attempts, 0);
  assert.equal(a.lastEnd, undefined);
  assert.deepEqual(v.recentEnds, []);
  assert.deepEqual(v.counts, { ...emptyCounts(), rate_limited: 1, pending: 2 });
  assert.equal(doneCount(v.counts), 0);
});

test('interrupted returns the unit to pending without using an attempt', () => {
  const v = viewOf(IDS, [start('a', 1), end('a', 'error', 1), start('a', 2), end('a', 'interrupted', 2)]);
  const a = v.units.get('a')!;
  assert.equal(a.status, 'pending');
  assert.equal(a.attempts, 1, 'only the error attempt counts');
  assert.equal(a.pid, undefined);
  assert.deepEqual(v.counts, { ...emptyCounts(), pending: 3 });
});

test('adopt ends a unit and counts one more attempt', () => {
  const v = viewOf(IDS, [start('a', 1), end('a', 'error', 1), adopt('a', 'passed'), adopt('b', 'failed')]);
  assert.equal(v.units.get('a')!.status, 'passed');
  assert.equal(v.units.get('a')!.attempts, 2);
  assert.equal(v.units.get('a')!.why, 'test');
  assert.equal(v.units.get('b')!.attempts, 1);
  assert.deepEqual(v.counts, { ...emptyCounts(), passed: 1, failed: 1, pending: 1 });
});

test('requeue resets attempts and status, but leaves a running unit alone', () => {
  const v = viewOf(IDS, [
    start('a', 1),
    end('a', 'error', 1),
    start('a', 2),
    end('a', 'error', 2),
    start('b', 1),
    end('b', 'failed', 1),
    start('c', 1),
  ]);
  applyRecord(v, requeue('a', 'b', 'c', 'nope'));
  assert.equal(v.units.get('a')!.status, 'pending');
  assert.equal(v.units.get('a')!.attempts, 0);
  assert.equal(v.units.get('b')!.status, 'pending');
  assert.equal(v.units.get('b')!.attempts, 0);
  assert.equal(v.units.get('c')!.status, 'running', 'a running unit is not requeued');
  assert.deepEqual(v.counts, { ...emptyCounts(), running: 1, pending: 2 });
});

test('pause and unpause set and clear the pause; pauseCount counts pauses', () => {
  const v = newView(IDS);
  applyRecord(v, { t: 'pause', ts: 10, until: 70, src: 'a', why: '429' });
  assert.deepEqual(v.pause, { until: 70, src: 'a', why: '429' });
  assert.equal(v.lastStatus, 'paused_rate_limit');
  assert.equal(v.pauseCount, 1);
  applyRecord(v, { t: 'unpause', ts: 70 });
  assert.equal(v.pause, undefined);
  assert.equal(v.lastStatus, 'running');
  applyRecord(v, { t: 'pause', ts: 80, until: 200, src: 'b' });
  assert.equal(v.pauseCount, 2);
  // A new runner starts unpaused; the count of pauses survives.
  applyRecord(v, { t: 'runner_start', ts: 90, pid: 2, host: 'h' });
  assert.equal(v.pause, undefined);
  assert.equal(v.pauseCount, 2);
  assert.equal(v.firstTs, 10);
  assert.equal(v.lastTs, 90);
});

test('records for unknown unit ids are ignored', () => {
  const v = viewOf(IDS, [start('zz'), end('zz', 'passed'), adopt('zz', 'failed'), requeue('zz')]);
  assert.deepEqual(v.counts, { ...emptyCounts(), pending: 3 });
  assert.equal(v.units.has('zz'), false);
  assert.equal(v.units.size, 3);
});

test('header is kept', () => {
  const v = viewOf(IDS, [{ t: 'header', ts: 1, schemaVersion: 1, run: 'r1', hash: 'abc', shard: '1/2' }]);
  assert.deepEqual(v.header, { run: 'r1', hash: 'abc', shard: '1/2' });
});

// ---- property test -------------------------------------------------------------------

const unitId = fc.constantFrom('a', 'b', 'c', 'd', 'unknown');
const endStatus = fc.constantFrom<EndStatus>('passed', 'failed', 'error', 'rate_limited', 'interrupted');
const recordArb: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record({ t: fc.constant('start' as const), ts: fc.nat(), u: unitId, a: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ t: fc.constant('end' as const), ts: fc.nat(), u: unitId, a: fc.integer({ min: 1, max: 5 }), s: endStatus }),
  fc.record({
    t: fc.constant('adopt' as const),
    ts: fc.nat(),
    u: unitId,
    s: fc.constantFrom('passed' as const, 'failed' as const, 'error' as const, 'rate_limited' as const),
    why: fc.constant('x'),
  }),
  fc.record({ t: fc.constant('runner_start' as const), ts: fc.nat(), pid: fc.nat(), host: fc.constant('h') }),
  fc.record({ t: fc.constant('requeue' as const), ts: fc.nat(), u: fc.array(unitId, { maxLength: 4 }), why: fc.constant('x') }),
);

test("property: counts always match the units' statuses and sum to the number of units", () => {
  const ids = ['a', 'b', 'c', 'd'];
  fc.assert(
    fc.property(fc.array(recordArb, { maxLength: 60 }), (records) => {
      const v = newView(ids);
      const attempts = new Map(ids.map((id) => [id, 0]));
      for (const r of records) {
        applyRecord(v, r);
        assert.equal(sum(v.counts), ids.length);
        assert.deepEqual(v.counts, tally(v));
        for (const n of Object.values(v.counts)) assert.ok(n >= 0);
        assert.equal(v.units.size, ids.length);
        if (r.t === 'runner_start') assert.equal(v.counts.running, 0);
        if (r.t === 'start' && v.units.has(r.u)) assert.equal(v.units.get(r.u)!.status, 'running');
        if (r.t === 'end' && v.units.has(r.u)) {
          const u = v.units.get(r.u)!;
          assert.equal(u.status, r.s === 'interrupted' ? 'pending' : r.s);
          // Rate limits and interrupts never change the attempt count.
          if (r.s === 'interrupted' || r.s === 'rate_limited') assert.equal(u.attempts, attempts.get(r.u));
          else assert.equal(u.attempts, Math.max(attempts.get(r.u)!, r.a));
        }
        for (const [id, u] of v.units) attempts.set(id, u.attempts);
      }
      assert.equal(doneCount(v.counts), [...v.units.values()].filter((u) => ['passed', 'failed', 'error'].includes(u.status)).length);
    }),
    { numRuns: 1000 },
  );
});

// ---- planRun -------------------------------------------------------------------------

function experiment(ids: readonly string[], maxAttempts = 3): LoadedExperiment {
  const units: Unit[] = ids.map((id) => ({ id, item: { id, fields: {}, where: {} }, cell: {}, group: '' }));
  return { units, config: { retries: { maxAttempts, backoffSeconds: [5, 300] } } } as unknown as LoadedExperiment;
}

/** A view with one unit per state the plan distinguishes. */
function mixedView(): RunView {
  return viewOf(
    ['p', 'f', 'e1', 'e3', 'rl', 'new', 'inflight', 'running'],
    [
      runnerStart(),
      start('p'),
      end('p', 'passed'),
      start('f'),
      end('f', 'failed'),
      start('e1', 1),
      end('e1', 'error', 1),
      start('e3', 3),
      end('e3', 'error', 3),
      start('rl'),
      end('rl', 'rate_limited'),
      start('inflight', 1),
      end('inflight', 'error', 1),
      start('inflight', 2),
      end('inflight', 'interrupted', 2),
      start('running'),
    ],
  );
}
const ALL = ['p', 'f', 'e1', 'e3', 'rl', 'new', 'inflight', 'running'];

test('planRun without flags: skips passed, failed and spent errors; runs the rest in config order', () => {
  const plan = planRun(experiment(ALL, 3), mixedView(), {});
  assert.deepEqual(
    plan.todo.map((u) => u.id),
    ['e1', 'rl', 'new', 'inflight', 'running'],
  );
  assert.deepEqual(plan.requeue, []);
  assert.equal(plan.requeueWhy, '');
  assert.deepEqual(plan.reasons, {
    'skip: passed': 1,
    'skip: failed (use --retry-failed to run again)': 1,
    'run: error with attempts left (1 of 3 used)': 1,
    'skip: error, attempts used up (use --retry-errors)': 1,
    'run: was rate limited': 1,
    'run: not started': 1,
    'run: was in flight when the last runner stopped': 2,
  });
});

test('planRun --retry-errors requeues every error, spent or not, and leaves failed alone', () => {
  const plan = planRun(experiment(ALL, 3), mixedView(), { retryErrors: true });
  assert.deepEqual(
    plan.todo.map((u) => u.id),
    ['e1', 'e3', 'rl', 'new', 'inflight', 'running'],
  );
  assert.deepEqual(plan.requeue, ['e1', 'e3']);
  assert.equal(plan.requeueWhy, '--retry-errors');
  assert.equal(plan.reasons['run: error, --retry-errors'], 2);
  assert.equal(plan.reasons['skip: failed (use --retry-failed to run again)'], 1);
});

test('planRun --retry-failed requeues failed units only', () => {
  const plan = planRun(experiment(ALL, 3), mixedView(), { retryFailed: true });
  assert.deepEqual(
    plan.todo.map((u) => u.id),
    ['f', 'e1', 'rl', 'new', 'inflight', 'running'],
  );
  assert.deepEqual(plan.requeue, ['f']);
  assert.equal(plan.requeueWhy, '--retry-failed');
  assert.equal(plan.reasons['skip: error, attempts used up (use --retry-errors)'], 1);
});

test('planRun with both flags; passed is never rerun', () => {
  const plan = planRun(experiment(ALL, 3), mixedView(), { retryErrors: true, retryFailed: true });
  assert.deepEqual(
    plan.todo.map((u) => u.id),
    ['f', 'e1', 'e3', 'rl', 'new', 'inflight', 'running'],
  );
  assert.deepEqual(plan.requeue, ['f', 'e1', 'e3']);
  assert.equal(plan.requeueWhy, '--retry-errors --retry-failed');
  assert.equal(plan.reasons['skip: passed'], 1);
});

test('planRun honours maxAttempts exactly at the boundary', () => {
  const v = viewOf(['x'], [start('x', 1), end('x', 'error', 1), start('x', 2), end('x', 'error', 2)]);
  assert.deepEqual(planRun(experiment(['x'], 2), v, {}).todo, []);
  assert.deepEqual(
    planRun(experiment(['x'], 3), v, {}).todo.map((u) => u.id),
    ['x'],
  );
});

test("planRun follows the config's order and ignores config units the view does not know", () => {
  const v = newView(['b', 'a']);
  const plan = planRun(experiment(['a', 'ghost', 'b']), v, {});
  assert.deepEqual(
    plan.todo.map((u) => u.id),
    ['a', 'b'],
  );
  assert.deepEqual(plan.reasons, { 'run: not started': 2 });
});

test('after a requeue record, the plan runs the unit again as not started', () => {
  const v = viewOf(['x'], [start('x', 1), end('x', 'error', 1), start('x', 2), end('x', 'error', 2), start('x', 3), end('x', 'error', 3)]);
  const first = planRun(experiment(['x'], 3), v, { retryErrors: true });
  applyRecord(v, { t: 'requeue', ts: ++ts, u: first.requeue, why: first.requeueWhy });
  const second = planRun(experiment(['x'], 3), v, {});
  assert.deepEqual(
    second.todo.map((u) => u.id),
    ['x'],
  );
  assert.deepEqual(second.reasons, { 'run: not started': 1 });
});

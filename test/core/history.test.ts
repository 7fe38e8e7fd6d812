import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { EndStatus, JournalRecord } from '../../src/core/store/events';
import { applyRecord, doneCount, newView } from '../../src/core/model/view';
import { runHistory } from '../../src/core/status/history';

const T0 = 1_700_000_000_000;
const at = (s: number) => T0 + s * 1000;
const header = (s: number): JournalRecord => ({ t: 'header', ts: at(s), schemaVersion: 1, run: 'r', hash: 'h' });
const runnerStart = (s: number): JournalRecord => ({ t: 'runner_start', ts: at(s), pid: 1, host: 'h' });
const runnerEnd = (s: number): JournalRecord => ({ t: 'runner_end', ts: at(s), status: 'completed' });
const start = (s: number, u: string, a = 1): JournalRecord => ({ t: 'start', ts: at(s), u, a });
const end = (s: number, u: string, st: EndStatus, a = 1): JournalRecord => ({ t: 'end', ts: at(s), u, a, s: st, d: 500 });
const pause = (s: number, untilS: number, src = 'u3'): JournalRecord => ({ t: 'pause', ts: at(s), until: at(untilS), src });
const unpause = (s: number): JournalRecord => ({ t: 'unpause', ts: at(s) });

/** 10 s of a run: 4 units, one rate-limited pause from 4 s to 7 s, one error retried to a pass. */
const RUN: JournalRecord[] = [
  header(0),
  runnerStart(0),
  start(0, 'a'),
  start(0, 'b'),
  end(1, 'a', 'passed'),
  end(2, 'b', 'error'),
  start(3, 'c'),
  end(4, 'c', 'rate_limited'),
  pause(4, 6),
  // Extended while it lasts: still one span, with the later reset.
  pause(5, 7),
  unpause(7),
  start(7, 'c'),
  start(7, 'b', 2),
  end(8, 'c', 'failed'),
  end(9, 'b', 'passed', 2),
  { t: 'adopt', ts: at(10), u: 'd', s: 'passed', why: 'result on disk' },
  runnerEnd(10),
];

test('progress per bucket, throughput, and one pause span from a known run', () => {
  const h = runHistory([RUN], 5);
  assert.equal(h.from, at(0));
  assert.equal(h.to, at(10));
  assert.equal(h.bucketMs, 2000);
  assert.deepEqual(
    h.buckets.map((b) => [b.t - T0, b.done, b.passed, b.failed, b.error, b.ended]),
    [
      // [0, 2 s): a passed at 1 s.
      [2000, 1, 1, 0, 0, 1],
      // [2, 4 s): b errored at 2 s.
      [4000, 2, 1, 0, 1, 1],
      // [4, 6 s): the pause; c's rate limit is not an outcome.
      [6000, 2, 1, 0, 1, 0],
      // [6, 8 s): b starts again at 7 s (no longer done), c failed at 8 s falls in the next bucket.
      [8000, 1, 1, 0, 0, 0],
      // [8, 10 s]: c failed, b passed on its 2nd attempt, d adopted (done, not work done here).
      [10000, 4, 3, 1, 0, 2],
    ],
  );
  assert.deepEqual(h.pauses, [{ from: at(4), to: at(7), until: at(7), src: 'u3', open: false }]);
  assert.deepEqual(h.sessions, [{ from: at(0), to: at(10), open: false }]);
});

test('a live run: the history reaches now, the pause in force and the session are open', () => {
  const live = RUN.slice(0, 9);
  const h = runHistory([live], 4, { now: at(8) });
  assert.equal(h.to, at(8));
  assert.equal(h.buckets.length, 4);
  assert.equal(h.buckets.at(-1)!.done, 2);
  assert.deepEqual(h.pauses, [{ from: at(4), to: at(8), until: at(6), src: 'u3', open: true }]);
  assert.deepEqual(h.sessions, [{ from: at(0), to: at(8), open: true }]);
});

test('a runner killed while paused: its next start closes the pause and the session', () => {
  const h = runHistory([[runnerStart(0), pause(1, 30), runnerStart(5), start(5, 'a'), end(6, 'a', 'passed')]], 3);
  assert.deepEqual(h.pauses, [{ from: at(1), to: at(5), until: at(30), src: 'u3', open: false }]);
  assert.deepEqual(
    h.sessions.map((s) => [s.from, s.to, s.open]),
    [
      [at(0), at(5), false],
      [at(5), at(6), true],
    ],
  );
});

test('shards: journals merged in time order, pauses kept per journal, requeue undoes an outcome', () => {
  const shard1 = [runnerStart(0), start(0, 'a'), end(1, 'a', 'failed'), pause(2, 9, 'a'), unpause(9)];
  const shard2 = [
    runnerStart(0),
    start(0, 'b'),
    end(3, 'b', 'passed'),
    unpause(4),
    { t: 'requeue', ts: at(5), u: ['b'], why: 'x' } as JournalRecord,
  ];
  const h = runHistory([shard1, shard2], 2);
  assert.equal(h.bucketMs, 4500);
  assert.deepEqual(
    h.buckets.map((b) => [b.done, b.passed, b.failed, b.ended]),
    [
      [2, 1, 1, 2],
      [1, 0, 1, 0],
    ],
  );
  // shard 2's unpause at 4 s does not end shard 1's pause.
  assert.deepEqual(h.pauses, [{ from: at(2), to: at(9), until: at(9), src: 'a', open: false }]);
});

test('an empty journal has no buckets; fewer than one bucket asked is none', () => {
  assert.deepEqual(runHistory([[]], 10, { now: 5 }), { from: 5, to: 5, bucketMs: 0, buckets: [], pauses: [], sessions: [] });
  assert.equal(runHistory([RUN], 0).buckets.length, 0);
});

test('the last bucket agrees with the journal view on any sequence of records', () => {
  const ids = ['a', 'b', 'c'];
  const rec = fc.oneof(
    fc.record({ k: fc.constant('start' as const), u: fc.constantFrom(...ids) }),
    fc.record({
      k: fc.constant('end' as const),
      u: fc.constantFrom(...ids),
      s: fc.constantFrom<EndStatus>('passed', 'failed', 'error', 'rate_limited', 'interrupted'),
    }),
    fc.record({ k: fc.constant('requeue' as const), u: fc.constantFrom(...ids) }),
  );
  fc.assert(
    fc.property(fc.array(rec, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 7 }), (steps, buckets) => {
      const records: JournalRecord[] = steps.map((s, i) => {
        if (s.k === 'start') return start(i, s.u);
        if (s.k === 'end') return end(i, s.u, s.s);
        return { t: 'requeue', ts: at(i), u: [s.u], why: 'x' };
      });
      const view = newView(ids);
      for (const r of records) applyRecord(view, r);
      const h = runHistory([records], buckets);
      assert.equal(h.buckets.length, buckets);
      assert.equal(h.buckets.at(-1)!.done, doneCount(view.counts));
      assert.equal(h.buckets.at(-1)!.passed, view.counts.passed);
      assert.equal(
        h.buckets.reduce((a, b) => a + b.ended, 0),
        records.filter((r) => r.t === 'end' && ['passed', 'failed', 'error'].includes(r.s)).length,
      );
    }),
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateEta, etaOfView } from '../../src/core/model/eta';
import { applyRecord, newView } from '../../src/core/model/view';
import type { JournalRecord } from '../../src/core/store/events';
import type { Snapshot } from '../../src/core/model/snapshot';
import { readerEta, SNAPSHOT_FRESH_MS } from '../../src/core/status/liveEta';

/** Ends every `every` ms from `from` (exclusive) to `to` (inclusive). */
const endsEvery = (every: number, from: number, to: number): number[] =>
  Array.from({ length: Math.floor((to - from) / every) }, (_, i) => from + (i + 1) * every);

const near = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not within ${tolerance} of ${expected}`);

test('a steady pace: the rate and the ETA are exact', () => {
  const e = estimateEta({ ends: endsEvery(500, 0, 50_000), since: 0, left: 100, now: 50_000 });
  assert.equal(e.rate, 2);
  assert.equal(e.etaMs, 50_000);
});

test('units that run side by side end together: the first ends give the mean rate, not a burst', () => {
  // 4 at a time, 10 s each: 4 ends every 10 s is 0.4/s.
  const ends = [10, 20].flatMap((s) => [s, s, s, s].map((x) => x * 1000));
  const e = estimateEta({ ends, since: 0, left: 92, now: 20_000 });
  assert.equal(e.rate, 0.4);
  assert.equal(e.etaMs, 230_000);
  // Without the session's start, the first gap is unknown: still no infinite rate from ends in one millisecond.
  const same = estimateEta({ ends: [5000, 5000, 5000], left: 10, now: 5000 });
  assert.ok(Number.isFinite(same.rate) && same.etaMs !== null && Number.isFinite(same.etaMs));
});

test('fewer than two ends: no estimate; nothing left: an ETA of 0', () => {
  assert.deepEqual(estimateEta({ ends: [], left: 5, now: 1000 }), { rate: 0, etaMs: null });
  assert.deepEqual(estimateEta({ ends: [900], since: 0, left: 5, now: 1000 }), { rate: 0, etaMs: null });
  assert.equal(estimateEta({ ends: [500, 1000], since: 0, left: 0, now: 1000 }).etaMs, 0);
});

test('a pause is not slowness: the rate after a minute paused is the rate before it', () => {
  const ends = [...endsEvery(1000, 0, 20_000), ...endsEvery(1000, 80_000, 100_000)];
  const withPause = estimateEta({ ends, since: 0, idle: [{ from: 20_000, to: 80_000 }], left: 50, now: 100_000 });
  near(withPause.rate, 1, 1e-9, 'rate with the pause left out');
  assert.equal(withPause.etaMs, 50_000);
  // Counted as work, the minute would have cut the rate by more than half.
  const blind = estimateEta({ ends, since: 0, left: 50, now: 100_000 });
  assert.ok(blind.rate < 0.5, `${blind.rate}`);
});

test('a known pause adds what is left of it to the ETA, which then counts down one second a second', () => {
  const ends = endsEvery(1000, 0, 20_000);
  const pause = { idle: [{ from: 20_000 }], pausedUntil: 80_000 };
  const at = (now: number) => estimateEta({ ends, since: 0, left: 30, now, ...pause });
  assert.equal(at(20_000).etaMs, 60_000 + 30_000);
  assert.equal(at(50_000).etaMs, 30_000 + 30_000);
  assert.equal(at(79_000).etaMs, 1000 + 30_000);
  assert.equal(at(50_000).rate, 1, 'the rate holds while paused');
});

test('nothing ends for a while: the rate falls smoothly, never in a jump', () => {
  const ends = endsEvery(1000, 0, 60_000);
  let prev = estimateEta({ ends, since: 0, left: 40, now: 60_000 });
  for (let now = 60_100; now <= 600_000; now += 100) {
    const e = estimateEta({ ends, since: 0, left: 40, now });
    assert.ok(e.rate <= prev.rate, `${now}: the rate never rises while nothing ends`);
    assert.ok(prev.rate - e.rate <= prev.rate * 0.01, `${now}: ${prev.rate} → ${e.rate} is a jump`);
    prev = e;
  }
  assert.ok(prev.rate < 0.1, `after 9 minutes without an end the rate has fallen (${prev.rate})`);
});

test('one slow unit moves the estimate a little, not by its own gap', () => {
  const steady = endsEvery(1000, 0, 100_000);
  const before = estimateEta({ ends: steady, since: 0, left: 100, now: 100_000 });
  const after = estimateEta({ ends: [...steady, 110_000], since: 0, left: 99, now: 110_000 });
  assert.equal(before.rate, 1);
  assert.ok(after.rate > 0.6 && after.rate < 1, `${after.rate}`);
  // And the pace after a change is followed: 60 ends at 4/s bring the rate most of the way.
  const faster = estimateEta({ ends: [...steady, ...endsEvery(250, 100_000, 115_000)], since: 0, left: 40, now: 115_000 });
  assert.ok(faster.rate > 3 && faster.rate <= 4, `${faster.rate}`);
});

let ts = 0;
const rec = (r: Record<string, unknown>): JournalRecord => ({ ts, ...r }) as JournalRecord;

function journal(): { view: ReturnType<typeof newView>; at: (t: number, r: Record<string, unknown>) => void } {
  const view = newView(Array.from({ length: 100 }, (_, i) => `u${i}`));
  return {
    view,
    at: (t, r) => {
      ts = t;
      applyRecord(view, rec(r));
    },
  };
}

test("etaOfView: this session's ends only (not the last session's, not adoptions), its pauses left out", () => {
  const { view, at } = journal();
  at(0, { t: 'runner_start', pid: 1, host: 'h' });
  for (let i = 0; i < 10; i++) at((i + 1) * 100, { t: 'end', u: `u${i}`, a: 1, s: 'passed' });
  at(1000, { t: 'runner_end', status: 'interrupted' });
  // A day later: a resume adopts 20 results, then units end every second, with a pause of a minute.
  const day = 86_400_000;
  at(day, { t: 'runner_start', pid: 2, host: 'h' });
  for (let i = 10; i < 30; i++) at(day, { t: 'adopt', u: `u${i}`, s: 'passed', why: 'on disk' });
  for (let i = 30; i < 40; i++) at(day + (i - 29) * 1000, { t: 'end', u: `u${i}`, a: 1, s: 'passed' });
  at(day + 10_000, { t: 'pause', until: day + 70_000, src: 'u40' });
  const paused = etaOfView(view, day + 40_000);
  assert.equal(paused.rate, 1);
  assert.equal(paused.etaMs, 30_000 + 60 * 1000, 'pause left + 60 units at 1/s');
  at(day + 70_000, { t: 'unpause' });
  for (let i = 40; i < 50; i++) at(day + 70_000 + (i - 39) * 1000, { t: 'end', u: `u${i}`, a: 1, s: 'passed' });
  const after = etaOfView(view, day + 80_000);
  assert.equal(after.rate, 1);
  assert.equal(after.etaMs, 50_000);
});

const snapshot = (s: Partial<Snapshot>): Snapshot => ({ pid: 7, host: 'h', heartbeat: 10_000, rate: 2, etaMs: 60_000, ...s }) as Snapshot;

test("a reader shows the live runner's figure, counted down since it was written; the journal's when the runner is not there", () => {
  const { view, at } = journal();
  at(0, { t: 'runner_start', pid: 7, host: 'h' });
  for (let i = 0; i < 10; i++) at((i + 1) * 1000, { t: 'end', u: `u${i}`, a: 1, s: 'passed' });
  const runner = { pid: 7, host: 'h', alive: true };
  assert.deepEqual(readerEta(view, snapshot({}), runner, 10_000), { rate: 2, etaMs: 60_000 });
  assert.deepEqual(readerEta(view, snapshot({}), runner, 11_500), { rate: 2, etaMs: 58_500 });
  const fromJournal = etaOfView(view, 10_000 + SNAPSHOT_FRESH_MS + 1);
  assert.deepEqual(readerEta(view, snapshot({}), runner, 10_000 + SNAPSHOT_FRESH_MS + 1), fromJournal, 'stale: the journal');
  assert.deepEqual(readerEta(view, snapshot({ pid: 8 }), runner, 10_000), etaOfView(view, 10_000), "another runner's state.json");
  assert.deepEqual(readerEta(view, snapshot({}), { ...runner, alive: false }, 10_000), etaOfView(view, 10_000), 'a dead runner');
  assert.deepEqual(readerEta(view, undefined, runner, 10_000), etaOfView(view, 10_000));
  assert.deepEqual(readerEta(view, snapshot({ etaMs: null }), runner, 10_000), { rate: 2, etaMs: null });
});

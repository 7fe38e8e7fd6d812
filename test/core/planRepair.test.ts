import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JournalRecord } from '../../src/core/store/events';
import { applyRecord, newView, type RunView } from '../../src/core/model/view';
import { describeRepair, planRepair, type FoundResult } from '../../src/core/repair/planRepair';

const IDS = ['a', 'b', 'c', 'd', 'e'];
const NOW = 1_000_000;
const NO_DAMAGE = { corruptLines: [], tornTail: false };

const header: JournalRecord = { t: 'header', ts: 1, schemaVersion: 1, run: 'r', hash: 'h' };
/** a passed, b failed, c still running when the runner died, d rate limited, e never started. */
const good: JournalRecord[] = [
  header,
  { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
  { t: 'start', ts: 3, u: 'a', a: 1 },
  { t: 'end', ts: 4, u: 'a', a: 1, s: 'passed' },
  { t: 'start', ts: 5, u: 'b', a: 1 },
  { t: 'end', ts: 6, u: 'b', a: 1, s: 'failed' },
  { t: 'start', ts: 7, u: 'd', a: 1 },
  { t: 'end', ts: 8, u: 'd', a: 1, s: 'rate_limited' },
  { t: 'start', ts: 9, u: 'c', a: 1 },
];

function viewOf(records: readonly JournalRecord[]): RunView {
  const v = newView(IDS);
  for (const r of records) applyRecord(v, r);
  return v;
}

test('adopts result files only for units the journal has not finished', () => {
  const found: FoundResult[] = [
    { unitId: 'a', status: 'failed' }, // journal says passed: the journal wins
    { unitId: 'b', status: 'passed' }, // journal says failed: the journal wins
    { unitId: 'c', status: 'passed' }, // running when the runner died
    { unitId: 'd', status: 'passed' }, // rate limited is not final
    { unitId: 'e', status: 'failed' }, // never started in the journal
    { unitId: 'not-a-unit', status: 'passed' },
  ];
  const plan = planRepair(good, viewOf(good), found, NO_DAMAGE, NOW);
  assert.deepEqual(plan.adopted, ['c', 'd', 'e']);
  assert.deepEqual(plan.records.slice(0, good.length), good, 'the good records come first, unchanged');
  assert.deepEqual(plan.records.slice(good.length), [
    { t: 'adopt', ts: NOW, u: 'c', s: 'passed', why: 'repair: result file on disk, not in the journal' },
    { t: 'adopt', ts: NOW, u: 'd', s: 'passed', why: 'repair: result file on disk, not in the journal' },
    { t: 'adopt', ts: NOW, u: 'e', s: 'failed', why: 'repair: result file on disk, not in the journal' },
  ]);
  assert.deepEqual(plan.unreadable, []);
  assert.deepEqual(plan.dropped, []);
  assert.equal(plan.droppedTornTail, false);
  assert.equal(plan.changed, true);

  const after = viewOf(plan.records);
  assert.deepEqual(after.counts, { passed: 3, failed: 2, error: 0, rate_limited: 0, running: 0, pending: 0 });
});

test('unreadable results are listed, not adopted, and change nothing by themselves', () => {
  const found: FoundResult[] = [
    { unitId: 'c', status: 'unreadable' },
    { unitId: 'a', status: 'unreadable' }, // final already: not even listed
    { unitId: 'e', status: 'passed' },
  ];
  const plan = planRepair(good, viewOf(good), found, NO_DAMAGE, NOW);
  assert.deepEqual(plan.adopted, ['e']);
  assert.deepEqual(plan.unreadable, ['c']);
  assert.equal(plan.records.length, good.length + 1);
  assert.ok(!plan.records.some((r) => r.t === 'adopt' && r.u === 'c'));

  const onlyUnreadable = planRepair(good, viewOf(good), [{ unitId: 'c', status: 'unreadable' }], NO_DAMAGE, NOW);
  assert.deepEqual(onlyUnreadable.unreadable, ['c']);
  assert.equal(onlyUnreadable.changed, false);
  assert.deepEqual(onlyUnreadable.records, good);
});

test('counts dropped corrupt lines and the torn tail', () => {
  const plan = planRepair(good, viewOf(good), [], { corruptLines: [4, 9], tornTail: true }, NOW);
  assert.deepEqual(plan.dropped, [4, 9]);
  assert.equal(plan.droppedTornTail, true);
  assert.deepEqual(plan.adopted, []);
  assert.equal(plan.changed, true);
  assert.deepEqual(plan.records, good);
  assert.equal(describeRepair(plan), '+0 adopted, 3 dropped');

  assert.equal(planRepair(good, viewOf(good), [], { corruptLines: [], tornTail: true }, NOW).changed, true);
  assert.equal(planRepair(good, viewOf(good), [], { corruptLines: [2], tornTail: false }, NOW).changed, true);
});

test('changed is false when there is nothing to do', () => {
  const found: FoundResult[] = [
    { unitId: 'a', status: 'passed' },
    { unitId: 'b', status: 'failed' },
  ];
  const plan = planRepair(good, viewOf(good), found, NO_DAMAGE, NOW);
  assert.equal(plan.changed, false);
  assert.deepEqual(plan.adopted, []);
  assert.deepEqual(plan.records, good);
  assert.equal(describeRepair(plan), '+0 adopted, 0 dropped');
});

test('the plan does not alias the inputs', () => {
  const input = [...good];
  const corruptLines = [3];
  const plan = planRepair(input, viewOf(input), [{ unitId: 'e', status: 'passed' }], { corruptLines, tornTail: false }, NOW);
  assert.equal(input.length, good.length, 'the good records are not appended to in place');
  assert.notEqual(plan.dropped, corruptLines);
});

test('describeRepair', () => {
  const plan = planRepair(
    good,
    viewOf(good),
    [
      { unitId: 'c', status: 'passed' },
      { unitId: 'e', status: 'failed' },
    ],
    { corruptLines: [7], tornTail: false },
    NOW,
  );
  assert.equal(describeRepair(plan), '+2 adopted, 1 dropped');
  const withUnreadable = planRepair(
    good,
    viewOf(good),
    [
      { unitId: 'c', status: 'unreadable' },
      { unitId: 'e', status: 'passed' },
    ],
    { corruptLines: [], tornTail: true },
    NOW,
  );
  assert.equal(describeRepair(withUnreadable), '+1 adopted, 1 dropped, 1 unreadable result(s) left to run again');
});

test("a second plan over the first plan's output adopts nothing and changes nothing", () => {
  const found: FoundResult[] = [
    { unitId: 'c', status: 'passed' },
    { unitId: 'd', status: 'failed' },
    { unitId: 'e', status: 'unreadable' },
  ];
  const first = planRepair(good, viewOf(good), found, { corruptLines: [3], tornTail: true }, NOW);
  assert.equal(first.changed, true);
  // The repaired journal has no damage left.
  const second = planRepair(first.records, viewOf(first.records), found, NO_DAMAGE, NOW + 1);
  assert.deepEqual(second.adopted, []);
  assert.equal(second.changed, false);
  assert.deepEqual(second.records, first.records);
  assert.deepEqual(second.unreadable, ['e']);
});

test('property: repair is idempotent for any journal prefix and any found results', () => {
  const unit = fc.constantFrom(...IDS);
  const rec: fc.Arbitrary<JournalRecord> = fc.oneof(
    fc.record({ t: fc.constant('start' as const), ts: fc.nat(), u: unit, a: fc.integer({ min: 1, max: 3 }) }),
    fc.record({
      t: fc.constant('end' as const),
      ts: fc.nat(),
      u: unit,
      a: fc.integer({ min: 1, max: 3 }),
      s: fc.constantFrom('passed' as const, 'failed' as const, 'error' as const, 'rate_limited' as const, 'interrupted' as const),
    }),
    fc.record({ t: fc.constant('runner_start' as const), ts: fc.nat(), pid: fc.nat(), host: fc.constant('h') }),
  );
  // Result files judged by repair are passed, failed or unreadable (an error result is unreadable).
  const foundArb = fc.uniqueArray(
    fc.record({ unitId: unit, status: fc.constantFrom('passed' as const, 'failed' as const, 'unreadable' as const) }),
    { selector: (f) => f.unitId, maxLength: IDS.length },
  );
  fc.assert(
    fc.property(fc.array(rec, { maxLength: 30 }), foundArb, fc.boolean(), (records, found, torn) => {
      const journal = [header, ...records];
      const first = planRepair(journal, viewOf(journal), found, { corruptLines: [], tornTail: torn }, NOW);
      const after = viewOf(first.records);
      for (const id of first.adopted) assert.ok(['passed', 'failed'].includes(after.units.get(id)!.status));
      const second = planRepair(first.records, after, found, NO_DAMAGE, NOW + 1);
      assert.deepEqual(second.adopted, []);
      assert.equal(second.changed, false);
      assert.deepEqual(second.unreadable, first.unreadable);
    }),
    { numRuns: 500 },
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JournalRecord } from '../../src/core/store/events';
import { decodeUnitSnapshot, encodeUnitSnapshot, restoreUnitSnapshot } from '../../src/core/model/unitSnapshot';
import { applyRecord, newView, type RunView } from '../../src/core/model/view';
import { IdIndex } from '../../src/core/model/idIndex';

const IDS = ['q1', 'q2', 'q3/small', 'q3/large', 'q4', 'é/ü'];
const journals = [{ name: 'journal.jsonl', offset: 120, lines: 3, head: 'h', tail: 't' }];

/** Any sequence of journal records over IDS (and an id the run does not know). */
const record: fc.Arbitrary<JournalRecord> = fc.oneof(
  fc.record({ t: fc.constant('runner_start' as const), ts: fc.nat(), pid: fc.nat(), host: fc.constantFrom('a', 'b') }),
  fc.record({
    t: fc.constant('runner_end' as const),
    ts: fc.nat(),
    status: fc.constantFrom('completed' as const, 'interrupted' as const),
  }),
  fc.record({
    t: fc.constant('start' as const),
    ts: fc.nat(),
    u: fc.constantFrom(...IDS, 'gone'),
    a: fc.integer({ min: 1, max: 4 }),
    pid: fc.option(fc.nat(), { nil: undefined }),
    pst: fc.option(fc.nat(), { nil: undefined }),
  }),
  fc.record({
    t: fc.constant('end' as const),
    ts: fc.nat(),
    u: fc.constantFrom(...IDS),
    a: fc.integer({ min: 1, max: 4 }),
    s: fc.constantFrom('passed' as const, 'failed' as const, 'error' as const, 'rate_limited' as const, 'interrupted' as const),
    d: fc.option(fc.nat(), { nil: undefined }),
    why: fc.option(fc.constantFrom('exit code 1', 'timeout', 'model said no'), { nil: undefined }),
    usd: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
    tok: fc.option(fc.nat(), { nil: undefined }),
    m: fc.option(fc.record({ score: fc.double({ min: 0, max: 1, noNaN: true }) }, { noNullPrototype: true }), { nil: undefined }),
  }),
  fc.record({ t: fc.constant('requeue' as const), ts: fc.nat(), u: fc.subarray(IDS), why: fc.constant('--retry-errors') }),
  fc.record({ t: fc.constant('pause' as const), ts: fc.nat(), until: fc.nat(), src: fc.constant('q1') }),
  fc.record({ t: fc.constant('unpause' as const), ts: fc.nat() }),
);

function viewOf(records: readonly JournalRecord[]): RunView {
  const v = newView(IDS);
  applyRecord(v, { t: 'header', ts: 0, schemaVersion: 1, run: 'r', hash: 'abcd1234' });
  for (const r of records) applyRecord(v, r);
  return v;
}

/** Everything a view says, as plain data (units through the table's reads). */
function plain(v: RunView): unknown {
  const { units, ...run } = v;
  return { units: [...units], run: JSON.parse(JSON.stringify(run)) as unknown };
}

test('a unit snapshot restores exactly the view it was taken of, for any journal, and the journal after it applies the same', () => {
  fc.assert(
    fc.property(fc.array(record, { maxLength: 40 }), fc.array(record, { maxLength: 10 }), (before, afterIt) => {
      const original = viewOf(before);
      const bytes = Buffer.concat(encodeUnitSnapshot(original, 'abcd1234')(journals));
      const decoded = decodeUnitSnapshot(bytes);
      assert.ok('snapshot' in decoded, JSON.stringify(decoded));
      const restored = newView(IDS);
      assert.equal(restoreUnitSnapshot(restored, decoded.snapshot), true);
      assert.deepEqual(plain(restored), plain(original));
      for (const r of afterIt) {
        applyRecord(original, r);
        applyRecord(restored, r);
      }
      assert.deepEqual(plain(restored), plain(original));
    }),
    { numRuns: 300 },
  );
});

test('a damaged unit snapshot is never used: any changed byte, a cut, a wrong kind or version is a problem, never a state', () => {
  const v = viewOf([
    { t: 'runner_start', ts: 1, pid: 1, host: 'a' },
    { t: 'end', ts: 2, u: 'q1', a: 1, s: 'passed', d: 3, m: { score: 0.5 } },
    { t: 'end', ts: 3, u: 'q2', a: 2, s: 'error', why: 'exit code 1', usd: 0.01 },
  ]);
  const bytes = Buffer.concat(encodeUnitSnapshot(v, 'abcd1234')(journals));
  const nl = bytes.indexOf(10);
  for (let i = nl + 1; i < bytes.length; i++) {
    const bad = Buffer.from(bytes);
    bad[i] = bad[i]! ^ 0x20;
    assert.ok('problem' in decodeUnitSnapshot(bad), `a flipped byte at ${i} went unnoticed`);
  }
  for (const cut of [0, 1, nl, nl + 1, bytes.length - 1])
    assert.ok('problem' in decodeUnitSnapshot(bytes.subarray(0, cut)), `cut at ${cut}`);
  const meta = JSON.parse(bytes.toString('utf8', 0, nl)) as Record<string, unknown>;
  const withMeta = (m: Record<string, unknown>) => Buffer.concat([Buffer.from(JSON.stringify(m) + '\n'), bytes.subarray(nl + 1)]);
  assert.match(problemOf(withMeta({ ...meta, schemaVersion: 2 })), /schemaVersion 2/);
  assert.match(problemOf(withMeta({ ...meta, kind: 'other' })), /not a unit-state snapshot/);
  assert.match(problemOf(withMeta({ ...meta, endian: meta.endian === 'LE' ? 'BE' : 'LE' })), /byte order/);
  assert.match(problemOf(withMeta({ ...meta, run: { ...(meta.run as object), counts: { passed: 6 } } })), /counts do not match/);
  // Other units (same count, other ids): refused by restore, the view left as new.
  const decoded = decodeUnitSnapshot(bytes);
  assert.ok('snapshot' in decoded);
  const other = newView(['q1', 'q2', 'q3/small', 'q3/large', 'q4', 'zz']);
  assert.equal(restoreUnitSnapshot(other, decoded.snapshot), false);
  assert.equal(other.counts.pending, 6);
});

function problemOf(b: Buffer): string {
  const d = decodeUnitSnapshot(b);
  return 'problem' in d ? d.problem : '(decoded)';
}

test('the id index finds every id, and no other, as a Map would (repeats: the last number)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 200 }),
      fc.array(fc.string({ maxLength: 6 }), { maxLength: 50 }),
      (ids, probes) => {
        const map = new Map(ids.map((id, i) => [id, i]));
        const index = new IdIndex(ids);
        for (const id of [...ids, ...probes]) assert.equal(index.get(id), map.get(id) ?? -1);
      },
    ),
    { numRuns: 300 },
  );
});

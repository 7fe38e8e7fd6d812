import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunFollower } from '../../src/core/index';
import type { Unit } from '../../src/core/config/units';
import { applyRecord, newView } from '../../src/core/model/view';
import { RowsDiff } from '../../src/extension/dashboard/data';
import { retryFlags } from '../../src/extension/model/retryFlags';

const unit = (id: string, group: string): Unit => ({
  id,
  item: { id: id.split('/')[0]!, fields: {} } as unknown as Unit['item'],
  cell: { model: group },
  group,
});
const UNITS = [unit('q1/a', 'a'), unit('q1/b', 'b'), unit('q2/a', 'a')];

/** The part of a RunFollower the rows are made from: its units, its view, its grouping. */
function follower() {
  const view = newView(UNITS.map((u) => u.id));
  const f = {
    units: UNITS,
    view,
    groupsOf: () => ({ key: '', of: UNITS.map((u) => u.group), names: ['a', 'b'] }),
  };
  return { f: f as unknown as RunFollower, view };
}

test('the first rows are all of them; then only the units that changed, by index', () => {
  const { f, view } = follower();
  const diff = new RowsDiff();
  const first = diff.next(f, '');
  assert.equal(first.changed.length, 3);
  assert.deepEqual(first.all[1], ['q1/b', 'b', 'b', 'pending', 0, null, null, null, null]);
  assert.deepEqual(diff.next(f, '').changed, [], 'nothing changed, nothing sent');

  applyRecord(view, { t: 'start', ts: 1, u: 'q2/a', a: 1 });
  applyRecord(view, { t: 'end', ts: 2, u: 'q2/a', a: 1, s: 'error', d: 40, why: 'exit code 1', usd: 0.01 });
  assert.deepEqual(diff.next(f, '').changed, [[2, ['q2/a', 'a', 'a', 'error', 1, 40, 'exit code 1', 0.01, null]]]);

  diff.reset();
  assert.equal(diff.next(f, '').changed.length, 3, 'a reloaded page gets every row again');
});

test('Retry This Unit: an error or a failure is requeued for that unit alone; a passed unit is not retried', () => {
  assert.deepEqual(retryFlags('error', 'q1/a'), ['--retry-errors', '--unit', 'q1/a']);
  assert.deepEqual(retryFlags('failed', 'q1/a'), ['--retry-failed', '--unit', 'q1/a']);
  assert.deepEqual(retryFlags('pending', 'q1/a'), ['--unit', 'q1/a']);
  assert.equal(retryFlags('passed', 'q1/a'), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Item } from '../../src/core/config/items';
import type { LoadedExperiment } from '../../src/core/config/load';
import type { Experiment } from '../../src/core/config/schema';
import { expandUnits } from '../../src/core/config/units';
import { isUserError, type UserError } from '../../src/core/errors';
import { applyRecord, newView } from '../../src/core/model/view';
import { leftOutMessage, planRun } from '../../src/core/run/plan';
import { nearIds, resolveSubset, type SubsetFlags } from '../../src/core/run/subset';
import { groupUnits } from '../../src/core/status/groupBy';

// `run --limit / --only / --unit`: which units a subset picks (pure, over fixture units), the
// plan that leaves the rest untouched, and the refusals that list what there is.

const item = (id: string, fields: Record<string, unknown>): Item => ({ id, fields: { id, ...fields }, where: {} });
const ITEMS = [
  item('q1', { tier: 'easy', meta: { lang: 'en' } }),
  item('q2', { tier: 'hard', meta: { lang: 'fr' } }),
  item('q3', { tier: 'hard', meta: {} }),
  // A field named like a matrix key: `item.model` reaches it, `model` is the matrix key.
  item('q4', { tier: 'easy', model: 'from-the-item', n: 3 }),
];
const matrix = (m: Record<string, unknown>) => m as Experiment['matrix'];
const UNITS = expandUnits(ITEMS, matrix({ model: ['small', 'large'], repeat: 2 }));

const ids = (f: SubsetFlags) => [...(resolveSubset(UNITS, f)?.ids ?? [])];
const refusal = (f: SubsetFlags): UserError => {
  try {
    resolveSubset(UNITS, f);
  } catch (e) {
    if (isUserError(e)) return e;
    throw e;
  }
  assert.fail(`expected ${JSON.stringify(f)} to be refused`);
};
const text = (e: UserError) => [e.message, ...e.hints].join('\n');

test('no subset flag: no subset', () => {
  assert.equal(resolveSubset(UNITS, {}), undefined);
  assert.equal(resolveSubset(UNITS, { only: [], units: [] }), undefined);
});

test('--only resolves keys as `status --by` does: matrix key, repeat, item field, dotted path, item.<path>', () => {
  const by = (key: string, value: string) => UNITS.filter((u, i) => groupUnits(UNITS, key).of[i] === value).map((u) => u.id);
  for (const [key, value] of [
    ['model', 'large'],
    ['repeat', '2'],
    ['tier', 'hard'],
    ['meta.lang', 'en'],
    ['item.model', 'from-the-item'],
    ['n', '3'],
  ] as const) {
    const got = ids({ only: [{ key, value }] });
    assert.ok(got.length > 0, `${key}=${value} picks some units`);
    assert.deepEqual(got, by(key, value), `${key}=${value} picks what status --by ${key} groups under ${value}`);
  }
  assert.deepEqual(ids({ only: [{ key: 'item.model', value: 'from-the-item' }] }), [
    'q4/small/r1',
    'q4/small/r2',
    'q4/large/r1',
    'q4/large/r2',
  ]);
});

test('--only is ORed within one key and ANDed across keys; --unit is ANDed with them', () => {
  assert.deepEqual(
    ids({
      only: [
        { key: 'tier', value: 'hard' },
        { key: 'model', value: 'small' },
        { key: 'repeat', value: '1' },
      ],
    }),
    ['q2/small/r1', 'q3/small/r1'],
  );
  assert.deepEqual(
    ids({
      only: [
        { key: 'meta.lang', value: 'en' },
        { key: 'meta.lang', value: 'fr' },
        { key: 'repeat', value: '2' },
        { key: 'model', value: 'large' },
      ],
    }),
    ['q1/large/r2', 'q2/large/r2'],
  );
  assert.deepEqual(ids({ units: ['q3/large/r2', 'q1/small/r1'] }), ['q1/small/r1', 'q3/large/r2'], 'in config order');
  assert.deepEqual(ids({ only: [{ key: 'tier', value: 'easy' }], units: ['q1/small/r1', 'q2/small/r1'] }), ['q1/small/r1']);
  // Units without the field are the "(none)" group of status --by, and can be picked as such.
  assert.deepEqual(ids({ only: [{ key: 'meta.lang', value: '(none)' }], units: ['q3/small/r1', 'q1/small/r1'] }), ['q3/small/r1']);
});

test('a key no unit has is refused with the item fields and matrix keys there are', () => {
  const e = refusal({ only: [{ key: 'tierr', value: 'hard' }] });
  assert.match(
    e.message,
    /No unit has "tierr" \(--only tierr=…\): expected an item field \(a dotted path like meta\.lang\) or a matrix key/,
  );
  assert.match(text(e), /item fields: id, tier, meta\.lang, model, n/);
  assert.match(text(e), /matrix keys: model, repeat/);
  assert.match(refusal({ only: [{ key: 'item.nope', value: 'x' }] }).message, /No unit has "item\.nope"/);
});

test('a value no unit has is refused with the values there are', () => {
  const e = refusal({ only: [{ key: 'tier', value: 'medium' }] });
  assert.match(e.message, /--only tier=medium: no unit has tier "medium"; expected one of the values there are/);
  assert.match(text(e), /values of tier: easy, hard$/m);
  assert.match(text(refusal({ only: [{ key: 'model', value: 'Small' }] })), /values of model: small, large/);
  assert.match(text(refusal({ only: [{ key: 'repeat', value: '3' }] })), /values of repeat: 1, 2/);
  // One good value beside a bad one is still refused: the typo would silently shrink the run.
  assert.match(
    refusal({
      only: [
        { key: 'tier', value: 'easy' },
        { key: 'tier', value: 'hrad' },
      ],
    }).message,
    /tier "hrad"/,
  );
});

test('flags that each match but never together are refused, not an empty run', () => {
  const e = refusal({
    only: [
      { key: 'tier', value: 'easy' },
      { key: 'meta.lang', value: 'fr' },
    ],
  });
  assert.match(e.message, /No unit matches all of --only tier=easy --only meta\.lang=fr/);
});

test('an unknown --unit id is refused with the nearest ids', () => {
  const e = refusal({ units: ['q1/smal/r1'] });
  assert.match(e.message, /--unit q1\/smal\/r1: no unit has this id/);
  const near = /near ids: (.*)/.exec(text(e))![1]!.split(', ');
  assert.equal(near[0], 'q1/small/r1', 'the closest first');
  assert.ok(near.length <= 5);
  // Nothing within reach: ids sharing the longest prefix, else what ids look like.
  assert.deepEqual(nearIds('q4/medium-model-name/r9', UNITS, 3), ['q4/small/r1', 'q4/small/r2', 'q4/large/r1']);
  assert.match(text(refusal({ units: ['zzzzzzzzzzzzzzzz'] })), /ids look like: q1\/small\/r1, q1\/small\/r2, q1\/large\/r1/);
});

const exp = (maxAttempts = 3) => ({ units: UNITS, config: { retries: { maxAttempts } } }) as unknown as LoadedExperiment;

test('planRun with a subset: units outside it are left out, counted, not requeued; their state untouched', () => {
  const view = newView(UNITS.map((u) => u.id));
  applyRecord(view, { t: 'end', ts: 1, u: 'q1/small/r1', a: 1, s: 'passed', d: 1 });
  applyRecord(view, { t: 'end', ts: 2, u: 'q2/small/r1', a: 3, s: 'error', d: 1 });
  applyRecord(view, { t: 'end', ts: 3, u: 'q3/small/r1', a: 3, s: 'error', d: 1 });
  const before = JSON.stringify([...view.units]);
  const subset = resolveSubset(UNITS, { only: [{ key: 'tier', value: 'hard' }], units: ['q2/small/r1', 'q2/large/r1'] });
  const plan = planRun(exp(), view, { retryErrors: true, subset, ids: true });
  assert.deepEqual(
    plan.todo.map((u) => u.id),
    ['q2/small/r1', 'q2/large/r1'],
  );
  assert.deepEqual(plan.requeue, ['q2/small/r1'], 'q3/small/r1 is an error too, but outside the subset');
  assert.equal(plan.leftOut, UNITS.length - 1 - 2, 'every unit that would run but the two (q1/small/r1 passed)');
  assert.equal(plan.reasons['skip: passed'], 1);
  assert.equal(plan.reasons['left out: not in --only tier=hard --unit q2/small/r1 --unit q2/large/r1'], plan.leftOut);
  assert.deepEqual(plan.idsByReason!['run: error, --retry-errors'], ['q2/small/r1']);
  assert.equal(JSON.stringify([...view.units]), before, 'planning changes no unit');
  assert.match(
    leftOutMessage(subset, plan.leftOut)!,
    /Ran a subset \(.*\): 13 unit\(s\) that would run were left out, .* Run again without --only\/--unit to run the rest\./,
  );
});

test('--limit takes the first N units that would run, in plan order, after --only', () => {
  const view = newView(UNITS.map((u) => u.id));
  applyRecord(view, { t: 'end', ts: 1, u: 'q2/small/r1', a: 1, s: 'passed', d: 1 });
  const subset = resolveSubset(UNITS, { only: [{ key: 'tier', value: 'hard' }], limit: 3 });
  const plan = planRun(exp(), view, { subset });
  assert.deepEqual(
    plan.todo.map((u) => u.id),
    ['q2/small/r2', 'q2/large/r1', 'q2/large/r2'],
    'the passed unit does not count against the limit',
  );
  assert.equal(plan.reasons['left out: past --limit 3'], 4, 'q3 ×4');
  assert.equal(plan.reasons['left out: not in --only tier=hard'], 8, 'q1 and q4 ×4');
  assert.equal(plan.leftOut, 12);
  assert.match(leftOutMessage(subset, plan.leftOut)!, /without --only\/--unit and --limit/);
  // A limit past what is left runs it all and leaves nothing out: the run completes.
  const all = planRun(exp(), view, { subset: resolveSubset(UNITS, { limit: 100 }) });
  assert.equal(all.todo.length, UNITS.length - 1);
  assert.equal(all.leftOut, 0);
  assert.equal(leftOutMessage(resolveSubset(UNITS, { limit: 100 }), 0), undefined);
});

test('--limit must be a whole number ≥ 1 (for library callers too)', () => {
  assert.match(refusal({ limit: 0 }).message, /Expected --limit ≥ 1 \(an integer\), got 0/);
  assert.match(refusal({ limit: 1.5 }).message, /got 1\.5/);
});

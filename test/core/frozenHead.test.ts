import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { loadExperiment } from '../../src/core/config/load';
import { expandUnits } from '../../src/core/config/units';
import { freeze, frozenText, readFrozen, readFrozenHead } from '../../src/core/model/frozen';
import { cellGroups, groupUnits } from '../../src/core/status/groupBy';
import type { Experiment } from '../../src/core/config/schema';
import { tmpDir, writeFiles } from '../helpers/tmp';

test('the frozen config is written with its items last, and its head is read without them; anything else is read whole', async () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'items.jsonl': '{"id":"a","note":"\\n  \\"items\\": ["}\n{"id":"b"}\n',
    'e.experiment.json': JSON.stringify({ name: 'h', items: { file: 'items.jsonl' }, matrix: { m: [1, 2] }, run: { command: ['true'] } }),
  });
  const exp = await loadExperiment(path.join(dir, 'e.experiment.json'));
  const frozen = freeze(exp, 5, [{ hash: 'ab'.repeat(32), until: 4, units: 2 }]);
  const file = path.join(dir, 'experiment.json');
  fs.writeFileSync(file, frozenText(frozen));
  const { items: _items, ...head } = JSON.parse(JSON.stringify(frozen)) as typeof frozen;
  assert.deepEqual(readFrozenHead(file), head);
  assert.deepEqual(readFrozen(file), JSON.parse(JSON.stringify(frozen)), 'the text is the same JSON');
  // An older layout (indented, items not last), a cut file, a head that fails the check: undefined, the caller reads it whole.
  fs.writeFileSync(file, JSON.stringify({ ...frozen, itemsLast: undefined }, null, 2) + '\n');
  assert.equal(readFrozenHead(file), undefined);
  const text = frozenText(frozen);
  fs.writeFileSync(file, text.slice(0, -3));
  assert.equal(readFrozenHead(file), undefined);
  fs.writeFileSync(file, text.replace(`"hash": "${frozen.hash}"`, '"hash": "not hex"'));
  assert.equal(readFrozenHead(file), undefined);
  fs.writeFileSync(file, frozenText({ ...frozen, items: [] }));
  assert.deepEqual(readFrozenHead(file), head);
});

test('groups by matrix cell follow from a unit’s place alone: the same as grouping the units', () => {
  const value = fc.oneof(fc.constantFrom('x', 'y', 'z', 'a/b'), fc.integer({ min: 0, max: 3 }), fc.boolean());
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 5 }),
      fc.dictionary(fc.constantFrom('model', 'temp', 'k'), fc.uniqueArray(value, { minLength: 1, maxLength: 3 }), {
        noNullPrototype: true,
      }),
      fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      (n, keys, repeat) => {
        const matrix = { ...keys, ...(repeat ? { repeat } : {}) } as Experiment['matrix'];
        const items = Array.from({ length: n }, (_, i) => ({ id: `i${i}`, fields: {}, where: {} }));
        let units;
        try {
          units = expandUnits(items, matrix);
        } catch {
          return; // ids that run into each other ("a/b"): no such run exists
        }
        // These values cannot join into one group name from two cells: the shortcut always applies.
        assert.deepEqual(cellGroups(matrix, units.length), groupUnits(units, ''));
      },
    ),
    { numRuns: 300 },
  );
});

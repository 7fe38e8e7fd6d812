import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closest, editDistance } from '../../src/core/didYouMean';

test('edit distance counts insertions, deletions, substitutions and swaps of neighbours as one each', () => {
  assert.equal(editDistance('concurrency', 'concurrency'), 0);
  assert.equal(editDistance('concurency', 'concurrency'), 1);
  assert.equal(editDistance('mdoel', 'model'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('', 'abc'), 3);
});

test('closest offers only a near candidate, case-insensitively', () => {
  const keys = ['name', 'items', 'matrix', 'run', 'result', 'concurrency', 'retries', 'rateLimit', 'budget', 'seed'];
  assert.equal(closest('concurency', keys), 'concurrency');
  assert.equal(closest('ratelimit', keys), 'rateLimit');
  assert.equal(closest('retires', keys), 'retries');
  assert.equal(closest('--retry-error', ['--retry-errors', '--retry-failed']), '--retry-errors');
  assert.equal(closest('zzzzzz', keys), undefined);
  // Short words get one edit at most: "id" is not "run".
  assert.equal(closest('id', keys), undefined);
  assert.equal(closest('rn', keys), 'run');
});

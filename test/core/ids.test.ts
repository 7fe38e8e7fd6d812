import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import fc from 'fast-check';
import { idProblem, unitFolderName, unitSeed } from '../../src/core/ids';

test('folder names never escape, never collide case-insensitively, and stay short', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 400 }), (a, b) => {
      const fa = unitFolderName(a);
      assert.ok(/^[a-z0-9._-]+~[0-9a-f]{16}$/.test(fa), fa);
      assert.ok(Buffer.byteLength(fa) <= 255);
      assert.equal(path.basename(path.join('/run/units', fa)), fa);
      assert.notEqual(fa, '..');
      if (a !== b) assert.notEqual(fa.toLowerCase(), unitFolderName(b).toLowerCase());
    }),
    { numRuns: 2000 },
  );
});

test('case-only and unicode look-alike ids get distinct folders', () => {
  const ids = ['Q1', 'q1', 'café', 'cafe\u0301', 'ｑ1', 'q１'];
  assert.equal(new Set(ids.map((i) => unitFolderName(i).toLowerCase())).size, ids.length);
});

test('hostile ids are named as such', () => {
  assert.match(idProblem('../x')!, /".." path segment/);
  assert.match(idProblem('/abs')!, /absolute/);
  assert.match(idProblem('a\u0000')!, /control character/);
  assert.match(idProblem('x'.repeat(2000))!, /at most 1024/);
  assert.equal(idProblem('gsm8k/q-1/sonnet/r2'), undefined);
});

test('per-unit seeds depend on seed and id only', () => {
  assert.equal(unitSeed(1234, 'a/b'), unitSeed(1234, 'a/b'));
  assert.notEqual(unitSeed(1234, 'a/b'), unitSeed(1235, 'a/b'));
  assert.notEqual(unitSeed(1234, 'a/b'), unitSeed(1234, 'a/c'));
});

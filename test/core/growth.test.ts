import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadExperimentText, type LoadedExperiment } from '../../src/core/config/load';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { freeze, peekFrozenHash, writeFrozen } from '../../src/core/model/frozen';
import { tmpDir } from '../helpers/tmp';
import { growthOf, growthText, type Growth } from '../../src/core/model/growth';

/** An experiment from inline rows and a config patch: what a user's edit makes of it. */
async function experiment(rows: unknown[], patch: Record<string, unknown> = {}): Promise<LoadedExperiment> {
  const config = {
    name: 'g',
    items: { values: rows },
    matrix: { model: ['small'], repeat: 1 },
    run: { command: ['node', 'unit.js', '${item.q}', '${model}'] },
    seed: 7,
    ...patch,
  };
  return loadExperimentText(JSON.stringify(config), '/tmp/growth/g.experiment.json');
}

const rows = [
  { id: 'q1', q: 'a' },
  { id: 'q2', q: 'b' },
];

async function growth(before: LoadedExperiment, after: LoadedExperiment): Promise<Growth> {
  return growthOf(freeze(before, 0), after);
}

test('the same config is the same run', async () => {
  const a = await experiment(rows);
  assert.deepEqual(await growth(a, await experiment(rows)), { kind: 'same' });
});

test('a row added, a matrix value added and repeat raised only add units', async () => {
  const a = await experiment(rows);
  const b = await experiment([...rows, { id: 'q3', q: 'c' }], { matrix: { model: ['small', 'large'], repeat: 2 } });
  const g = await growth(a, b);
  assert.equal(g.kind, 'grows');
  if (g.kind !== 'grows') return;
  // 3 items × 2 models × 2 repeats = 12, of which q1 and q2 with small, repeat 1 were there.
  assert.equal(g.added.length, 10);
  assert.deepEqual(g.removed, []);
  assert.ok(g.added.includes('q3/large/r2') && g.added.includes('q1/small/r2'));
  assert.ok(!g.added.includes('q1/small/r1'));
  assert.match(growthText(g), /^10 units added \(q1\/small\/r2, q1\/large\/r1, q1\/large\/r2, …\)$/);
});

test('a row removed and a matrix value removed leave units behind; nothing else changes', async () => {
  const a = await experiment(rows, { matrix: { model: ['small', 'large'], repeat: 1 } });
  const b = await experiment([rows[0]], { matrix: { model: ['large'], repeat: 1 } });
  const g = await growth(a, b);
  assert.deepEqual(g, { kind: 'grows', added: [], removed: ['q1/small/r1', 'q2/small/r1', 'q2/large/r1'] });
});

test('a changed row names the item and its fields: that changes what an existing unit does', async () => {
  const a = await experiment(rows);
  const b = await experiment([{ id: 'q1', q: 'A', tier: 'hard' }, rows[1], { id: 'q3', q: 'c' }]);
  const g = await growth(a, b);
  assert.equal(g.kind, 'drift');
  if (g.kind !== 'drift') return;
  assert.deepEqual(g.items, [{ id: 'q1', fields: ['q', 'tier'] }]);
  assert.deepEqual(g.fields, []);
});

test('the command, the seed, the matrix keys or a repeat that comes or goes are drift, field by field', async () => {
  const a = await experiment(rows);
  const cmd = await growth(a, await experiment(rows, { run: { command: ['node', 'unit2.js', '${item.q}', '${model}'] } }));
  assert.equal(cmd.kind, 'drift');
  assert.deepEqual(cmd.kind === 'drift' && cmd.fields.map((f) => f.path), ['$.command']);
  const seed = await growth(a, await experiment(rows, { seed: 8 }));
  assert.deepEqual(seed.kind === 'drift' && seed.fields.map((f) => `${f.path}: ${f.before} → ${f.after}`), ['$.seed: 7 → 8']);
  const keys = await growth(a, await experiment(rows, { matrix: { model: ['small'], temp: [0], repeat: 1 } }));
  assert.deepEqual(keys.kind === 'drift' && keys.fields.map((f) => f.path), ['$.matrix (its keys)']);
  const noRepeat = await growth(a, await experiment(rows, { matrix: { model: ['small'] } }));
  assert.deepEqual(noRepeat.kind === 'drift' && noRepeat.fields.map((f) => f.path), ['$.matrix.repeat']);
});

test('a runtime knob alone is not even a new config', async () => {
  const a = await experiment(rows);
  const b = await experiment(rows, { concurrency: 3, retries: { maxAttempts: 5 } });
  assert.deepEqual(await growth(a, b), { kind: 'same' });
});

test('the frozen config names its hash in its first bytes, read without parsing the rest; a FIFO or a link is not read', async () => {
  const dir = tmpDir();
  const a = await experiment(rows);
  const file = path.join(dir, 'experiment.json');
  await writeFrozen(file, () => freeze(a, 0));
  assert.equal(peekFrozenHash(file), a.hash);
  fs.symlinkSync(file, path.join(dir, 'link.json'));
  assert.equal(peekFrozenHash(path.join(dir, 'link.json')), undefined);
  execFileSync('mkfifo', [path.join(dir, 'fifo.json')]);
  assert.equal(peekFrozenHash(path.join(dir, 'fifo.json')), undefined);
  fs.writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ hash: a.hash }));
  assert.equal(peekFrozenHash(path.join(dir, 'other.json')), undefined, 'another layout: read it whole');
});

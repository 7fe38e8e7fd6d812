import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadExperiment } from '../../src/core/config/load';
import { UserError } from '../../src/core/errors';
import { tmpDir, writeFiles } from '../helpers/tmp';

function exp(extra: Record<string, unknown> = {}, items: unknown = { file: 'data.jsonl' }): string {
  return JSON.stringify({ name: 'e', items, run: { command: ['node', 'x.js', '${item.id}'] }, ...extra }, null, 2);
}

async function loadError(files: Record<string, string>): Promise<UserError> {
  const dir = tmpDir();
  writeFiles(dir, files);
  try {
    await loadExperiment(path.join(dir, 'e.experiment.json'));
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error).stack}`);
    return e;
  }
  assert.fail('expected the experiment to be refused');
}

const rows = '{"id":"a","q":1}\n{"id":"b","q":2}\n';

test('loads JSONC with comments and trailing commas; units are items × matrix × repeat', async () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'data.jsonl': rows,
    'e.experiment.json': `{
      // a comment
      "name": "e", "items": { "file": "data.jsonl" },
      "matrix": { "model": ["m1", "m2"], "repeat": 2, },
      "run": { "command": ["echo", "\${item.q}", "\${model}"], },
    }`,
  });
  const e = await loadExperiment(path.join(dir, 'e.experiment.json'));
  assert.deepEqual(
    e.units.map((u) => u.id),
    ['a/m1/r1', 'a/m1/r2', 'a/m2/r1', 'a/m2/r2', 'b/m1/r1', 'b/m1/r2', 'b/m2/r1', 'b/m2/r2'],
  );
  assert.equal(e.units[2]!.group, 'm2');
  assert.equal(e.config.concurrency, 4);
});

test('unknown key: file, line and path named', async () => {
  const text = exp({ concurency: 3 });
  const e = await loadError({ 'data.jsonl': rows, 'e.experiment.json': text });
  assert.match(e.message, /e\.experiment\.json:\d+ \$\.concurency: Unknown key "concurency"/);
  assert.equal(e.where.line, text.split('\n').findIndex((l) => l.includes('"concurency"')) + 1);
});

test('wrong type names the path and what was expected', async () => {
  const e = await loadError({ 'data.jsonl': rows, 'e.experiment.json': exp({ concurrency: 0 }) });
  assert.match(e.message, /\$\.concurrency: .*>=1|\$\.concurrency: .*1/);
});

test('duplicate item ids name both lines', async () => {
  const e = await loadError({ 'data.jsonl': '{"id":"a"}\n{"id":"b"}\n{"id":"a"}\n', 'e.experiment.json': exp() });
  assert.match(e.message, /data\.jsonl:3: Duplicate item id "a" \(first at line 1\)/);
});

test('missing dataset names the experiment file and $.items.file', async () => {
  const e = await loadError({ 'e.experiment.json': exp() });
  assert.match(e.message, /e\.experiment\.json:\d+ \$\.items\.file: Expected a readable dataset at .*data\.jsonl, got no such file/);
});

test('bad regex in rateLimit.patterns', async () => {
  const e = await loadError({ 'data.jsonl': rows, 'e.experiment.json': exp({ rateLimit: { patterns: ['ok', 'resets (?<reset>.+'] } }) });
  assert.match(e.message, /\$\.rateLimit\.patterns\[1\]: Expected a valid regular expression/);
});

test('unknown placeholder names its place in the command', async () => {
  const e = await loadError({
    'data.jsonl': rows,
    'e.experiment.json': JSON.stringify({ name: 'e', items: { file: 'data.jsonl' }, run: { command: ['x', '${modle}'] } }),
  });
  assert.match(e.message, /\$\.run\.command\[1\]: Unknown placeholder \$\{modle\}/);
});

test('an item field used by a placeholder must exist in every item', async () => {
  const e = await loadError({
    'data.jsonl': '{"id":"a","q":1}\n{"id":"b"}\n',
    'e.experiment.json': JSON.stringify({ name: 'e', items: { file: 'data.jsonl' }, run: { command: ['x', '${item.q}'] } }),
  });
  assert.match(e.message, /data\.jsonl:2: Item "b" has no field "q"/);
});

for (const [label, id] of [
  ['../ escape', '../../etc/passwd'],
  ['NUL', 'a\u0000b'],
  ['absolute path', '/etc/passwd'],
  ['newline', 'a\nb'],
  ['dot segment', 'a/./b'],
] as const) {
  test(`hostile item id refused (${label})`, async () => {
    const e = await loadError({ 'data.jsonl': JSON.stringify({ id: id }) + '\n', 'e.experiment.json': exp() });
    assert.match(e.message, /data\.jsonl:1: Item id .* (has a|contains a|is an absolute)/);
  });
}

test('broken JSONC points at the line', async () => {
  const e = await loadError({ 'e.experiment.json': '{\n  "name": "e",\n  "items": { "file": "x.jsonl" }\n  "run": {}\n}' });
  assert.match(
    e.message,
    /e\.experiment\.json:4: Expected valid JSON \(comments and trailing commas are fine\): a "," expected between entries at column 3, before "\\"run\\": {}"/,
  );
});

test('CSV with quotes, commas and newlines inside fields', async () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'data.csv': 'id,question\nq1,"What is 1,2?"\nq2,"two\nlines ""quoted"""\n',
    'e.experiment.json': exp({}, { file: 'data.csv' }),
  });
  const e = await loadExperiment(path.join(dir, 'e.experiment.json'));
  assert.deepEqual(
    e.items.map((i) => i.fields.question),
    ['What is 1,2?', 'two\nlines "quoted"'],
  );
});

test('JSON array, inline values and globs', async () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'data.json': '[{"id": 1}, {"id": 2}]',
    'tests/a/T1/x/in.txt': '',
    'tests/b/T2/y/in.txt': '',
    'arr.experiment.json': exp({}, { file: 'data.json' }),
    'vals.experiment.json': exp({}, { values: ['x', 'y', { id: 'z', extra: 1 }] }),
    'glob.experiment.json': exp({}, { glob: 'tests/*/T*/*/' }),
  });
  assert.deepEqual(
    (await loadExperiment(path.join(dir, 'arr.experiment.json'))).items.map((i) => i.id),
    ['1', '2'],
  );
  assert.deepEqual(
    (await loadExperiment(path.join(dir, 'vals.experiment.json'))).items.map((i) => i.id),
    ['x', 'y', 'z'],
  );
  assert.deepEqual(
    (await loadExperiment(path.join(dir, 'glob.experiment.json'))).items.map((i) => i.id),
    ['tests/a/T1/x', 'tests/b/T2/y'],
  );
});

test('the hash covers results, not runtime knobs', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'data.jsonl': rows, 'e.experiment.json': exp({ concurrency: 2, seed: 1 }) });
  const a = await loadExperiment(path.join(dir, 'e.experiment.json'));
  writeFiles(dir, {
    'e.experiment.json': exp({
      concurrency: 9,
      seed: 1,
      retries: { maxAttempts: 5 },
      run: { command: ['node', 'x.js', '${item.id}'], timeoutSeconds: 5 },
    }),
  });
  const b = await loadExperiment(path.join(dir, 'e.experiment.json'));
  assert.equal(a.hash, b.hash);
  writeFiles(dir, { 'e.experiment.json': exp({ concurrency: 2, seed: 2 }) });
  const c = await loadExperiment(path.join(dir, 'e.experiment.json'));
  assert.notEqual(a.hash, c.hash);
  writeFiles(dir, { 'data.jsonl': rows + '{"id":"c","q":3}\n', 'e.experiment.json': exp({ concurrency: 2, seed: 1 }) });
  assert.notEqual(a.hash, (await loadExperiment(path.join(dir, 'e.experiment.json'))).hash);
});

test('an id field no item has lists the fields the item has', async () => {
  const e = await loadError({ 'data.jsonl': '{"uid":"a","q":1}\n', 'e.experiment.json': exp({}, { file: 'data.jsonl', id: 'id' }) });
  assert.match(
    e.message,
    /data\.jsonl:1: Expected a string or number id in field "id", got nothing \(this item's fields: "uid", "q"; "items\.id" names the id field\)/,
  );
});

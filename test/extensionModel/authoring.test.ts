import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadExperimentText } from '../../src/core/config/load';
import { UserError } from '../../src/core/errors';
import { nameLine, parseJsonPath, placeOf, relativeToExperiment, suggestionIn, type ErrorPlace } from '../../src/extension/loaderErrors';
import { experimentFiles, freeFolder, quickstartFiles, TEMPLATE_RATE_LIMIT_PATTERNS } from '../../src/extension/starterFiles';

function folderWith(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resumable-authoring-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** The loader's error on `text` (as the extension gets it) and where the Problems view puts it. */
async function refused(dir: string, text: string): Promise<{ e: UserError; place: ErrorPlace; marked: string }> {
  const file = path.join(dir, 'x.experiment.json');
  const e = await loadExperimentText(text, file).then(
    () => assert.fail('expected the loader to refuse it'),
    (err: unknown) => err,
  );
  assert.ok(e instanceof UserError, String(e));
  const place = placeOf(text, file, e, process.cwd());
  return { e, place, marked: text.slice(place.start, place.end) };
}

const ITEMS = '{"id": "q-1", "question": "1 + 1", "expected": 2}\n{"id": "q-2", "question": "2 + 2", "expected": 4}\n';

test('JSON paths back to segments: $.run.command[3], $["a key"].x, and junk', () => {
  assert.deepEqual(parseJsonPath('$.run.command[3]'), ['run', 'command', 3]);
  assert.deepEqual(parseJsonPath('$["a key"].x'), ['a key', 'x']);
  assert.deepEqual(parseJsonPath('$'), []);
  assert.equal(parseJsonPath('run.command'), undefined);
});

test('an unknown placeholder is marked on exactly the ${…} inside its string', async () => {
  const dir = folderWith({ 'items.jsonl': ITEMS });
  const text = `{
  "name": "x",
  "items": { "file": "items.jsonl" },
  "run": { "command": ["node", "unit.mjs", "--q", "\${item.question}", "--m", "\${modle}"] }
}
`;
  const { e, place, marked } = await refused(dir, text);
  assert.match(e.detail, /Unknown placeholder \$\{modle\}/);
  assert.equal(marked, '${modle}');
  assert.equal(text.slice(0, place.start).split('\n').length, 4, 'on line 4');
  assert.equal(place.other, undefined);
});

test('a missing dataset is marked on items.file and said relative to the experiment folder', async () => {
  const dir = folderWith({});
  const text = '{ "name": "x", "items": { "file": "data/nope.jsonl" }, "run": { "command": ["node", "u.mjs"] } }';
  const { e, marked } = await refused(dir, text);
  assert.equal(marked, '"data/nope.jsonl"');
  // The loader names it from the process's folder; the extension, from the experiment's.
  assert.equal(relativeToExperiment(e.detail, process.cwd(), dir), 'Expected a readable dataset at data/nope.jsonl, got no such file');
});

test("an item without its id field is an error in the dataset: marked on items.file, with the dataset's line", async () => {
  const dir = folderWith({ 'items.jsonl': '{"id": "a"}\n{"name": "b"}\n' });
  const text = '{ "name": "x", "items": { "file": "items.jsonl" }, "run": { "command": ["node", "u.mjs"] } }';
  const { e, place, marked } = await refused(dir, text);
  assert.match(e.detail, /Expected a string or number id in field "id"/);
  assert.equal(marked, '"items.jsonl"');
  assert.deepEqual(place.other, { file: path.join(dir, 'items.jsonl'), line: 2 });
});

test('a bad regex (schema refinement) and an unknown key: on the value, on the key', async () => {
  const dir = folderWith({ 'items.jsonl': ITEMS });
  const bad = await refused(
    dir,
    '{ "name": "x", "items": { "file": "items.jsonl" }, "run": { "command": ["node"] }, "rateLimit": { "patterns": ["ok", "(unclosed"] } }',
  );
  assert.equal(bad.marked, '"(unclosed"');
  const unknown = await refused(
    dir,
    '{\n  "name": "x",\n  "items": { "file": "items.jsonl" },\n  "run": { "command": ["node"] },\n  "concurrancy": 4\n}',
  );
  assert.equal(unknown.marked, '"concurrancy"');
});

test('a missing required key is marked on its parent key; an error over many lines on its key', async () => {
  const dir = folderWith({ 'items.jsonl': ITEMS });
  const { marked } = await refused(dir, '{\n  "name": "x",\n  "items": { "file": "items.jsonl" },\n  "run": {\n    "cwd": "."\n  }\n}');
  assert.equal(marked, '"run"');
});

test('the CodeLens line is the top-level "name" (0 without one)', () => {
  assert.equal(nameLine('{\n  // a comment\n  "items": { "name": "inner" },\n  "name": "x"\n}'), 3);
  assert.equal(nameLine('{ "items": {} }'), 0);
  assert.equal(nameLine('not json'), 0);
});

test('New Experiment File: the files it writes load as they are; the rate-limit patterns are anchored', async () => {
  const files = experimentFiles('my-eval');
  const dir = folderWith(files);
  const loaded = await loadExperimentText(files['my-eval.experiment.json']!, path.join(dir, 'my-eval.experiment.json'));
  assert.equal(loaded.units.length, 10);
  assert.deepEqual(loaded.config.rateLimit.patterns, TEMPLATE_RATE_LIMIT_PATTERNS);
  const isRateLimit = (s: string) => loaded.config.rateLimit.patterns.some((p) => new RegExp(p, 'i').test(s));
  for (const yes of ['HTTP/1.1 429 Too Many Requests', 'HTTP 429', 'status: 429', 'Status code 429', 'Rate limit reached', 'rate_limited'])
    assert.ok(isRateLimit(yes), yes);
  for (const no of ['  File "eval.py", line 429, in judge', 'item q-429 failed', 'took 429 ms', 'generate 4290 tokens'])
    assert.ok(!isRateLimit(no), no);
  const q = quickstartFiles();
  const qdir = folderWith(q);
  assert.equal(
    (await loadExperimentText(q['quickstart.experiment.json']!, path.join(qdir, 'quickstart.experiment.json'))).units.length,
    200,
  );
});

test('free folder names: my-eval, then my-eval-2', () => {
  const dir = folderWith({});
  assert.equal(freeFolder(dir, 'my-eval'), 'my-eval');
  fs.mkdirSync(path.join(dir, 'my-eval'));
  assert.equal(freeFolder(dir, 'my-eval'), 'my-eval-2');
});

test('a "did you mean" of the loader becomes a Quick Fix only where it fits the marked text', () => {
  assert.equal(suggestionIn('Unknown placeholder ${modle} (did you mean ${model}?); expected one of …', '${modle}'), '${model}');
  assert.equal(suggestionIn('Unknown key "concurancy"; did you mean "concurrency"?', '"concurancy"'), '"concurrency"');
  // The item-field hint points into the dataset; the marked text is items.file: no fix.
  assert.equal(suggestionIn('Item "q-1" has no field "qestion"; did you mean ${item.question}? (…)', '"items.jsonl"'), undefined);
  assert.equal(suggestionIn('Expected a readable dataset', '"x"'), undefined);
});

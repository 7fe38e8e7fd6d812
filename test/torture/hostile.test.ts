import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliSync, runDirOf } from '../helpers/cli';
import { loadExperimentText } from '../../src/core/config/load';
import { isUserError } from '../../src/core/errors';
import { parseLine } from '../../src/core/store/journalReader';
import { unitFolderName } from '../../src/core/ids';
import { FULL, report } from './torture';

const runs = (quick: number, full: number) => ({ numRuns: FULL ? full : quick });

/** Values an attacker or a sloppy script puts in an id field. */
const hostileId = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('..', '../../etc/passwd', '/etc/passwd', 'C:\\Windows', 'a/../../b', '.', './x', 'a\u0000b', 'x'.repeat(5000), 'ＡＢＣ', 'café', 'cafe\u0301', 'Q1', 'q1', '\u202e', ''),
  fc.array(fc.constantFrom('..', '.', 'a', '/', '\\', '\u0000', 'é'), { maxLength: 12 }).map((xs) => xs.join('')),
);

test('hostile experiment files: any text, any structure — a clear error (file, line/path) or a valid experiment, never a crash', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'items.jsonl': '{"id":"a"}\n' });
  const file = path.join(dir, 'x.experiment.json');
  const f = { cases: 0, userErrors: 0, valid: 0 };
  const anyJson = fc.jsonValue({ maxDepth: 4 });
  const shaped = fc.record({
    name: fc.oneof(fc.string(), fc.constantFrom('ok', 'ok', '../x', '')),
    items: fc.oneof(anyJson, fc.record({ file: fc.constantFrom('items.jsonl', '../../etc/passwd', '/dev/null', 'nope.csv') }), fc.record({ values: fc.array(fc.record({ id: hostileId }), { maxLength: 5 }) })),
    run: fc.oneof(anyJson, fc.record({ command: fc.array(fc.string(), { minLength: 1, maxLength: 3 }) })),
    concurrency: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer(), fc.double(), fc.string()),
  }, { requiredKeys: ['name', 'items', 'run'] });
  await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), anyJson.map((v) => JSON.stringify(v)), shaped.map((v) => JSON.stringify(v, null, 2))), async (text) => {
    f.cases++;
    try {
      await loadExperimentText(text, file);
      f.valid++;
    } catch (e) {
      if (!isUserError(e)) throw new Error(`not a clear error for ${JSON.stringify(text).slice(0, 200)}: ${(e as Error).stack}`);
      assert.ok(e.message.length > 0);
      f.userErrors++;
    }
  }), runs(300, 5000));
  report('hostileExperiments', f);
  assert.ok(f.userErrors > 0 && f.cases > 0);
});

test('hostile item ids: refused by name, or a folder inside units/ that no other id shares, even case-insensitively', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'x.experiment.json');
  const f = { cases: 0, refused: 0, accepted: 0 };
  await fc.assert(fc.asyncProperty(fc.uniqueArray(hostileId, { minLength: 1, maxLength: 6 }), async (ids) => {
    f.cases++;
    const text = JSON.stringify({ name: 'h', items: { values: ids.map((id) => ({ id })) }, run: { command: ['true'] } });
    try {
      const exp = await loadExperimentText(text, file);
      f.accepted++;
      const folders = exp.units.map((u) => unitFolderName(u.id));
      for (const folder of folders) assert.equal(path.dirname(path.join('/r/units', folder)), '/r/units');
      assert.equal(new Set(folders.map((x) => x.toLowerCase())).size, folders.length);
    } catch (e) {
      if (!isUserError(e)) throw e;
      assert.match(e.message, /items|id/i, e.message);
      f.refused++;
    }
  }), runs(300, 5000));
  report('hostileIds', f);
  assert.ok(f.refused > 0 && f.accepted > 0, JSON.stringify(f));
});

test('hostile journal lines: any bytes parse to a record or to "not a record", never a crash', () => {
  const f = { cases: 0, records: 0 };
  fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.jsonValue().map((v) => JSON.stringify(v)), fc.record({ t: fc.constantFrom('start', 'end', 'adopt', 'header', 'pause', 'merged', 'x'), ts: fc.oneof(fc.integer(), fc.string()), u: fc.oneof(hostileId, fc.integer()) }).map((v) => JSON.stringify(v))), (line) => {
    f.cases++;
    const r = parseLine(line);
    if (r) {
      f.records++;
      assert.equal(typeof r.t, 'string');
      assert.equal(typeof r.ts, 'number');
    }
  }), runs(2000, 50_000));
  report('hostileJournalLines', f);
});

test('a hostile id in a real run: `../`, absolute and NUL ids are refused with the item named, and nothing is written outside the run folder', () => {
  const dir = tmpDir();
  for (const bad of ['../../escape', '/tmp/abs', 'nul\u0000byte']) {
    writeFiles(dir, { 'items.jsonl': `{"id":"ok"}\n${JSON.stringify({ id: bad })}\n`, 'e.experiment.json': JSON.stringify({ name: 'h', items: { file: 'items.jsonl' }, run: { command: ['sh', '-c', 'echo \'{"passed":true}\' > "$RESUMABLE_UNIT_DIR/result.json"'] } }) });
    const r = cliSync(['run', 'e.experiment.json'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /items\.jsonl:2/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(!fs.existsSync(path.join(dir, '.resumable')), 'nothing written');
  }
  // Look-alikes and case-only differences run side by side, each in its own folder.
  writeFiles(dir, { 'items.jsonl': ['Q1', 'q1', 'café', 'cafe\u0301', 'ｑ1'].map((id) => JSON.stringify({ id })).join('\n') + '\n' });
  const ok = cliSync(['run', 'e.experiment.json'], dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(fs.readdirSync(path.join(runDirOf(dir), 'units')).length, 5);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliSync, makeExperiment, runDirOf } from '../helpers/cli';

function edit(file: string, change: (v: Record<string, unknown>) => void): void {
  const v = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(v);
  fs.writeFileSync(file, JSON.stringify(v, null, 2));
}

test('a result-changing edit is refused with a field-by-field diff and the ways forward (invariant 5)', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 6, sleep: '0', extra: { seed: 1 } });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const before = fs.readdirSync(path.join(dir, '.resumable'));
  edit(file, (v) => {
    v.seed = 2;
    (v.run as { command: string[] }).command.push('--extra');
  });
  fs.appendFileSync(path.join(dir, 'items.jsonl'), '{"id":"item-new"}\n');
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /changed in what its units do/);
  assert.match(r.stderr, /\$\.seed: 1 → 2/);
  assert.match(r.stderr, /\$\.run\.command: \["sh","unit\.sh"\] → \["sh","unit\.sh","--extra"\]/);
  assert.doesNotMatch(r.stderr, /items changed/, 'an added item is not a change to what existing units do');
  assert.match(r.stderr, /--fresh/);
  assert.match(r.stderr, /new "name"/);
  assert.deepEqual(fs.readdirSync(path.join(dir, '.resumable')), before, 'nothing written');

  const fresh = cliSync(['run', file, '--fresh'], dir);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /Archived the previous run exp-[0-9a-f]{8} \(other config\)/);
  const runDir = runDirOf(dir);
  const archived = fs.readdirSync(path.join(runDir, 'archive'));
  assert.equal(archived.length, 1);
  assert.ok(fs.existsSync(path.join(runDir, 'archive', archived[0]!, 'journal.jsonl')), 'the old run is kept whole');
});

test('runtime knobs may change freely on resume', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 6, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  edit(file, (v) => {
    v.concurrency = 1;
    v.retries = { maxAttempts: 9, backoffSeconds: [1, 2] };
    v.rateLimit = { maxWaitSeconds: 5 };
    v.graceSeconds = 1;
  });
  const r = cliSync(['run', file, '--concurrency', '3'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /6 of 6 units already done/);
});

test('--fresh on the same config archives the live state; nothing is deleted', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 4, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const r = cliSync(['run', file, '--fresh'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /0 of 4 units already done/);
  const runDir = runDirOf(dir);
  const [stamp] = fs.readdirSync(path.join(runDir, 'archive'));
  assert.deepEqual(fs.readdirSync(path.join(runDir, 'archive', stamp!)).sort(), [
    'experiment.json',
    'items.fingerprint.json',
    'items.index.bin',
    'journal.jsonl',
    'snapshot.bin',
    'state.json',
    'units',
  ]);
  assert.equal(fs.readdirSync(path.join(runDir, 'archive', stamp!, 'units')).length, 4);
});

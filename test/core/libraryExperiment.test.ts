import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Run, isUserError, loadExperiment, type ExperimentInput } from '../../src/core/index';
import { tmpDir, writeFiles } from '../helpers/tmp';

const items = Array.from({ length: 5 }, (_, i) => JSON.stringify({ id: `q${i}`, question: `${i}+${i}` })).join('\n') + '\n';

async function refusedWith(run: Run, pattern: RegExp): Promise<void> {
  await assert.rejects(run.run(), (e: unknown) => {
    assert.ok(isUserError(e), `a UserError, not ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('with a handler an experiment file needs no run key: every unit runs in the handler', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'items.jsonl': items, 'e.experiment.json': JSON.stringify({ name: 'handled', items: { file: 'items.jsonl' } }) });
  const seen: string[] = [];
  const run = new Run({
    experiment: path.join(dir, 'e.experiment.json'),
    handler: async ({ unit }) => {
      seen.push(unit.id);
      return { passed: true };
    },
  });
  const summary = await run.run();
  assert.equal(summary.exitCode, 0, summary.message);
  assert.equal(summary.counts.passed, 5);
  assert.deepEqual(seen.sort(), ['q0', 'q1', 'q2', 'q3', 'q4']);
});

test('an experiment given as an object runs with a handler, its paths taken from baseDir', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'data/items.jsonl': items });
  const experiment: ExperimentInput = { name: 'inline', items: { file: 'data/items.jsonl' }, matrix: { model: ['a', 'b'] } };
  const run = new Run({ experiment, baseDir: dir, handler: async ({ unit }) => ({ passed: unit.cell.model === 'a' }) });
  const summary = await run.run();
  assert.equal(summary.exitCode, 0, summary.message);
  assert.equal(summary.counts.passed, 5);
  assert.equal(summary.counts.failed, 5);
  const runs = fs.readdirSync(path.join(dir, '.resumable'));
  assert.equal(runs.length, 1);
  assert.match(runs[0]!, /^inline-[0-9a-f]{8}$/);

  // The same object again resumes: nothing runs twice.
  let again = 0;
  const resumed = await new Run({ experiment, baseDir: dir, handler: async () => (again++, { passed: true }) }).run();
  assert.equal(resumed.exitCode, 0);
  assert.equal(again, 0, 'finished units are not run again');
});

test('an object without baseDir is relative to the current folder', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'items.jsonl': items });
  const before = process.cwd();
  process.chdir(dir);
  try {
    const summary = await new Run({
      experiment: { name: 'here', items: { file: 'items.jsonl' } },
      handler: async () => ({ passed: true }),
    }).run();
    assert.equal(summary.counts.passed, 5, summary.message);
  } finally {
    process.chdir(before);
  }
  assert.equal(fs.readdirSync(path.join(dir, '.resumable')).length, 1);
});

test('an object with run.command and no handler runs its command', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'items.jsonl': items });
  const summary = await new Run({
    experiment: { name: 'cmd', items: { file: 'items.jsonl' }, run: { command: ['sh', '-c', 'exit 0'] }, result: { from: 'exit' } },
    baseDir: dir,
  }).run();
  assert.equal(summary.exitCode, 0, summary.message);
  assert.equal(summary.counts.passed, 5);
});

test('without a handler, an object or a file with no run.command or run.worker is refused before anything is written', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'items.jsonl': items, 'e.experiment.json': JSON.stringify({ name: 'nothing', items: { file: 'items.jsonl' } }) });
  await refusedWith(
    new Run({ experiment: { name: 'nothing', items: { file: 'items.jsonl' } }, baseDir: dir }),
    /^\(inline experiment\) \$\.run: Expected run\.command .* or run\.worker .*, got neither/,
  );
  await refusedWith(new Run({ experiment: path.join(dir, 'e.experiment.json') }), /e\.experiment\.json:1 \$\.run: Expected run\.command/);
  // Loaded without the check (as for a handler), then given to a Run without one.
  const loaded = await loadExperiment(path.join(dir, 'e.experiment.json'), { requireRun: false });
  await refusedWith(new Run({ experiment: loaded }), /e\.experiment\.json \$\.run: Expected run\.command/);
  assert.ok(!fs.existsSync(path.join(dir, '.resumable')), 'no run folder was made');
});

test('a bad experiment object is a clear message, not a TypeError', async () => {
  const dir = tmpDir();
  writeFiles(dir, { 'items.jsonl': items });
  const handler = async () => ({ passed: true });
  await refusedWith(
    new Run({ experiment: { name: 'x', items: { file: 'items.jsonl' }, concurency: 2 } as ExperimentInput, baseDir: dir, handler }),
    /^\(inline experiment\) \$\.concurency: Unknown key "concurency"; did you mean "concurrency"\?/,
  );
  await refusedWith(
    new Run({ experiment: { items: { file: 'items.jsonl' } } as ExperimentInput, baseDir: dir, handler }),
    /\$\.name: Missing required key "name"/,
  );
  await refusedWith(new Run({ experiment: 42 as unknown as ExperimentInput, handler }), /Expected the experiment as a path .* got number/);
  await refusedWith(new Run({ experiment: null as unknown as ExperimentInput, handler }), /got null/);
});

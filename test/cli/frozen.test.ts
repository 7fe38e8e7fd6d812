import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, unitRuns, type CliResult } from '../helpers/cli';
import { journalSoFar, runDirSoFar, waitFor } from '../helpers/waitFor';

// The run folder's own files damaged under it: the frozen config (experiment.json) and the
// journal. Each is a message naming the file (and JSON path) and the way forward, exit 1 —
// or, for a frozen config `run` can rebuild from the experiment file, a rebuild.

function assertRefused(r: CliResult, what: RegExp, context: string): void {
  assert.equal(r.code, 1, `${context}: exit ${r.code}\n${r.stderr}`);
  assert.match(r.stderr, what, context);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, `${context}: a stack trace\n${r.stderr}`);
}

async function interruptedRun(dir: string): Promise<{ file: string; runDir: string }> {
  const file = makeExperiment(dir, { n: 8, concurrency: 2, sleep: '0.3' });
  const { child, done } = cliStart(['run', file], dir);
  const runDir = await waitFor('the run folder', () => runDirSoFar(dir));
  await waitFor('a unit to finish', () => journalSoFar(runDir).some((r) => r.t === 'end'));
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  return { file, runDir };
}

test(
  'a truncated frozen config: status and repair say how to rebuild it; run rebuilds it and resumes without re-running finished units',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const { file, runDir } = await interruptedRun(dir);
    const frozenFile = path.join(runDir, 'experiment.json');
    const whole = fs.readFileSync(frozenFile);
    fs.writeFileSync(frozenFile, whole.subarray(0, Math.floor(whole.length / 2)));
    const damaged = fs.readFileSync(frozenFile);

    const way = /experiment\.json: expected valid JSON.*frozen config is damaged[\s\S]*resumable run e\.experiment\.json[\s\S]*--fresh/;
    assertRefused(cliSync(['status', runDir], dir), way, 'status');
    assertRefused(cliSync(['repair', runDir], dir), way, 'repair');
    assert.deepEqual(fs.readFileSync(frozenFile), damaged, 'status and repair leave it as it is');

    const done = journalRecords(runDir).filter((r) => r.t === 'end' && r.s === 'passed').length;
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /Rebuilt the run's frozen config \(experiment\.json\) from e\.experiment\.json: it was damaged \(expected valid JSON/,
    );
    assert.match(r.stderr, new RegExp(`${done} of 8 units already done`));
    const kept = fs.readdirSync(path.join(runDir, 'archive')).filter((n) => n.endsWith('-damaged-experiment.json'));
    assert.equal(kept.length, 1);
    assert.deepEqual(fs.readFileSync(path.join(runDir, 'archive', kept[0]!)), damaged, 'the damaged copy is kept as it was');
    assert.equal(JSON.parse(fs.readFileSync(frozenFile, 'utf8')).items.length, 8);
    for (const [folder, runs] of unitRuns(runDir)) assert.deepEqual(runs, ['start', 'done'], `${folder} ran more than once`);
    assert.equal(cliSync(['status', runDir], dir).code, 0);
  },
);

test(
  'a frozen config without items: status, repair and list name $.items and the way forward (exit 1, no stack trace); run rebuilds it',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 5, concurrency: 5, sleep: '0' });
    assert.equal(cliSync(['run', file], dir).code, 0);
    const runDir = runDirOf(dir);
    const frozenFile = path.join(runDir, 'experiment.json');
    const frozen = JSON.parse(fs.readFileSync(frozenFile, 'utf8'));
    delete frozen.items;
    fs.writeFileSync(frozenFile, JSON.stringify(frozen));

    const named =
      /experiment\.json \$\.items: expected an array, found nothing \(the key is missing\); the run's frozen config is damaged[\s\S]*resumable run e\.experiment\.json/;
    assertRefused(cliSync(['status', runDir], dir), named, 'status <run folder>');
    assertRefused(cliSync(['status'], dir), named, 'status (every run)');
    assertRefused(cliSync(['repair', runDir], dir), named, 'repair');
    assertRefused(cliSync(['list'], dir), named, 'list');

    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Rebuilt the run's frozen config .*\$\.items: expected an array/);
    assert.match(r.stderr, /5 of 5 units already done/);
    assert.equal(cliSync(['status', runDir], dir).code, 0);
  },
);

test(
  'a damaged frozen config whose journal is of another config is not rebuilt: the message says why and gives --fresh',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 3, concurrency: 3, sleep: '0' });
    assert.equal(cliSync(['run', file], dir).code, 0);
    const runDir = runDirOf(dir);
    const journal = path.join(runDir, 'journal.jsonl');
    const lines = fs.readFileSync(journal, 'utf8').split('\n');
    lines[0] = JSON.stringify({ ...JSON.parse(lines[0]!), hash: 'f'.repeat(64) });
    fs.writeFileSync(journal, lines.join('\n'));
    const frozenFile = path.join(runDir, 'experiment.json');
    fs.writeFileSync(frozenFile, '{"schemaVersion": 1, "na');

    assertRefused(
      cliSync(['run', file], dir),
      /experiment\.json: expected valid JSON[\s\S]*cannot be rebuilt from e\.experiment\.json: the run's journal\.jsonl is of config ffffffff[\s\S]*--fresh/,
      'run',
    );
    assert.equal(fs.readFileSync(frozenFile, 'utf8'), '{"schemaVersion": 1, "na', 'left as it was');
    assert.equal(fs.existsSync(path.join(runDir, 'archive')), false);
    const fresh = cliSync(['run', file, '--fresh'], dir);
    assert.equal(fresh.code, 0, fresh.stderr);
  },
);

test(
  'a folder where the journal should be: run, status and repair name the path and exit 1 without a stack trace',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 3, concurrency: 3, sleep: '0' });
    assert.equal(cliSync(['run', file], dir).code, 0);
    const runDir = runDirOf(dir);
    const journal = path.join(runDir, 'journal.jsonl');
    fs.renameSync(journal, `${journal}.moved`);
    fs.mkdirSync(journal);
    const shown = new RegExp(`${path.relative(dir, journal).replace(/[.]/g, '\\.')}: expected a file, found a folder`);
    assertRefused(cliSync(['run', file], dir), shown, 'run');
    assertRefused(cliSync(['status', runDir], dir), shown, 'status');
    assertRefused(cliSync(['repair', runDir], dir), shown, 'repair');
    assert.ok(fs.statSync(journal).isDirectory(), 'nothing was moved');
  },
);

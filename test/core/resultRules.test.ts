import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExperiment } from '../../src/core/config/load';
import { hashOf, resultKey } from '../../src/core/config/hash';
import { experimentSchema, type Experiment } from '../../src/core/config/schema';
import { parseTemplate, render } from '../../src/core/config/placeholders';
import { escapeProblem } from '../../src/core/config/resultRule';
import { UserError } from '../../src/core/errors';
import { Run } from '../../src/core/run/runner';
import { judgeAttempt, judgeResult, lastJsonLine, type AttemptFacts } from '../../src/core/exec/outcome';
import { tmpDir, writeFiles } from '../helpers/tmp';

const T = 1_700_000_000_000;
const rateLimit = experimentSchema.shape.rateLimit.parse(undefined);
const facts = (f: Partial<AttemptFacts>): AttemptFacts => ({
  exitCode: 0,
  signal: null,
  timedOut: false,
  output: '',
  resultText: undefined,
  ...f,
});
const rules = (result: Experiment['result'], rl: Partial<Experiment['rateLimit']> = {}) => ({ result, rateLimit: { ...rateLimit, ...rl } });

test('no result rule: a result.json the command wrote decides, else exit 0 passes and a non-zero exit is an error (retried)', () => {
  const r = rules({});
  assert.equal(judgeAttempt(facts({}), r, T).status, 'passed');
  assert.equal(judgeAttempt(facts({ resultText: '{"passed": false}' }), r, T).status, 'failed');
  assert.deepEqual(judgeAttempt(facts({ exitCode: 1 }), r, T), { status: 'error', why: 'exit code 1' });
});

test('from exit: 0 passed, other codes failed, errorExitCodes and signals are errors, rate-limit codes are rate limits', () => {
  const r = rules({ from: 'exit', errorExitCodes: [2] }, { exitCodes: [75] });
  assert.equal(judgeAttempt(facts({ resultText: '{"passed": false}' }), r, T).status, 'passed');
  assert.deepEqual(judgeAttempt(facts({ exitCode: 1 }), r, T), { status: 'failed', why: 'exit code 1' });
  assert.equal(judgeAttempt(facts({ exitCode: 2 }), r, T).status, 'error');
  assert.equal(judgeAttempt(facts({ exitCode: null, signal: 'SIGKILL' }), r, T).status, 'error');
  assert.equal(judgeAttempt(facts({ exitCode: 75 }), r, T).status, 'rate_limited');
  assert.equal(judgeAttempt(facts({ timedOut: true, exitCode: null, signal: 'SIGTERM' }), r, T).status, 'error');
});

test('from stdout: the last JSON object line is the result; none after exit 0 is an error', () => {
  assert.equal(lastJsonLine('log\n{"passed": true}\nmore text\n{"passed": false, "n": 1}\n\n'), '{"passed": false, "n": 1}');
  assert.equal(lastJsonLine('{"a":1}\n[1,2]\n{not json}\n'), '{"a":1}');
  assert.equal(lastJsonLine('plain text only\n'), undefined);
  const r = rules({ from: 'stdout' });
  assert.equal(judgeAttempt(facts({ resultText: '{"passed": true}' }), r, T).status, 'passed');
  assert.match(judgeAttempt(facts({}), r, T).why!, /no line of the output is a JSON object/);
});

test('result.missing: what a result without a boolean pass field means', () => {
  const text = '{"judge_score": 0.4}';
  assert.equal(judgeResult(text, { passed: 'judge_passed' }).status, 'error');
  assert.equal(judgeResult(text, { passed: 'judge_passed', missing: 'failed' }).status, 'failed');
  assert.equal(judgeResult(text, { passed: 'judge_passed', missing: 'rerun' }).status, 'rerun');
  assert.match(judgeResult(text, { passed: 'judge_passed' }).why!, /no boolean "judge_passed" \(got nothing\)/);
  // An attempt that leaves a result to re-run is an error (it counts an attempt: no endless loop).
  assert.equal(judgeAttempt(facts({ resultText: text }), rules({ passed: 'judge_passed', missing: 'rerun' }), T).status, 'error');
});

test('result.notDone: a judge that hit a usage limit is not a result (never failed), and may be a rate limit', () => {
  const rule: Experiment['result'] = { passed: 'judge_passed', notDone: { field: 'judges', pattern: 'usage limit' } };
  const text = JSON.stringify({ judge_passed: false, judges: [{ model: 'x', reasoning: 'API error: Usage limit reached' }] });
  const v = judgeResult(text, rule);
  assert.equal(v.status, 'rerun');
  assert.match(v.why!, /not finished: judges has "Usage limit"/);
  assert.equal(judgeResult(JSON.stringify({ judge_passed: false, judges: [] }), rule).status, 'failed');
  assert.equal(judgeAttempt(facts({ resultText: text }), rules(rule), T).status, 'error');
  const limited = judgeAttempt(
    facts({ resultText: text, output: 'usage limit, resets in 3 hours' }),
    rules(rule, { patterns: ['usage limit'] }),
    T,
  );
  assert.equal(limited.status, 'rate_limited');
});

test('${name:02} zero-pads whole numbers; a negative keeps its sign', () => {
  const t = parseTemplate('run_${repeat:02}/${item.run:03}/${model}');
  assert.deepEqual(t[1], { ref: 'repeat', pad: 2 });
  const values: Record<string, string> = { repeat: '7', 'item.run': '-4', model: 'm:01' };
  assert.equal(
    render(t, (r) => values[r]!),
    'run_07/-004/m:01',
  );
});

test('escapeProblem: "..", absolute and folder-like result paths are refused lexically', () => {
  assert.equal(escapeProblem('T0/00/run_01/run_result.json'), undefined);
  assert.equal(escapeProblem('a/../b.json'), undefined);
  assert.match(escapeProblem('../x.json')!, /leads out/);
  assert.match(escapeProblem('a/../../x.json')!, /leads out/);
  assert.match(escapeProblem('/etc/passwd')!, /absolute/);
  assert.match(escapeProblem('out/')!, /folder/);
  assert.match(escapeProblem('')!, /empty/);
});

async function loadIn(files: Record<string, string>, experiment: Record<string, unknown>): Promise<ReturnType<typeof loadExperiment>> {
  const dir = tmpDir();
  writeFiles(dir, { ...files, 'e.json': JSON.stringify({ name: 'e', run: { command: ['true'] }, ...experiment }, null, 2) });
  return loadExperiment(path.join(dir, 'e.json'));
}

async function refusal(files: Record<string, string>, experiment: Record<string, unknown>): Promise<UserError> {
  try {
    await loadIn(files, experiment);
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${(e as Error).stack}`);
    return e;
  }
  assert.fail('expected a refusal');
}

test('glob items: named captures become fields; ids and paths are relative to the experiment folder', async () => {
  const files = { 'T0/00/run_01/x': '', 'T1/01/run_02/x': '' };
  const e = await loadIn(files, {
    items: { glob: 'T*/*/run_*/', capture: '^(?<tier>T\\d+)/(?<subtest>\\d+)/run_(?<run>\\d+)$' },
    result: { path: '${item.tier}/${item.subtest}/run_${item.run:02}/run_result.json' },
  });
  assert.deepEqual(
    e.items.map((i) => i.fields),
    [
      { id: 'T0/00/run_01', path: 'T0/00/run_01', name: 'run_01', tier: 'T0', subtest: '00', run: '01' },
      { id: 'T1/01/run_02', path: 'T1/01/run_02', name: 'run_02', tier: 'T1', subtest: '01', run: '02' },
    ],
  );
});

test('a moved experiment folder has the same config hash (glob items hold no absolute path)', async () => {
  const files = { 'a/1/x': '', 'a/2/x': '' };
  const spec = { items: { glob: 'a/*/' }, result: { path: '${item.path}/r.json' } };
  const one = await loadIn(files, spec);
  const two = await loadIn(files, spec);
  assert.notEqual(one.dir, two.dir);
  assert.equal(one.hash, two.hash);
});

test('no result rule hashes as the old default { file: "result.json" }: runs started before keep their folder', async () => {
  const e = await loadIn({}, { items: { values: ['a'] } });
  const old = { ...e.config, result: { file: 'result.json' } } as Experiment;
  assert.equal(e.hash, hashOf(resultKey(old, e.items)));
});

test('refused at load, with the JSON path: escapes, bad captures, placeholders a result path may not use', async () => {
  const csv = 'id,dir\na,ok\nb,../../outside\n';
  const cases: [Record<string, string>, Record<string, unknown>, RegExp][] = [
    [{}, { items: { values: ['a'] }, result: { path: '../../x/${item.id}.json' } }, /\$\.result\.path: .*unit "a".*leads out/],
    [{}, { items: { values: ['a'] }, result: { path: '/tmp/${item.id}.json' } }, /\$\.result\.path: .*absolute/],
    [
      { 'd.csv': csv },
      { items: { file: 'd.csv' }, result: { path: ['done/${item.dir}/r.json', 'x/${item.id}.json'] } },
      /\$\.result\.path\[0\]: .*unit "b".*leads out/,
    ],
    [{}, { items: { values: ['a'] }, result: { file: '../../../../T0/00/run_01/run_result.json' } }, /\$\.result\.file: .*"\.\." segment/],
    [{}, { items: { values: ['a'] }, result: { file: '/etc/passwd' } }, /\$\.result\.file: .*absolute/],
    [{}, { items: { values: ['a'] }, result: { path: 'r/${attempt}.json' } }, /\$\.result\.path: \$\{attempt\} cannot be used here/],
    [{}, { items: { values: ['a'] }, result: { path: '${unitDir}/r.json' } }, /\$\{unitDir\} cannot be used here/],
    [
      {},
      { items: { values: ['a'] }, result: { file: 'r.json', path: 'x/r.json' } },
      /\$\.result\.path: Expected "file" or "path", not both/,
    ],
    [{}, { items: { values: ['a'] }, result: { from: 'exit', path: 'x/r.json' } }, /\$\.result\.from: Expected no "file" or "path"/],
    [{ 'a/1/x': '' }, { items: { glob: 'a/*/', capture: '^a/(?<n>[a-z]+)$' } }, /\$\.items\.capture: .*"a\/1" to match/],
    [{ 'a/1/x': '' }, { items: { glob: 'a/*/', capture: '^a/(\\d+)$' } }, /named groups/],
    [{ 'a/1/x': '' }, { items: { glob: 'a/*/', capture: '^a/(?<path>\\d+)$' } }, /other than "path"/],
    [{}, { items: { values: ['a'], capture: '(?<x>.)' } }, /\$\.items\.capture: Expected "capture" only with "glob"/],
    [
      {},
      { items: { values: [{ id: 'a', run: 'one' }] }, result: { path: 'r/${item.run:02}.json' } },
      /"one" in "run"; expected a whole number/,
    ],
    [{}, { items: { values: ['a'] }, matrix: { model: ['x'] }, result: { path: 'r/${model:02}.json' } }, /whole number to zero-pad/],
  ];
  for (const [files, spec, expected] of cases) {
    const e = await refusal(files, spec);
    assert.match(`${e.where.path}: ${e.message}`, expected, JSON.stringify(spec));
  }
});

test('a result path through a symbolic link out of the experiment folder is refused by the runner before anything runs', async () => {
  const dir = tmpDir();
  const outside = tmpDir();
  writeFiles(dir, {
    'e.json': JSON.stringify({ name: 'e', items: { values: ['a'] }, run: { command: ['true'] }, result: { path: 'res/${item.id}.json' } }),
  });
  fs.symlinkSync(outside, path.join(dir, 'res'));
  await assert.rejects(new Run({ experiment: path.join(dir, 'e.json') }).run(), (e: Error) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /unit "a" to stay inside the experiment's folder, but res\/a\.json leads through a symbolic link/);
    assert.equal(e.where.path, '$.result.path');
    return true;
  });
  assert.equal(fs.existsSync(path.join(dir, '.resumable')), false, 'nothing written');
});

test('a threshold on a number: a score at the bar passes, below it fails with the number; no number is what "missing" says', () => {
  const rule = experimentSchema.shape.result.parse({ passed: { field: 'eval.score', atLeast: 0.5 } });
  assert.deepEqual(judgeResult('{"eval": {"score": 0.5}}', rule), { status: 'passed' });
  assert.deepEqual(judgeResult('{"eval": {"score": 0.49}}', rule), { status: 'failed', why: 'eval.score is 0.49, below 0.5' });
  assert.deepEqual(judgeResult('{"eval": {"score": "0.7"}}', rule), { status: 'passed' }, 'a number written as a string counts');
  assert.deepEqual(judgeResult('{"eval": {}}', rule), { status: 'error', why: 'result.json has no number "eval.score" (got nothing)' });
  const loss = experimentSchema.shape.result.parse({ passed: { field: 'loss', atMost: 0.2 }, missing: 'rerun' });
  assert.deepEqual(judgeResult('{"loss": 0.3}', loss), { status: 'failed', why: 'loss is 0.3, above 0.2' });
  assert.equal(judgeResult('{"loss": "n/a"}', loss).status, 'rerun');
  const range = experimentSchema.shape.result.parse({ passed: { field: 'x', atLeast: 1, atMost: 2 } });
  assert.equal(judgeResult('{"x": 1.5}', range).status, 'passed');
  assert.equal(judgeResult('{"x": 3}', range).status, 'failed');
  // A threshold without a bar says what is missing.
  const bad = experimentSchema.shape.result.safeParse({ passed: { field: 'score' } });
  assert.equal(bad.success, false);
  assert.match(JSON.stringify(bad.error?.issues), /Expected \\"atLeast\\" or \\"atMost\\"/);
});

test('metrics, cost and tokens are read, not judged: adding them keeps the run (its hash)', () => {
  const items = [{ id: 'a', fields: { id: 'a' } }];
  const base = experimentSchema.parse({ name: 'e', items: { values: ['a'] }, run: { command: ['x'] } });
  const withMetrics = experimentSchema.parse({
    name: 'e',
    items: { values: ['a'] },
    run: { command: ['x'] },
    result: { metrics: ['score'] },
  });
  assert.equal(hashOf(resultKey(withMetrics, items)), hashOf(resultKey(base, items)));
});

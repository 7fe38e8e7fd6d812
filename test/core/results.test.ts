import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { RunFollower } from '../../src/core/status/report';
import { Run } from '../../src/core/run/runner';
import { readResults, type ResultRow } from '../../src/core/status/results';
import { topReasons } from '../../src/core/model/reasons';
import { renderTable } from '../../src/cli/commands/results';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliSync, runDirOf } from '../helpers/cli';

/**
 * A run with known answers: q1 passes with score 0.9, q2 fails its check, q3 crashes with
 * a traceback (error), each for two models.
 */
function knownRun(): { dir: string; file: string; runDir: string } {
  const dir = tmpDir();
  writeFiles(dir, {
    'items.jsonl':
      ['{"id":"q1","tier":"easy","name":"日本語"}', '{"id":"q2","tier":"hard"}', '{"id":"q3","tier":"hard"}'].join('\n') + '\n',
    'unit.sh': [
      'case "$RESUMABLE_UNIT_ID" in',
      '  q1/*) echo \'{"passed": true, "score": 0.9}\' > "$RESUMABLE_UNIT_DIR/result.json" ;;',
      '  q2/*) echo \'{"passed": false, "score": 0.1}\' > "$RESUMABLE_UNIT_DIR/result.json" ;;',
      '  q3/*) echo "Traceback: RuntimeError: model said no" >&2; exit 1 ;;',
      'esac',
    ].join('\n'),
    'e.experiment.json': JSON.stringify({
      name: 'known',
      items: { file: 'items.jsonl' },
      matrix: { model: ['small', 'large'] },
      run: { command: ['sh', 'unit.sh'] },
      retries: { maxAttempts: 1 },
    }),
  });
  const file = path.join(dir, 'e.experiment.json');
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  return { dir, file, runDir: runDirOf(dir) };
}

async function all(it: AsyncIterable<ResultRow>): Promise<ResultRow[]> {
  const out: ResultRow[] = [];
  for await (const r of it) out.push(r);
  return out;
}

test('readResults gives every unit in config order with its status, reason and (when asked) its result', async () => {
  const { runDir } = knownRun();
  const rows = await all(readResults(runDir, { withResult: true }));
  assert.deepEqual(
    rows.map((r) => `${r.id} ${r.status}`),
    ['q1/small passed', 'q1/large passed', 'q2/small failed', 'q2/large failed', 'q3/small error', 'q3/large error'],
  );
  const q1 = rows[0]!;
  assert.deepEqual(q1.matrix, { model: 'small' });
  assert.equal(q1.item.tier, 'easy');
  assert.deepEqual(q1.result, { passed: true, score: 0.9 });
  assert.equal(q1.attempts, 1);
  assert.ok(q1.durationMs !== null && q1.durationMs >= 0);
  assert.equal(rows[4]!.result, undefined, 'a unit that wrote no result has none');
  assert.match(rows[4]!.why ?? '', /RuntimeError: model said no/);

  const errors = await all(readResults(runDir, { status: ['error'] }));
  assert.deepEqual(
    errors.map((r) => r.id),
    ['q3/small', 'q3/large'],
  );
  assert.equal(errors[0]!.result, undefined, 'no result read unless asked');
});

test('topReasons groups errors and failures by reason, most first, with unit ids', async () => {
  const { runDir } = knownRun();
  const f = RunFollower.open(runDir);
  await f.poll();
  const reasons = topReasons(f.units, f.view);
  assert.equal(reasons.length, 2);
  assert.equal(reasons[0]!.status, 'error');
  assert.equal(reasons[0]!.count, 2);
  assert.match(reasons[0]!.why, /RuntimeError: model said no|exit code 1/);
  assert.deepEqual(reasons[0]!.units, ['q3/small', 'q3/large']);
  assert.equal(reasons[1]!.status, 'failed');
  assert.deepEqual(reasons[1]!.units, ['q2/small', 'q2/large']);
});

test('the terminal table pads by display width and cuts only the reason to the terminal', () => {
  const t = renderTable(
    ['id', 'name', 'why'],
    [
      ['a', '日本語', ''],
      ['bb', 'x', 'a very long reason that does not fit in the terminal at all'],
    ],
    30,
  );
  const lines = t.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  // "日本語" is 6 columns wide: the "why" column starts at the same display column on every line.
  assert.equal(lines[1]!.indexOf('日本語'), 4);
  assert.ok(lines[2]!.startsWith('bb  x       a very'), lines[2]);
  assert.ok(lines[2]!.endsWith('…'));
  assert.ok(lines.every((l) => [...l].length <= 30 || l.includes('日本語')));
});

test('readResults of a library handler run gives what the handler returned (it is in the journal), and why a unit failed', async () => {
  const dir = tmpDir();
  const run = new Run({
    experiment: { name: 'lib', items: { values: ['a', 'b'] } },
    baseDir: dir,
    handler: async ({ unit }) => ({ passed: unit.item.id === 'a', answer: `answer ${unit.item.id}` }),
  });
  const summary = await run.run();
  assert.equal(summary.exitCode, 0);
  const rows = await all(readResults(summary.runDir, { withResult: true }));
  assert.deepEqual(
    rows.map((r) => [r.id, r.status, (r.result as { answer?: string } | undefined)?.answer, r.why]),
    [
      ['a', 'passed', 'answer a', null],
      ['b', 'failed', 'answer b', 'passed is false'],
    ],
  );
});

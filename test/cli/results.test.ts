import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliSync, runDirOf } from '../helpers/cli';

/** q1 passes (score 0.9), q2 fails its check (0.1), q3 crashes with a traceback; for two models. `flip` makes q1/large fail and q2/small pass. */
function experiment(dir: string, name = 'known', flip = false): string {
  writeFiles(dir, {
    'items.jsonl': ['{"id":"q1","tier":"easy"}', '{"id":"q2","tier":"hard"}', '{"id":"q3","tier":"hard"}'].join('\n') + '\n',
    [`${name}.sh`]: [
      'case "$RESUMABLE_UNIT_ID" in',
      ...(flip
        ? [
            '  q1/large) echo \'{"passed": false, "score": 0.2}\' > "$RESUMABLE_UNIT_DIR/result.json" ;;',
            '  q2/small) echo \'{"passed": true, "score": 0.8}\' > "$RESUMABLE_UNIT_DIR/result.json" ;;',
          ]
        : []),
      '  q1/*) echo \'{"passed": true, "score": 0.9, "note": "a, \\"quoted\\" note"}\' > "$RESUMABLE_UNIT_DIR/result.json" ;;',
      '  q2/*) echo \'{"passed": false, "score": 0.1}\' > "$RESUMABLE_UNIT_DIR/result.json" ;;',
      '  q3/*) echo "Traceback (most recent call last):" >&2; echo "RuntimeError: model said no" >&2; exit 1 ;;',
      'esac',
    ].join('\n'),
    [`${name}.experiment.json`]: JSON.stringify({
      name,
      items: { file: 'items.jsonl' },
      matrix: { model: ['small', 'large'] },
      run: { command: ['sh', `${name}.sh`] },
      result: { metrics: ['score'] },
      retries: { maxAttempts: 1 },
    }),
  });
  const file = path.join(dir, `${name}.experiment.json`);
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  return file;
}

test('results --format csv: one row per unit, result fields flattened, parsed back by a real CSV parser', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const r = cliSync(['results', file, '--format', 'csv', '--fields', 'result.score,tier,result.note'], dir);
  assert.equal(r.code, 0, r.stderr);
  const rows = parse<Record<string, string>>(r.stdout, { columns: true });
  assert.equal(rows.length, 6);
  assert.deepEqual(Object.keys(rows[0]!), [
    'id',
    'model',
    'status',
    'attempts',
    'duration_s',
    'why',
    'usd',
    'tokens',
    'score',
    'result.score',
    'item.tier',
    'result.note',
  ]);
  const byId = Object.fromEntries(rows.map((x) => [x.id, x]));
  assert.equal(byId['q1/small']!.status, 'passed');
  assert.equal(byId['q1/small']!['result.score'], '0.9');
  assert.equal(byId['q1/small']!.score, '0.9', 'the metric, from the journal');
  assert.equal(byId['q1/small']!['result.note'], 'a, "quoted" note', 'commas and quotes survive the round trip');
  assert.equal(byId['q2/large']!.status, 'failed');
  assert.equal(byId['q3/small']!.status, 'error');
  assert.match(byId['q3/small']!.why, /^exit code 1 — RuntimeError: model said no$/);
  assert.equal(byId['q3/small']!['result.score'], '');
  assert.equal(byId['q2/small']!['item.tier'], 'hard');
});

test('results --status filters; jsonl and json carry the same rows; the table fits by display width', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const errs = cliSync(['results', file, '--status', 'error', '--format', 'jsonl'], dir);
  assert.equal(errs.code, 0, errs.stderr);
  const lines = errs.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    lines.map((l) => l.id),
    ['q3/small', 'q3/large'],
  );
  const json = cliSync(['results', runDirOf(dir), '--format', 'json', '--status', 'failed,error'], dir);
  assert.equal(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout).length, 4);
  const table = cliSync(['results', file], dir);
  assert.equal(table.code, 0, table.stderr);
  const head = table.stdout.split('\n')[0]!;
  assert.match(
    head,
    /^id\s+model\s+status\s+attempts\s+duration_s\s+why\s+score$/,
    'columns no unit has a value in are left out of the table',
  );
  const only = cliSync(['results', file, '--only', 'model=large', '--only', 'tier=hard', '--format', 'jsonl'], dir);
  assert.equal(only.code, 0, only.stderr);
  assert.deepEqual(
    only.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).id),
    ['q2/large', 'q3/large'],
  );
  const typo = cliSync(['results', file, '--only', 'modle=large'], dir);
  assert.equal(typo.code, 1);
  assert.match(typo.stderr, /modle/);
  const bad = cliSync(['results', file, '--status', 'errored'], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Expected --status to list statuses \(passed, failed, error/);
});

test('status --errors names the reasons with unit ids; the run without it shows counts only', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const plain = cliSync(['status', file], dir);
  assert.doesNotMatch(plain.stdout, /RuntimeError/);
  const r = cliSync(['status', file, '--errors'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 error\s+exit code 1 — RuntimeError: model said no {2}\(q3\/small, q3\/large\)/);
  assert.match(r.stdout, /2 failed\s+result\.json has .*\(q2\/small, q2\/large\)|2 failed\s+passed is false {2}\(q2\/small, q2\/large\)/);
  // Each group: its pass rate over the units with a verdict (the error is left out) and the metric's mean.
  assert.match(plain.stdout, /small\s+3\/3 · passed 1 · failed 1 · error 1 · pass 50% \[9%–91%\] · score 0\.5\n/);
  const j = JSON.parse(cliSync(['status', file, '--errors', '--json'], dir).stdout);
  const small = j.groups.find((g: { group: string }) => g.group === 'small');
  assert.deepEqual(small.metrics, { score: { sum: 1, n: 2, mean: 0.5 } });
  assert.equal(small.passRate.rate, 0.5);
  assert.equal(j.reasons[0].count, 2);
  assert.deepEqual(j.reasons[0].units, ['q3/small', 'q3/large']);
});

test('compare: regressions, fixes and the pass rate per group between two runs', () => {
  const dir = tmpDir();
  const a = experiment(path.join(dir, 'a'));
  const b = experiment(path.join(dir, 'b'), 'known', true);
  const r = cliSync(['compare', a, b], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Matched 6 units by unit id\./);
  assert.match(r.stdout, /Regressions, passed → failed or error \(1\):\n {2}q1\/large {2}passed → failed/);
  assert.match(r.stdout, /Fixes, failed or error → passed \(1\):\n {2}q2\/small {2}failed → passed/);
  // Over the units with a verdict (q3 errors in both): small had q1 passed, q2 failed; then both passed.
  assert.match(r.stdout, /small\s+A 1\/2 50% \[9%–91%\]\s+B 2\/2 100% \[34%–100%\] {2}\+50 pts · score 0\.5 → 0\.85/);
  const j = JSON.parse(cliSync(['compare', a, b, '--json'], dir).stdout);
  assert.deepEqual(
    j.regressions.map((x: { key: string }) => x.key),
    ['q1/large'],
  );
  assert.equal(j.newErrors.length, 0);
  // One argument is not a comparison.
  const one = cliSync(['compare', a], dir);
  assert.equal(one.code, 1);
  assert.match(one.stderr, /Expected two runs to compare/);
  assert.ok(fs.existsSync(runDirOf(path.join(dir, 'a'))));
});

test('the end of a run says what went wrong, with unit ids; a subset run with --fail-on fails CI on its errors', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const again = cliSync(['run', file, '--fresh'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /▲ Completed with 2 errors and 2 failed/);
  assert.match(again.stderr, /\n {2}2 errors: exit code 1 — RuntimeError: model said no \(q3\/small, q3\/large\)\n/);
  assert.match(again.stderr, /\n {2}2 failed: passed is false \(q2\/small, q2\/large\)\n/);
  assert.match(again.stderr, /Every unit and why: resumable results known\.experiment\.json --status error,failed/);
  const smoke = cliSync(['run', file, '--fresh', '--only', 'model=small', '--fail-on', 'error'], dir);
  assert.equal(smoke.code, 1, smoke.stderr);
  assert.match(smoke.stderr, /Ran the units asked for, with 1 error and 1 failed/);
  assert.match(smoke.stderr, /Exit 1 because of --fail-on error \(1 error\)/);
  assert.doesNotMatch(smoke.stderr, /Nothing finished was lost/);
  const ok = cliSync(['run', file, '--fresh', '--unit', 'q1/small', '--fail-on', 'error,failed'], dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /✔ Ran the units asked for/);
  // One asked for by name has its outcome already: said, not silently skipped.
  const named = cliSync(['run', file, '--unit', 'q1/small', '--unit', 'q2/small'], dir);
  assert.equal(named.code, 0, named.stderr);
  assert.match(
    named.stderr,
    /1 asked for has an outcome already, not run again \(q1\/small; --retry-errors or --retry-failed runs it again\)/,
  );
  assert.match(named.stderr, /Ran the units asked for, with 1 failed/);
});

test('a --fields no unit has is said on stderr with what the results have; the column stays', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const r = cliSync(['results', file, '--fields', 'result.scroe'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout.split('\n')[0]!, /result\.scroe$/);
  assert.match(r.stderr, /no unit has a value for result\.scroe \(--fields\); the first result has passed, score, note/);
  const ok = cliSync(['results', file, '--fields', 'score', '--format', 'csv'], dir);
  assert.equal(ok.stderr, '', 'a bare name that results have is quiet');
});

test('repair keeps what adopted results say: their metrics and why they failed', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const runDir = runDirOf(dir);
  fs.renameSync(path.join(runDir, 'journal.jsonl'), path.join(dir, 'journal.away'));
  const r = cliSync(['repair', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const rows = cliSync(['results', file, '--format', 'json'], dir);
  const byId = Object.fromEntries((JSON.parse(rows.stdout) as { id: string; why: string; score: number }[]).map((x) => [x.id, x]));
  assert.equal(byId['q1/small']!.score, 0.9);
  assert.match(byId['q2/small']!.why, /^repair: result file on disk, not in the journal: passed is false$/);
  assert.match(cliSync(['status', file], dir).stdout, /small\s+2\/3 · passed 1 · failed 1 · error 0 · pass 50% \[9%–91%\] · score 0\.5\n/);
});

test('compare --match item pairs two experiments over the same items across matrix cells, and names both cells', () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'items.jsonl': '{"id":"q1"}\n{"id":"q2"}\n',
    'u.sh':
      'case "$MODEL/$RESUMABLE_UNIT_ID" in large/q2/*|*/q1/*) echo \'{"passed": true}\' ;; *) echo \'{"passed": false}\' ;; esac > "$RESUMABLE_UNIT_DIR/result.json"',
  });
  const files = ['small', 'large'].map((m) => {
    const f = path.join(dir, `${m}.experiment.json`);
    fs.writeFileSync(
      f,
      JSON.stringify({
        name: m,
        items: { file: 'items.jsonl' },
        matrix: { model: [m] },
        run: { command: ['sh', 'u.sh'], env: { MODEL: '${model}' } },
      }),
    );
    assert.equal(cliSync(['run', f], dir).code, 0);
    return f;
  });
  const byId = cliSync(['compare', ...files], dir);
  assert.equal(byId.code, 0, byId.stderr);
  assert.match(
    byId.stdout,
    /Matched 0 units by unit id; 2 only in A; 2 only in B\.\n {2}No unit id in common: two experiments over the same items\? Try --match item\./,
  );
  const r = cliSync(['compare', ...files, '--match', 'item'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Matched 2 units by item \(and repeat\)\./);
  assert.match(r.stdout, /Fixes, failed or error → passed \(1\):\n {2}q2\/small → q2\/large {2}failed → passed/);
  assert.match(r.stdout, /\n {2}small → large {2}A 1\/2 50% \[9%–91%\] {2}B 2\/2 100% \[34%–100%\] {2}\+50 pts\n/);
  // A run with two cells per item cannot be paired by item.
  const two = experiment(path.join(dir, 'two'));
  const refused = cliSync(['compare', files[0]!, two, '--match', 'item'], dir);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /has more than one unit for item "q1" \(its matrix has several cells\)/);
});

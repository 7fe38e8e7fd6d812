import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliSync, journalRecords, runDirOf } from '../helpers/cli';
import { tmpDir, writeFiles } from '../helpers/tmp';

// Invariant 4's other side: a rate limit is not a failure, but a unit whose own output always
// looks like one is not a rate limit. The README's bare pattern "429" met a traceback's
// `line 429`: the unit never used an attempt and paused the whole run until it parked (exit 2).
// Real processes through the real CLI (dist/cli.js; `npm run build` first).

/** Crashes the way a Python eval does, with "429" only as a line number. */
const CRASH = [
  'if [ "$RESUMABLE_ITEM_ID" = bad ]; then',
  '  echo "Traceback (most recent call last):" >&2',
  '  echo "  File \\"eval.py\\", line 429, in <module>" >&2',
  '  echo "KeyError: \'answer\'" >&2',
  '  exit 1',
  'fi',
  'printf \'{"passed": true}\\n\' > "$RESUMABLE_UNIT_DIR/result.json"',
].join('\n');

function experiment(dir: string, rateLimit: Record<string, unknown>): string {
  writeFiles(dir, {
    'unit.sh': CRASH,
    'e.experiment.json': JSON.stringify({
      name: 'cap',
      items: { values: ['bad', 'good'] },
      run: { command: ['sh', 'unit.sh'] },
      concurrency: 1,
      retries: { maxAttempts: 2, backoffSeconds: [0, 0] },
      rateLimit: { patterns: ['429'], bufferSeconds: 0, ...rateLimit },
    }),
  });
  return `${dir}/e.experiment.json`;
}

const endsOf = (dir: string, unit: string) =>
  journalRecords(runDirOf(dir)).filter((r) => r.t === 'end' && r.u === unit) as { s: string; a: number; why?: string }[];

test(
  'a unit rate-limited the cap times in a row ends as an error (an attempt) before its pauses could park the run',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    // The default pause doubles from 10 ms; its 6th (320 ms) would pass maxWaitSeconds and park
    // the run (exit 2): the cap comes first, at the 6th answer in a row.
    const file = experiment(dir, { defaultWaitSeconds: 0.01, maxWaitSeconds: 0.3 });
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, `exit 0, not 2 (parked): ${r.stderr}`);
    const ends = endsOf(dir, 'bad');
    assert.deepEqual(
      ends.map((e) => e.s),
      [...Array(5).fill('rate_limited'), 'error', ...Array(5).fill('rate_limited'), 'error'],
      'twice 5 rate limits then an error: each streak ends in one attempt, and the attempts run out',
    );
    assert.deepEqual(
      ends.filter((e) => e.s === 'error').map((e) => e.a),
      [1, 2],
    );
    assert.match(
      ends.at(-1)!.why!,
      /^rate limited 6 times in a row: the rate-limit pattern may match something that is not a rate limit \(e\.g\. a line number\); check rateLimit\.patterns \(last: output matched "429"\)/,
    );
    const records = journalRecords(runDirOf(dir));
    assert.ok(!records.some((x) => x.t === 'runner_end' && x.status === 'paused_rate_limit'), 'never parked');
    assert.equal(endsOf(dir, 'good').at(-1)!.s, 'passed', 'the rest of the run went on');
    const s = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.equal(s.status, 'completed');
    assert.deepEqual([s.counts.passed, s.counts.error, s.counts.rate_limited], [1, 1, 0]);
  },
);

test('with pauses that never park, the cap is 10 in a row', { timeout: 120_000 }, () => {
  const dir = tmpDir();
  const file = experiment(dir, { defaultWaitSeconds: 0 });
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const ends = endsOf(dir, 'bad').map((e) => e.s);
  assert.deepEqual(ends.slice(0, 10), [...Array(9).fill('rate_limited'), 'error']);
  assert.equal(ends.length, 20);
  assert.match(endsOf(dir, 'bad').at(-1)!.why!, /^rate limited 10 times in a row: /);
});

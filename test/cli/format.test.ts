import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Experiment } from '../../src/core/config/schema';
import { judgeAttempt, judgeResult, type AttemptFacts } from '../../src/core/exec/outcome';
import { backoffMs, defaultPauseMs } from '../../src/core/run/backoff';
import { emptyCounts, type Counts } from '../../src/core/model/view';
import { formatClock, formatCounts, formatDuration, progressLine, type ProgressFacts } from '../../src/cli/format';
import { ProgressRenderer } from '../../src/cli/progress';

// ---- formatDuration ----------------------------------------------------------------

test('formatDuration: seconds, then minutes+seconds, then hours+minutes', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [-5000, '0s'],
    [1000, '1s'],
    [59_000, '59s'],
    [59_499, '59s'],
    [59_500, '1m00s'], // rounds to 60 s
    [60_000, '1m00s'],
    [75_000, '1m15s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h00m'],
    [7_500_000, '2h05m'],
    [7_559_000, '2h05m'], // minutes are floored in the hour form
    [100 * 3_600_000, '100h00m'],
  ];
  for (const [ms, want] of cases) assert.equal(formatDuration(ms), want, `${ms} ms`);
});

test('formatClock gives local HH:MM:SS', () => {
  assert.equal(formatClock(new Date(2024, 0, 2, 3, 4, 5).getTime()), '03:04:05');
  assert.equal(formatClock(new Date(2024, 0, 2, 23, 59, 59).getTime()), '23:59:59');
});

// ---- progressLine --------------------------------------------------------------------

const counts = (c: Partial<Counts>): Counts => ({ ...emptyCounts(), ...c });
const NOW = new Date(2024, 0, 15, 12, 0, 0).getTime(); // local noon: no DST edge in any zone

function facts(f: Partial<ProgressFacts>): ProgressFacts {
  return {
    name: 'exp',
    done: 40,
    total: 100,
    counts: counts({ passed: 30, failed: 6, error: 4, running: 2, pending: 58 }),
    rate: 2.5,
    etaMs: 24_000,
    pausedUntil: null,
    now: NOW,
    ...f,
  };
}

test('progressLine shows an adaptive limit in force and the spend; nothing of them at the fixed concurrency', () => {
  const adapting = { limit: 6, max: 32, rpm: 240 };
  assert.equal(
    progressLine(facts({ concurrency: adapting, spend: { usd: 0.42, tokens: 120_000, attempts: 40 } })),
    'exp 40/100 · passed 30 · failed 6 · error 4 · running 2 · 2.5/s · ETA 24s · concurrency 6/32, adapting · paced 240/min · $0.420 · 120.0k tokens',
  );
  assert.equal(progressLine(facts({ concurrency: { limit: 32, max: 32 } })), progressLine(facts({})));
});

test('progressLine shows done/total, counts, rate and ETA', () => {
  assert.equal(progressLine(facts({})), 'exp 40/100 · passed 30 · failed 6 · error 4 · running 2 · 2.5/s · ETA 24s');
  assert.equal(
    progressLine(facts({ rate: 12.4, etaMs: 75_000 })),
    'exp 40/100 · passed 30 · failed 6 · error 4 · running 2 · 12/s · ETA 1m15s',
  );
});

test('progressLine leaves out a zero rate, an unknown ETA, the ETA once done, and counts of zero', () => {
  assert.equal(progressLine(facts({ rate: 0, etaMs: null })), 'exp 40/100 · passed 30 · failed 6 · error 4 · running 2');
  const done = progressLine(facts({ done: 100, counts: counts({ passed: 100 }), etaMs: 0 }));
  assert.equal(done, 'exp 100/100 · passed 100 · 2.5/s');
  assert.equal(
    progressLine(facts({ done: 0, counts: counts({ running: 8, pending: 92 }), rate: 0, etaMs: null })),
    'exp 0/100 · running 8',
  );
});

test('formatCounts shows rate-limited and running only when there are some', () => {
  assert.equal(formatCounts(counts({ passed: 1, pending: 9 })), 'passed 1 · failed 0 · error 0');
  assert.equal(formatCounts(counts({ rate_limited: 3, running: 1 })), 'passed 0 · failed 0 · error 0 · rate-limited 3 · running 1');
});

test('progressLine during a pause puts the countdown first; the ETA (which counts the pause) stays, the rate goes', () => {
  const line = progressLine(facts({ pausedUntil: NOW + 14_000, etaMs: 38_000 }));
  assert.equal(line, 'exp 40/100 · ‖ rate limited, resumes 12:00:14 (in 14s) · passed 30 · failed 6 · error 4 · running 2 · ETA 38s');
  assert.ok(!line.includes('/s'));
  assert.match(progressLine(facts({ pausedUntil: NOW + 3_725_000 })), /resumes 13:02:05 \(in 1h02m\)/);
  // A pause that has run out is no longer shown.
  assert.equal(progressLine(facts({ pausedUntil: NOW })), progressLine(facts({})));
  assert.equal(progressLine(facts({ pausedUntil: NOW - 1 })), progressLine(facts({})));
});

// ---- backoff ---------------------------------------------------------------------------

test('backoffMs: equal jitter between half the base and the base, doubling, capped at max', () => {
  const range: [number, number] = [5, 300];
  assert.equal(
    backoffMs(1, range, () => 0),
    2_500,
  );
  assert.equal(
    backoffMs(1, range, () => 1),
    5_000,
  );
  assert.equal(
    backoffMs(1, range, () => 0.5),
    3_750,
  );
  assert.equal(
    backoffMs(2, range, () => 0),
    5_000,
  );
  assert.equal(
    backoffMs(2, range, () => 1),
    10_000,
  );
  assert.equal(
    backoffMs(4, range, () => 1),
    40_000,
  );
  assert.equal(
    backoffMs(7, range, () => 1),
    300_000,
    '5 * 64 = 320 s is capped at 300 s',
  );
  assert.equal(
    backoffMs(7, range, () => 0),
    150_000,
  );
  assert.equal(
    backoffMs(60, range, () => 1),
    300_000,
  );
  assert.equal(
    backoffMs(0, range, () => 1),
    5_000,
    'attempt 0 is treated as the first',
  );
  for (let a = 1; a < 20; a++) {
    const lo = backoffMs(a, range, () => 0);
    const hi = backoffMs(a, range, () => 1);
    assert.equal(lo * 2, hi);
    assert.ok(hi <= 300_000);
    assert.ok(lo > 0, 'never retries immediately');
  }
});

test('defaultPauseMs doubles with each pause in a row, up to the cap', () => {
  assert.equal(defaultPauseMs(1, 60, 3600), 60_000);
  assert.equal(defaultPauseMs(2, 60, 3600), 120_000);
  assert.equal(defaultPauseMs(3, 60, 3600), 240_000);
  assert.equal(defaultPauseMs(6, 60, 3600), 1_920_000);
  assert.equal(defaultPauseMs(7, 60, 3600), 3_600_000, '3840 s is capped at 3600 s');
  assert.equal(defaultPauseMs(50, 60, 3600), 3_600_000);
  assert.equal(defaultPauseMs(0, 60, 3600), 60_000);
});

// ---- outcome -------------------------------------------------------------------------

const T = 1_700_000_000_000;
const config: Pick<Experiment, 'result' | 'rateLimit'> = {
  result: { file: 'result.json' },
  rateLimit: {
    exitCodes: [75],
    patterns: ['retry-after: (?<reset>\\d+)', '\\b429\\b'],
    standardSignals: true,
    adaptive: true,
    maxWaitSeconds: 21600,
    defaultWaitSeconds: 60,
    bufferSeconds: 5,
  },
};
const attempt = (f: Partial<AttemptFacts>): AttemptFacts => ({
  exitCode: 0,
  signal: null,
  timedOut: false,
  output: '',
  resultText: '{"passed":true}',
  ...f,
});

test('judgeAttempt: a clean exit with a passing result passes', () => {
  assert.deepEqual(judgeAttempt(attempt({}), config, T), { status: 'passed' });
});

test('judgeAttempt: a timeout is an error whatever else happened', () => {
  const v = judgeAttempt(attempt({ timedOut: true, signal: 'SIGKILL', exitCode: null, output: 'HTTP 429' }), config, T);
  assert.equal(v.status, 'error');
  assert.equal(v.why, 'timed out');
});

test("judgeAttempt: a rate-limit exit code is rate_limited, with the reset read from the pattern's group", () => {
  const v = judgeAttempt(attempt({ exitCode: 75, output: 'slow down\nretry-after: 30\n', resultText: undefined }), config, T);
  assert.equal(v.status, 'rate_limited');
  assert.equal(v.resetAt, T + 30_000);
  assert.equal(v.why, 'exit code 75');

  const noReset = judgeAttempt(attempt({ exitCode: 75, output: 'nothing useful', resultText: undefined }), config, T);
  assert.equal(noReset.status, 'rate_limited');
  assert.equal(noReset.resetAt, undefined);
});

test('judgeAttempt: a failing exit whose output matches a pattern is rate_limited', () => {
  const v = judgeAttempt(attempt({ exitCode: 1, output: 'Error: HTTP 429 Too Many Requests', resultText: undefined }), config, T);
  assert.equal(v.status, 'rate_limited');
  assert.match(v.why!, /output matched "429"/);
  assert.equal(v.resetAt, undefined);
  const caseless = judgeAttempt(attempt({ exitCode: 1, output: 'RETRY-AFTER: 12', resultText: undefined }), config, T);
  assert.equal(caseless.status, 'rate_limited');
  assert.equal(caseless.resetAt, T + 12_000);
});

test('judgeAttempt: a passing unit whose output mentions 429 is still passed', () => {
  assert.equal(judgeAttempt(attempt({ output: 'retried after HTTP 429, then ok; retry-after: 30' }), config, T).status, 'passed');
  assert.equal(judgeAttempt(attempt({ output: '429', resultText: '{"passed":false}' }), config, T).status, 'failed');
});

test('judgeAttempt: exit 0 without a result file is an error', () => {
  const v = judgeAttempt(attempt({ resultText: undefined }), config, T);
  assert.equal(v.status, 'error');
  assert.equal(v.why, 'exit 0 but no result.json');
});

test('judgeAttempt: other failures are errors with a reason', () => {
  assert.deepEqual(judgeAttempt(attempt({ exitCode: 3, resultText: undefined }), config, T), { status: 'error', why: 'exit code 3' });
  assert.deepEqual(judgeAttempt(attempt({ exitCode: null, signal: 'SIGSEGV' }), config, T), { status: 'error', why: 'killed by SIGSEGV' });
  assert.deepEqual(judgeAttempt(attempt({ exitCode: null, spawnError: 'ENOENT' }), config, T), {
    status: 'error',
    why: 'could not start: ENOENT',
  });
  // A non-zero exit is an error even with a passing result file.
  assert.equal(judgeAttempt(attempt({ exitCode: 2 }), config, T).status, 'error');
});

test('judgeResult: passed field true/false, truthy spellings, dotted path, bad JSON', () => {
  const rule = { file: 'result.json' };
  assert.equal(judgeResult('{"passed":true}', rule).status, 'passed');
  const failed = judgeResult('{"passed":false}', rule);
  assert.equal(failed.status, 'failed');
  assert.equal(failed.why, 'passed is false');
  for (const yes of ['1', '"true"', '"pass"', '"passed"']) assert.equal(judgeResult(`{"passed":${yes}}`, rule).status, 'passed', yes);
  for (const no of ['0', '"false"', '"fail"', '"failed"']) assert.equal(judgeResult(`{"passed":${no}}`, rule).status, 'failed', no);

  const dotted = { file: 'out.json', passed: 'metrics.ok' };
  assert.equal(judgeResult('{"metrics":{"ok":true}}', dotted).status, 'passed');
  assert.equal(judgeResult('{"metrics":{"ok":false},"passed":true}', dotted).status, 'failed');
  const missing = judgeResult('{"passed":true}', dotted);
  assert.equal(missing.status, 'error');
  assert.equal(missing.why, 'out.json has no boolean "metrics.ok" (got nothing)');
  assert.equal(judgeResult('{"metrics":"ok"}', dotted).status, 'error');

  // Not valid JSON: cut short, not a result yet (never adopted; an attempt leaving it is an error).
  const notJson = judgeResult('{"passed": tru', rule);
  assert.equal(notJson.status, 'rerun');
  assert.match(notJson.why!, /^result\.json is not valid JSON/);
  assert.equal(judgeResult('', rule).status, 'rerun');
  assert.equal(judgeResult('null', rule).status, 'error');
  assert.deepEqual(judgeAttempt(attempt({ resultText: '{"passed": tru' }), config, T).status, 'error');
  assert.equal(judgeResult('{"passed":"yes"}', rule).why, 'result.json has no boolean "passed" (got "yes")');
});

test('the live line the run shows carries the adaptive limit and the spend of the progress events', () => {
  let written = '';
  const stream = { write: (t: string) => ((written += t), true), columns: 200 } as unknown as NodeJS.WriteStream;
  const shown = new ProgressRenderer('exp', 'plain', stream, () => 1_000_000);
  shown.handle({
    type: 'progress',
    counts: { passed: 3, failed: 0, error: 0, rate_limited: 1, running: 6, pending: 90 },
    total: 100,
    rate: 2,
    etaMs: 48_000,
    rateLimitedUntil: null,
    concurrency: { limit: 6, max: 32 },
    spend: { usd: 0.5, tokens: 0, attempts: 4 },
  });
  shown.stopTicker();
  assert.match(written, /exp 3\/100 .* · concurrency 6\/32, adapting · \$0\.500\n/);
});

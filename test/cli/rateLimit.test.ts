import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliSync, journalRecords, makeExperiment, runDirOf } from '../helpers/cli';

test('preflight answering "rate limited" stops with exit 2 and the reset time before any unit runs', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, {
    n: 5,
    sleep: '0',
    extra: { rateLimit: { exitCodes: [2], patterns: ['resets (?<reset>.+)'], preflight: ['sh', 'ping.sh'], maxWaitSeconds: 60 } },
  });
  writeFiles(dir, { 'ping.sh': 'echo "429 Too Many Requests: usage limit reached, resets Feb 19, 6am (UTC)"; exit 2\n' });
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /Parked: quota exhausted \(usage limit reached\) until 20\d\d-02-19T06:00:05\.000Z/);
  const runDir = runDirOf(dir);
  assert.deepEqual(fs.readdirSync(path.join(runDir, 'units')), [], 'no unit spent');
  const recs = journalRecords(runDir);
  assert.ok(recs.some((x) => x.t === 'pause' && x.src === 'preflight'));
  assert.equal(recs.filter((x) => x.t === 'start').length, 0);
  const state = JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8'));
  assert.equal(state.status, 'paused_rate_limit');
  assert.equal(new Date(state.rateLimitedUntil).toISOString().slice(5), '02-19T06:00:05.000Z');
});

test('a unit rate-limited by an output pattern is re-queued after the reset, never counted as a failure', { timeout: 60_000 }, () => {
  const dir = tmpDir();
  // The API answers 429 with "Retry-After: 1" to the first request of item-00002 only.
  const script = [
    'if [ "$RESUMABLE_ITEM_ID" = "item-00002" ] && mkdir "$RESUMABLE_RUN_DIR/../../limited" 2>/dev/null; then',
    '  echo "HTTP 429 rate limit exceeded. Retry-After: 1" >&2; exit 1',
    'fi',
    'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"',
  ].join('\n');
  const file = makeExperiment(dir, {
    n: 6,
    concurrency: 2,
    script,
    extra: { rateLimit: { patterns: ['HTTP 429', 'Retry-After: (?<reset>\\d+)'], bufferSeconds: 0.5 } },
  });
  const t = Date.now();
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  // Retry-After: 1, plus a tenth of it as the buffer (bufferSeconds caps it, it does not set it).
  assert.ok(Date.now() - t >= 1100, 'waited for the reset');
  assert.match(r.stderr, /Rate limited \(output matched "HTTP 429"\): pausing all dispatching/);
  const recs = journalRecords(runDirOf(dir));
  const ends = recs.filter((x) => x.t === 'end' && x.u === 'item-00002').map((x) => x.s);
  assert.deepEqual(ends, ['rate_limited', 'passed']);
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.deepEqual([status.counts.passed, status.counts.failed, status.counts.error, status.pauseCount], [6, 0, 0, 1]);
});

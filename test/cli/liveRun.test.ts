/* eslint-disable no-control-regex -- terminal output is what these tests read: its escape codes are the point */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { displayWidth } from '../../src/cli/termStyle';
import { CLI, cliStart, cliSync, makeExperiment } from '../helpers/cli';
import { ptyStart } from '../helpers/pty';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { firstStart, journalSoFar, waitFor } from '../helpers/waitFor';

/** A terminal as a user has it: UTF-8, colour, no NO_COLOR/FORCE_COLOR from the test's own environment. */
const TERMINAL = { TERM: 'xterm-256color', LANG: 'C.UTF-8', LC_ALL: '', LC_CTYPE: '', NO_COLOR: '', FORCE_COLOR: undefined };

/** Output into a pipe, whatever the test's own environment says of colour. */
const PIPE = { FORCE_COLOR: undefined };

/** What was drawn as the live line: each redraw (`\r` + erase line) that the next redraw replaced (a line said for good ends in a newline). */
function liveDraws(output: string): string[] {
  return [...output.replace(/\r\n/g, '\n').matchAll(/\r\x1b\[2K([^\r\n]+)(?=\r|$)/g)].map((m) => m[1]!);
}

/** A long name and a unit rate-limited once with "Retry-After: 4": a real pause of 4 s and a bit. */
function rateLimitedExperiment(dir: string): string {
  const script = [
    'sleep 0.2',
    'if [ "$RESUMABLE_ITEM_ID" = "item-00002" ] && mkdir "$RESUMABLE_RUN_DIR/../../limited" 2>/dev/null; then',
    '  echo "HTTP 429 rate limit exceeded. Retry-After: 4" >&2; exit 1',
    'fi',
    'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"',
  ].join('\n');
  return makeExperiment(dir, {
    n: 8,
    concurrency: 2,
    script,
    name: 'gsm8k-sonnet-4-5-with-a-long-name',
    extra: { rateLimit: { patterns: ['HTTP 429', 'Retry-After: (?<reset>\\d+)'], bufferSeconds: 0.5 } },
  });
}

for (const cols of [80, 120]) {
  test(`on a ${cols}-column terminal the live line keeps the pause countdown and never overflows`, { timeout: 90_000 }, async () => {
    const dir = tmpDir();
    const file = rateLimitedExperiment(dir);
    const p = ptyStart([process.execPath, CLI, 'run', file], dir, TERMINAL, { cols });
    const countdown = await waitFor('a live line with the pause countdown', () =>
      liveDraws(p.output()).find((d) =>
        /‖ rate limited, (resumes \d\d:\d\d:\d\d \(in \ds\)|resumes in \ds|\ds left)/.test(stripVTControlCharacters(d)),
      ),
    );
    const r = await p.done;
    assert.equal(r.code, 0, r.output);
    const draws = liveDraws(r.output);
    const plain = stripVTControlCharacters(countdown);
    assert.match(plain, /^gsm8k-sonnet-4-5-with-a-long-name \d\/8 · ‖ /, 'the pause comes right after done/total');
    assert.ok(!/failed 0|error 0/.test(plain), `no zero counts: ${plain}`);
    for (const d of draws) {
      const w = displayWidth(stripVTControlCharacters(d));
      assert.ok(w < cols, `a draw of ${w} columns on a ${cols}-column terminal: ${JSON.stringify(d)}`);
    }
    assert.ok(
      draws.some((d) => d.includes('\x1b[32mpassed')),
      'passed is green on a terminal',
    );
    assert.ok(
      draws.some((d) => d.includes('\x1b[36m‖')),
      'the pause is coloured',
    );
    assert.match(r.output, /\x1b\[32m✔ Completed\x1b\[39m: gsm8k-sonnet-4-5-with-a-long-name 8\/8/, 'a green check: every unit passed');
  });
}

test('TERM=dumb on a terminal: plain lines, no redraws, no colour, ASCII symbols', { timeout: 90_000 }, async () => {
  const dir = tmpDir();
  const file = rateLimitedExperiment(dir);
  const p = ptyStart([process.execPath, CLI, 'run', file], dir, { ...TERMINAL, TERM: 'dumb' }, { cols: 80 });
  const r = await p.done;
  assert.equal(r.code, 0, r.output);
  assert.ok(!r.output.includes('\x1b'), `no escape codes: ${JSON.stringify(r.output)}`);
  assert.ok(!r.output.replace(/\r\n/g, '\n').includes('\r'), 'no redraws');
  assert.match(r.output, /^\|\| Rate limited \(output matched "HTTP 429"\)/m);
  assert.match(r.output, /^\+ Completed: gsm8k-sonnet-4-5-with-a-long-name 8\/8 \| passed 8/m);
  assert.match(r.output, /^[\x09-\x0d\x20-\x7e]*$/, 'ASCII only');
});

test('NO_COLOR on a terminal: no colour; FORCE_COLOR into a pipe: colour', { timeout: 90_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 3, sleep: '0' });
  const p = ptyStart([process.execPath, CLI, 'run', file], dir, { ...TERMINAL, NO_COLOR: '1' }, { cols: 100 });
  const r = await p.done;
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /✔ Completed/);
  assert.ok(!/\x1b\[3\dm/.test(r.output), `no colour: ${JSON.stringify(r.output)}`);

  const forced = cliSync(['run', path.join(dir, 'e.experiment.json'), '--fresh'], dir, { FORCE_COLOR: '1', NO_COLOR: '' });
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /\x1b\[32m✔ Completed\x1b\[39m/);
  const piped = cliSync(['run', path.join(dir, 'e.experiment.json'), '--fresh'], dir, { FORCE_COLOR: undefined, NO_COLOR: '' });
  assert.ok(!piped.stderr.includes('\x1b['), 'no colour into a pipe');
});

test('after the first Ctrl+C the live line counts the grace down, with the units in flight', { timeout: 90_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 6, concurrency: 3, sleep: '60', extra: { graceSeconds: 30 } });
  const p = ptyStart([process.execPath, CLI, 'run', file], dir, TERMINAL, { cols: 120 });
  const runDir = await firstStart(dir);
  await waitFor('3 units started', () => journalSoFar(runDir).filter((r) => r.t === 'start').length === 3);
  p.signal('SIGINT');
  const grace = (d: string) =>
    /■ Stopping: waiting for 3 units in flight \(grace (\d+)s left; Ctrl\+C again to kill them now\)/.exec(stripVTControlCharacters(d));
  const first = await waitFor('the stop line', () =>
    liveDraws(p.output())
      .map(grace)
      .find((m) => m),
  );
  const later = await waitFor('the grace counting down', () =>
    liveDraws(p.output())
      .map(grace)
      .find((m) => m && Number(m[1]) < Number(first[1])),
  );
  assert.ok(Number(first[1]) <= 30 && Number(later[1]) < Number(first[1]));
  p.signal('SIGINT');
  const r = await p.done;
  assert.equal(r.code, 130, r.output);
  assert.match(r.output, /■ Interrupted/);
});

test('not a terminal: the first Ctrl+C says what it waits on', { timeout: 90_000 }, async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 6, concurrency: 2, sleep: '60', extra: { graceSeconds: 1 } });
  const { child, done } = cliStart(['run', file], dir, PIPE);
  const runDir = await firstStart(dir);
  await waitFor('2 units started', () => journalSoFar(runDir).filter((r) => r.t === 'start').length === 2);
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /^■ Stopping: waiting for 2 units in flight \(grace 1s left; Ctrl\+C again to kill them now\)$/m);
});

/** Items 3 and 4 fail (exit 3) until `ok` exists; results live in the user's own `out/`; units sleep what `slow` says. */
function ownLayoutExperiment(dir: string): string {
  const script = [
    'sleep "$(cat slow 2>/dev/null || echo 0)"',
    'case "$RESUMABLE_ITEM_ID" in item-00003|item-00004) [ -f ok ] || exit 3;; esac',
    'mkdir -p out && echo \'{"passed": true}\' > "out/$RESUMABLE_ITEM_ID.json"',
  ].join('\n');
  return makeExperiment(dir, {
    n: 10,
    concurrency: 2,
    script,
    extra: { result: { path: 'out/${item.id}.json' }, retries: { maxAttempts: 1 } },
  });
}

test(
  'plain mode: the first line has the true count, adoption is said; --fail-on error exits 1 and the summary says so',
  { timeout: 90_000 },
  () => {
    const dir = tmpDir();
    const file = ownLayoutExperiment(dir);
    for (const id of ['item-00000', 'item-00001', 'item-00002']) writeFiles(dir, { [`out/${id}.json`]: '{"passed": true}\n' });

    const failing = cliSync(['run', file, '--fail-on', 'error'], dir, PIPE);
    assert.equal(failing.code, 1, failing.stderr);
    assert.match(failing.stderr, /^3 of 10 units already done \(3 adopted from results on disk\); 7 to run/m);
    assert.match(failing.stderr, /^exp 3\/10 · passed 3$/m, 'the first plain line starts where the run does');
    assert.match(failing.stderr, /^▲ Completed with 2 errors: exp 10\/10 · passed 8 · failed 0 · error 2$/m);
    assert.match(failing.stderr, /^ {2}Exit 1 because of --fail-on error \(2 errors\)\.$/m);
    assert.ok(!failing.stderr.includes('✔'), 'no green check on a run with errors');

    const again = cliSync(['run', file], dir, PIPE);
    assert.equal(again.code, 0, 'without --fail-on, every unit having an outcome is exit 0');
    assert.match(again.stderr, /^▲ Completed with 2 errors/m);
    assert.match(again.stderr, /--retry-errors/);
    assert.equal(cliSync(['run', file, '--fail-on', 'failed'], dir, PIPE).code, 0, 'errors are not failures');

    // A resume of units that take longer than the ticker's first second: still the true count first.
    writeFiles(dir, { ok: '', slow: '1.5\n' });
    const retried = cliSync(['run', file, '--retry-errors', '--fail-on', 'error,failed'], dir, PIPE);
    assert.equal(retried.code, 0, retried.stderr);
    const lines = retried.stderr.split('\n');
    const startAt = lines.findIndex((l) => /^8 of 10 units already done; 2 to run/.test(l));
    assert.ok(startAt >= 0, retried.stderr);
    assert.equal(lines[startAt + 1], 'exp 8/10 · passed 8', retried.stderr);
    assert.match(retried.stderr, /^✔ Completed: exp 10\/10/m);
  },
);

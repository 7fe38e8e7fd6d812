/* eslint-disable no-control-regex -- terminal output is what these tests read: its escape codes are the point */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripVTControlCharacters } from 'node:util';
import { emptyCounts, type Counts } from '../../src/core/model/view';
import { progressLine, stoppingText, type ProgressFacts } from '../../src/cli/format';
import { ProgressRenderer } from '../../src/cli/progress';
import { exitCodeOf } from '../../src/cli/summary';
import { ASCII, cutToWidth, displayWidth, termStyle, UNICODE } from '../../src/cli/termStyle';
import type { RunSummary } from '../../src/core/run/events';

const counts = (c: Partial<Counts>): Counts => ({ ...emptyCounts(), ...c });
const NOW = new Date(2024, 0, 15, 12, 0, 0).getTime();

function facts(f: Partial<ProgressFacts>): ProgressFacts {
  return {
    name: 'gsm8k-sonnet-4-5',
    done: 412,
    total: 1000,
    counts: counts({ passed: 380, failed: 22, error: 10, rate_limited: 3, running: 8, pending: 577 }),
    rate: 2.5,
    etaMs: 235_000,
    pausedUntil: null,
    now: NOW,
    concurrency: { limit: 6, max: 32, rpm: 240 },
    spend: { usd: 4.2, tokens: 1_200_000, attempts: 412 },
    ...f,
  };
}

const WIDTHS = [200, 120, 100, 80, 60, 40, 30, 20, 12, 5, 1];

test('the live line never takes more columns than the terminal has, at any width', () => {
  const cases = [
    facts({}),
    facts({ pausedUntil: NOW + 14 * 60_000 }),
    facts({ stopping: { second: false, inFlight: 3, graceUntil: NOW + 28_000 } }),
    facts({ name: '評価実験-ジャパン-データセット' }),
    facts({ name: '👩‍🔬 eval', pausedUntil: NOW + 5000 }),
  ];
  for (const f of cases)
    for (const width of WIDTHS)
      for (const glyphs of [UNICODE, ASCII]) {
        const line = progressLine(f, { width, glyphs });
        assert.ok(displayWidth(line) <= width, `${width} columns: ${JSON.stringify(line)} takes ${displayWidth(line)}`);
        const coloured = progressLine(f, { width, glyphs, color: true });
        assert.equal(stripVTControlCharacters(coloured), line, 'colour changes no text');
      }
});

test('a pause keeps its countdown at 120, 100 and 80 columns, right after done/total; least important parts go first', () => {
  const f = facts({ pausedUntil: NOW + 14 * 60_000 + 5000 });
  const full = progressLine(f);
  assert.match(full, /^gsm8k-sonnet-4-5 412\/1000 · ‖ rate limited, resumes 12:14:05 \(in 14m05s\) · passed 380/);
  for (const width of [120, 100, 80]) {
    const line = progressLine(f, { width });
    assert.match(
      line,
      /^gsm8k-sonnet-4-5 412\/1000 · ‖ rate limited, (resumes 12:14:05 \(in 14m05s\)|resumes in 14m05s|14m05s left)/,
      `${width}: ${line}`,
    );
    assert.match(line, /failed 22 · error 10/, `${width}: problems stay`);
    assert.ok(!line.includes('$4.200'), `${width}: spend is the first to go: ${line}`);
  }
  const at100 = progressLine(f, { width: 100 });
  assert.ok(!at100.includes('concurrency'), at100);
  // Narrower still: the countdown stays when the counts have gone.
  assert.equal(progressLine(f, { width: 80 }), 'gsm8k-sonnet-4-5 412/1000 · ‖ rate limited, 14m05s left · failed 22 · error 10');
  assert.match(progressLine(f, { width: 40 }), /‖ 14m05s/);
  assert.match(progressLine(f, { width: 40 }), /^gsm8k-sonnet-4-5 412\/1000/);
  // Wide enough for all of it: nothing is left out.
  assert.equal(progressLine(f, { width: 400 }), full);
});

test('parts go in order: spend, concurrency, rate, then the running and rate-limited counts, the ETA, passed', () => {
  const f = facts({});
  const full = progressLine(f);
  const seen: string[] = [];
  for (let w = displayWidth(full); w > 20; w--) {
    const line = progressLine(f, { width: w });
    for (const [name, re] of [
      ['spend', /\$4\.200/],
      ['concurrency', /concurrency/],
      ['rate', /2\.5\/s/],
      ['running', /running 8/],
      ['rateLimited', /rate-limited 3/],
      ['eta', /ETA/],
      ['passed', /passed 380/],
    ] as const)
      if (!re.test(line) && !seen.includes(name)) seen.push(name);
  }
  assert.deepEqual(seen, ['spend', 'concurrency', 'rate', 'running', 'rateLimited', 'eta', 'passed']);
});

test('a name too long for the terminal is cut by display width with an ellipsis, the numbers kept', () => {
  const f = facts({
    name: '評価実験'.repeat(10),
    counts: counts({ pending: 1000 }),
    done: 0,
    rate: 0,
    etaMs: null,
    concurrency: null,
    spend: null,
  });
  const line = progressLine(f, { width: 21 });
  assert.equal(line, '評価実験評価… 0/1000', 'a 7th wide character would take 2 columns more than there are');
  assert.equal(displayWidth(line), 20);
  assert.equal(progressLine(f, { width: 21, glyphs: ASCII }), '評価実験評... 0/1000');
  assert.equal(cutToWidth('ab評価', 3), 'ab', 'never half of a wide character');
  assert.equal(cutToWidth('👩‍🔬x', 2), '👩‍🔬', 'a grapheme stays whole');
});

test('ASCII glyphs: not one character outside ASCII', () => {
  for (const f of [
    facts({}),
    facts({ pausedUntil: NOW + 5000 }),
    facts({ stopping: { second: false, inFlight: 3, graceUntil: NOW + 1000 } }),
  ])
    for (const width of [undefined, 80, 40]) assert.match(progressLine(f, { width, glyphs: ASCII }), /^[\x20-\x7e]*$/);
});

test('the stop line: units in flight and the grace counting down; shorter forms keep the count', () => {
  const s = { second: false, inFlight: 3, graceUntil: NOW + 28_000 };
  assert.equal(stoppingText(s, NOW, UNICODE), '■ Stopping: waiting for 3 units in flight (grace 28s left; Ctrl+C again to kill them now)');
  assert.equal(
    stoppingText(s, NOW + 27_000, UNICODE),
    '■ Stopping: waiting for 3 units in flight (grace 1s left; Ctrl+C again to kill them now)',
  );
  assert.equal(stoppingText({ ...s, inFlight: 1 }, NOW + 30_000, UNICODE), '■ Stopping: grace over, killing 1 unit in flight');
  assert.equal(stoppingText({ ...s, second: true }, NOW, UNICODE), '■ Second interrupt: killing 3 units in flight now');
  assert.equal(stoppingText({ ...s, inFlight: 0 }, NOW, UNICODE), '■ Stopping: no unit in flight, finishing up');
  const f = facts({ stopping: s });
  assert.equal(progressLine(f, { width: 80 }), 'gsm8k-sonnet-4-5 412/1000 · ■ Stopping: 3 units in flight, grace 28s');
  assert.equal(
    progressLine({ ...f, name: 'exp' }, { width: 80 }),
    'exp 412/1000 · ■ Stopping: 3 units in flight, grace 28s (Ctrl+C again: kill now)',
  );
  assert.equal(
    progressLine(f, { width: 120 }),
    'gsm8k-sonnet-4-5 412/1000 · ■ Stopping: waiting for 3 units in flight (grace 28s left; Ctrl+C again to kill them now)',
  );
  assert.match(progressLine(f, { width: 30 }), /■ 3 in flight, 28s/);
});

test('termStyle: NO_COLOR, FORCE_COLOR, TERM=dumb, and the locale decide colour, redraws and glyphs', () => {
  const utf = { LANG: 'en_US.UTF-8', TERM: 'xterm-256color' };
  assert.deepEqual(termStyle(true, utf), { glyphs: UNICODE, color: true, redraw: true });
  assert.deepEqual(termStyle(false, utf), { glyphs: UNICODE, color: false, redraw: false }, 'no colour into a pipe');
  assert.equal(termStyle(false, { TERM: 'dumb', LANG: 'C' }).glyphs, UNICODE, 'into a pipe or a file the text is UTF-8');
  assert.equal(termStyle(true, { ...utf, NO_COLOR: '1' }).color, false);
  assert.equal(termStyle(true, { ...utf, NO_COLOR: '' }).color, true, 'an empty NO_COLOR is not set (no-color.org)');
  assert.equal(termStyle(false, { ...utf, FORCE_COLOR: '1' }).color, true, 'FORCE_COLOR colours a pipe');
  assert.equal(termStyle(false, { ...utf, FORCE_COLOR: '' }).color, true);
  assert.equal(termStyle(true, { ...utf, FORCE_COLOR: '0' }).color, false);
  assert.equal(termStyle(true, { ...utf, FORCE_COLOR: 'false' }).color, false);
  assert.deepEqual(termStyle(true, { ...utf, TERM: 'dumb' }), { glyphs: ASCII, color: false, redraw: false });
  assert.equal(termStyle(true, { ...utf, TERM: 'dumb', FORCE_COLOR: '1' }).color, true);
  assert.equal(termStyle(true, { TERM: 'xterm', LANG: 'C' }).glyphs, ASCII);
  assert.equal(termStyle(true, { TERM: 'xterm', LANG: 'de_DE.ISO-8859-1' }).glyphs, ASCII);
  assert.equal(termStyle(true, { TERM: 'xterm', LANG: 'C', LC_ALL: 'C.UTF-8' }).glyphs, UNICODE, 'LC_ALL wins');
  assert.equal(termStyle(true, { TERM: 'xterm', LANG: 'en_US.UTF-8', LC_CTYPE: 'POSIX' }).glyphs, ASCII, 'LC_CTYPE before LANG');
  assert.equal(termStyle(true, { TERM: 'xterm', LANG: 'en_US.utf8' }).glyphs, UNICODE);
  assert.equal(termStyle(true, { TERM: 'xterm' }).glyphs, UNICODE, 'no locale set: UTF-8 terminals are the rule');
  assert.equal(termStyle(true, { TERM: 'linux', LANG: 'en_US.UTF-8' }).glyphs, ASCII, "the Linux console's font lacks the symbols");
});

/** A terminal-like stream that keeps what is written. */
function fakeStream(isTTY: boolean, columns = 80): { stream: NodeJS.WriteStream; written: () => string } {
  let written = '';
  const stream = { write: (t: string) => ((written += t), true), columns, isTTY } as unknown as NodeJS.WriteStream;
  return { stream, written: () => written };
}

const start = { type: 'start', runDir: '/r', total: 100, todo: 91, done: 9, concurrency: 4, adopted: 3 } as const;

test('TERM=dumb on a terminal: plain lines, no redraws, ASCII; a real terminal redraws one coloured line', () => {
  const dumb = fakeStream(true);
  const r = new ProgressRenderer('exp', 'tty', dumb.stream, () => NOW, { TERM: 'dumb', LANG: 'en_US.UTF-8' });
  r.handle({ ...start, counts: counts({ passed: 9, pending: 91 }) });
  r.handle({ type: 'pause', until: NOW + 60_000, src: 'item-1', why: '429' });
  r.stopTicker();
  assert.ok(!dumb.written().includes('\r'), JSON.stringify(dumb.written()));
  assert.ok(!dumb.written().includes('\x1b'), 'no escape codes on a dumb terminal');
  assert.match(dumb.written(), /^exp 9\/100 \| passed 9\n/m);
  assert.match(dumb.written(), /^\|\| Rate limited \(429\)/m);

  const tty = fakeStream(true, 60);
  const t = new ProgressRenderer('exp', 'tty', tty.stream, () => NOW, { TERM: 'xterm', LANG: 'en_US.UTF-8' });
  t.handle({ ...start, counts: counts({ passed: 9, failed: 1, pending: 90 }) });
  t.stopTicker();
  assert.match(tty.written(), /\r\x1b\[2Kexp 10\/100 · \x1b\[32mpassed 9\x1b\[39m · \x1b\[31mfailed 1\x1b\[39m/);
  const noColour = fakeStream(true);
  const n = new ProgressRenderer('exp', 'tty', noColour.stream, () => NOW, { TERM: 'xterm', NO_COLOR: '1' });
  n.handle({ ...start, counts: counts({ passed: 9, pending: 91 }) });
  n.stopTicker();
  assert.match(noColour.written(), /\r\x1b\[2Kexp 9\/100 · passed 9/);
  assert.ok(!noColour.written().includes('\x1b[3'), 'NO_COLOR: no colour codes');
});

test('plain mode starts from the true count and says what was adopted', () => {
  const plain = fakeStream(false);
  const r = new ProgressRenderer('exp', 'plain', plain.stream, () => NOW, { LANG: 'C.UTF-8' });
  r.handle({ ...start, counts: counts({ passed: 8, error: 1, pending: 91 }) });
  r.stopTicker();
  assert.equal(
    plain.written(),
    'Run folder: /r\n9 of 100 units already done (3 adopted from results on disk); 91 to run, 4 at a time.\nexp 9/100 · passed 8 · error 1\n',
  );
});

test('after a Ctrl+C the line counts the units in flight down as they end', () => {
  let now = NOW;
  const tty = fakeStream(true, 200);
  const r = new ProgressRenderer('exp', 'tty', tty.stream, () => now, { TERM: 'xterm', LANG: 'C.UTF-8', NO_COLOR: '1' });
  r.handle({ ...start, counts: counts({ pending: 100 }) });
  r.handle({ type: 'stopping', reason: 'interrupt', second: false, inFlight: 3, graceUntil: NOW + 30_000 });
  now += 2000;
  r.handle({ type: 'unit', id: 'a', status: 'passed', attempt: 1 });
  r.stopTicker();
  const draws = tty.written().split('\r\x1b[2K');
  assert.match(draws.at(-2)!, /■ Stopping: waiting for 3 units in flight \(grace 30s left/);
  assert.match(draws.at(-1)!, /■ Stopping: waiting for 2 units in flight \(grace 28s left/);
});

const summary = (s: Partial<RunSummary>): RunSummary => ({
  status: 'completed',
  exitCode: 0,
  runDir: '/r',
  total: 10,
  counts: counts({ passed: 7, failed: 1, error: 2 }),
  rateLimitedUntil: null,
  ...s,
});

test('--fail-on: a completed run with such outcomes exits 1 and says why; other exits are left alone', () => {
  assert.deepEqual(exitCodeOf(summary({}), []), { exitCode: 0 });
  assert.deepEqual(exitCodeOf(summary({}), ['error']), { exitCode: 1, because: 'exit 1 because of --fail-on error (2 errors)' });
  assert.deepEqual(exitCodeOf(summary({}), ['error', 'failed']), {
    exitCode: 1,
    because: 'exit 1 because of --fail-on error,failed (2 errors and 1 failed)',
  });
  assert.deepEqual(exitCodeOf(summary({ counts: counts({ passed: 9, failed: 1 }) }), ['error']), { exitCode: 0 });
  assert.deepEqual(exitCodeOf(summary({ status: 'interrupted', exitCode: 130 }), ['error']), { exitCode: 130 });
  assert.deepEqual(exitCodeOf(summary({ status: 'paused_rate_limit', exitCode: 2 }), ['error']), { exitCode: 2 });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyCounts } from '../../src/core/model/view';
import {
  BUCKET_LABELS,
  childrenOf,
  countsLine,
  experimentDescription,
  experimentTooltip,
  headWord,
  type ExperimentEntry,
} from '../../src/extension/model/treeModel';
import { nextPauseRead, pollPlan, PAUSE_END_RETRIES, PAUSE_END_SLACK_MS, SLOW_RESCAN_TICKS } from '../../src/extension/model/pollPlan';
import { statusBarState, statusBarText } from '../../src/extension/model/statusBarState';
import {
  countOf,
  finishedMessage,
  nothingToRepairMessage,
  PICK_TITLES,
  repairSummary,
  runPickTitle,
  stoppedMessage,
  stoppingMessage,
} from '../../src/extension/model/wording';
import { splitFound } from '../../src/extension/model/workspaceScan';
import { NOW, report } from './reportFixture';

const DEAD = { pid: 77, host: 'h', heartbeatAgeMs: 5e5, alive: false };

test('experiment row: status word (or the pause countdown) first, then done/total and passed, the rest after', () => {
  // At the default side-bar width about 35 characters of a description show: these are they.
  assert.ok(experimentDescription(report(), NOW).startsWith('running · 412/1000 · 400 passed'));
  const paused = report({ status: 'paused_rate_limit', rateLimitedUntil: NOW + 14 * 60_000, etaMs: 5000 });
  assert.equal(
    experimentDescription(paused, NOW),
    'rate limited (14m) · 412/1000 · 400 passed · 10 failed · 2 errors',
    'no ETA during a pause',
  );
  assert.equal(headWord(paused, NOW + 14 * 60_000 - 9_500), 'rate limited (10s)', 'the countdown ticks');
  assert.equal(headWord(paused, NOW + 15 * 60_000), 'resuming', 'a pause past its end, before the unpause is read');
  const parked = report({ status: 'paused_rate_limit', rateLimitedUntil: new Date(2026, 10, 22, 14, 30).getTime(), runner: DEAD });
  assert.equal(headWord(parked, NOW), 'parked until 14:30', 'a runner that stopped on a long reset');
  assert.equal(headWord({ ...parked, rateLimitedUntil: null }, NOW), 'parked on a rate limit');
  const fresh = report({ done: 0, counts: { ...emptyCounts(), pending: 1000 }, etaMs: null });
  assert.equal(experimentDescription(fresh, NOW), 'running · 0/1000', 'nothing passed yet is not news');
});

test('plurals: 1 error, 2 errors; zero parts are left out', () => {
  const one = report({ counts: { ...report().counts, error: 1, failed: 0 } });
  assert.equal(experimentDescription(one, NOW), 'running · 412/1000 · 400 passed · 1 error · ETA 1m02s');
  assert.equal(countOf(1, 'error'), '1 error');
  assert.equal(countOf(0, 'error'), '0 errors');
  assert.equal(countOf(3, 'unit'), '3 units');
  const done = report({ status: 'completed', done: 60, total: 60, counts: { ...emptyCounts(), passed: 48, failed: 12 } });
  assert.equal(finishedMessage(done), 'Resumable: gsm8k finished — 60/60 · 48 passed · 12 failed');
  assert.equal(
    finishedMessage({ ...done, counts: { ...emptyCounts(), passed: 59, error: 1 } }),
    'Resumable: gsm8k finished — 60/60 · 59 passed · 1 error',
  );
});

test('experiment tooltip: every count, rate, ETA, pause, runner, workers, spend and the run folder', () => {
  const r = report({
    workers: { live: 4, started: 6, restarts: 2 },
    spend: { usd: 0.42, tokens: 120_000, attempts: 420 },
    concurrency: { limit: 6, max: 32 },
    pauseCount: 1,
  });
  const md = experimentTooltip({ label: 'gsm8k', file: '/w/gsm8k.experiment.json' }, r, NOW, (p) => p.replace('/w/', ''));
  for (const want of [
    '**gsm8k** — running',
    '`gsm8k.experiment.json`',
    '412/1000 done · 400 passed · 10 failed · 2 errors · 4 running · 584 pending',
    '9.8 units/s · ETA 1m02s',
    '1 rate-limit pause so far',
    'Runner: pid 1 on h, heartbeat 1s ago',
    'Workers: 4 workers · 2 restarts',
    'Spent $0\\.420',
    'concurrency 6/32',
    'Run folder: `.resumable/gsm8k-1a2b3c4d`',
  ])
    assert.ok(md.includes(want), `tooltip has ${JSON.stringify(want)}:\n${md}`);
  const paused = experimentTooltip(
    { label: 'gsm8k', file: '/w/gsm8k.experiment.json' },
    report({
      status: 'paused_rate_limit',
      rateLimitedUntil: new Date(2026, 10, 22, 6, 0).getTime(),
      pauseSource: 'q-7/sonnet',
      pauseCount: 3,
    }),
    new Date(2026, 10, 22, 5, 46).getTime(),
    (p) => p,
  );
  assert.match(paused, /Rate limited \(by `q-7\/sonnet`\) until 06:00 \(14m\), then it resumes by itself · 3 pauses so far/);
  assert.match(
    experimentTooltip({ label: 'a_b*', file: '/w/x.experiment.json' }, undefined, NOW, (p) => p),
    /^\*\*a\\_b\\\*\*\* — not started/,
    "a name's Markdown is escaped",
  );
});

test('an interrupted run: its "running" units are Interrupted (not spinning), a live run keeps Running', () => {
  const counts = { ...emptyCounts(), passed: 2, running: 1, pending: 1 };
  const units = [
    { id: 'a', group: '', status: 'passed' as const, attempts: 1 },
    { id: 'b', group: '', status: 'passed' as const, attempts: 1 },
    { id: 'c', group: '', status: 'running' as const, attempts: 1 },
    { id: 'd', group: '', status: 'pending' as const, attempts: 0 },
  ];
  const shownOf = (r: ReturnType<typeof report>) => {
    const e: ExperimentEntry = { file: r.experimentFile, label: r.name, report: r, units };
    const [exp] = childrenOf(undefined, [e], new Map(), 500);
    const buckets = childrenOf(exp, [e], new Map(), 500);
    const running = buckets.find((b) => b.kind === 'bucket' && b.bucket === 'running')!;
    const [unit] = childrenOf(running, [e], new Map(), 500);
    return [running.kind === 'bucket' && BUCKET_LABELS[running.shown], unit?.kind === 'unit' && unit.shown];
  };
  const base = { total: 4, done: 2, counts, groups: [{ group: '', total: 4, counts }] };
  assert.deepEqual(shownOf(report(base)), ['Running', 'running']);
  assert.deepEqual(shownOf(report({ ...base, status: 'interrupted', runner: DEAD })), ['Interrupted', 'interrupted']);
  assert.equal(
    countsLine(report({ ...base, status: 'interrupted', runner: DEAD })),
    '2/4 done · 2 passed · 0 failed · 0 errors · 1 interrupted · 1 pending',
  );
});

test('quick picks ask a question; stop and repair say what happened in sentences', () => {
  assert.equal(runPickTitle(['--fresh']), 'Start which experiment from scratch?');
  assert.equal(runPickTitle([]), 'Resume which experiment?');
  assert.equal(runPickTitle(['--retry-errors']), 'Retry the errors of which experiment?');
  assert.equal(runPickTitle(['--retry-failed']), 'Retry the failed units of which experiment?');
  for (const t of Object.values(PICK_TITLES)) assert.match(t, /^[A-Z].*\?$/, t);
  assert.equal(stoppingMessage('evals', 3), 'Stopping evals: waiting for 3 units in flight…');
  assert.equal(stoppingMessage('evals', 1), 'Stopping evals: waiting for 1 unit in flight…');
  assert.equal(stoppingMessage('evals', 0), 'Stopping evals…');
  const stopped = report({ status: 'interrupted', runner: DEAD, counts: { ...report().counts, error: 0 } });
  assert.equal(
    stoppedMessage('evals', stopped),
    'Resumable: stopped evals at 412/1000 (400 passed · 10 failed). Resume Experiment goes on from there.',
  );
  const plan = { adopted: ['a', 'b'], dropped: [], droppedTornTail: false, unreadable: [] };
  assert.equal(repairSummary(plan), 'adopts 2 results the journal missed', 'no "+0" parts');
  assert.equal(
    repairSummary({ ...plan, adopted: ['a'], dropped: [7], droppedTornTail: true }, 'did'),
    'adopted 1 result the journal missed, left out 2 damaged journal lines',
  );
  assert.equal(
    nothingToRepairMessage('evals', { done: 40, total: 40 }),
    'Resumable: the checkpoint of evals is sound (40/40 units done): its journal agrees with the results on disk, so there is nothing to repair.',
  );
});

test('status bar: the paused text names the experiment', () => {
  const until = new Date(2026, 10, 22, 6, 0).getTime();
  const s = statusBarState([report({ name: 'paced', status: 'paused_rate_limit', rateLimitedUntil: until })], until - 30_000);
  assert.equal(statusBarText(s, until - 30_000), '$(watch) paced: rate limited · resumes 06:00 (30s)');
});

test('live poll: live runs each tick, a workspace search only while a task has no run in view (or now and then)', () => {
  const live = report();
  const done = report({ runDir: '/w/.resumable/old-1', status: 'completed', runner: DEAD });
  assert.deepEqual(pollPlan({ tick: 1, reports: [live, done], taskExperiments: [] }), { dirs: [live.runDir], rescan: false });
  assert.deepEqual(
    pollPlan({ tick: 1, reports: [live], taskExperiments: [live.experimentFile] }).rescan,
    false,
    'its run is followed already',
  );
  assert.equal(
    pollPlan({ tick: 1, reports: [done], taskExperiments: ['/w/new.experiment.json'] }).rescan,
    true,
    'a new run folder to find',
  );
  assert.equal(pollPlan({ tick: SLOW_RESCAN_TICKS, reports: [], taskExperiments: [] }).rescan, true);
});

test('a pause is read again just after its end, then a few times while the unpause is not journaled yet', () => {
  const until = NOW + 3000;
  const paused = report({ status: 'paused_rate_limit', rateLimitedUntil: until });
  assert.deepEqual(nextPauseRead([paused], NOW, new Map()), { runDir: paused.runDir, at: until + PAUSE_END_SLACK_MS });
  assert.equal(nextPauseRead([paused], until + 150, new Map([[paused.runDir, 1]]))?.at, until + 150 + 250, 'still paused after its end');
  assert.equal(nextPauseRead([paused], until + 5000, new Map([[paused.runDir, PAUSE_END_RETRIES]])), undefined, 'then the tick takes over');
  assert.equal(nextPauseRead([report()], NOW, new Map()), undefined, 'nothing paused');
  assert.equal(nextPauseRead([{ ...paused, runner: DEAD }], NOW, new Map()), undefined, 'a parked run does not resume by itself');
});

test('one workspace search: experiment files and run folders told apart', () => {
  const found = splitFound([
    '/w/evals/gsm8k.experiment.json',
    '/w/evals/.resumable/gsm8k-1a2b3c4d/experiment.json',
    '/w/a.experiment.json',
    '/w/old/archive/.resumable/x-1/experiment.json',
    '/w/.resumable/a-2/archive/2026/a.experiment.json',
  ]);
  assert.deepEqual(found, {
    experiments: ['/w/a.experiment.json', '/w/evals/gsm8k.experiment.json'],
    runDirs: ['/w/evals/.resumable/gsm8k-1a2b3c4d'],
  });
});

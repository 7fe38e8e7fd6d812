import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { systemClock } from '../../src/core/clock';
import type { Item } from '../../src/core/config/items';
import { loadExperiment } from '../../src/core/config/load';
import { expandUnits } from '../../src/core/config/units';
import { freeze, writeFrozen } from '../../src/core/model/frozen';
import { buildSnapshot } from '../../src/core/model/snapshot';
import { newView } from '../../src/core/model/view';
import { shardOf } from '../../src/core/shard/partition';
import { NO_VALUE } from '../../src/core/status/groupBy';
import { RunFollower, type RunReport } from '../../src/core/status/report';
import { reportStatus } from '../../src/core/status/runStatus';
import { concurrencyShort, spendAndConcurrencyLines, spendLine, spendShort } from '../../src/core/status/spendLines';
import { RunPaths, runFolderFor, type Shard } from '../../src/core/store/paths';
import type { JournalRecord } from '../../src/core/store/events';
import { renderReport } from '../../src/cli/commands/status';
import { tmpDir, writeFiles } from '../helpers/tmp';

// Spend and concurrency in `status`: summed per run, group and shard from the journals' `end`
// records, the adaptive limit of the live session, the budget; and the words `status` says them in.

const item = (id: string, fields: Record<string, unknown>): Item => ({ id, fields: { id, ...fields }, where: {} });
const ITEMS = [item('q1', { tier: 'T0' }), item('q2', { tier: 'T1' }), item('q3', { tier: 'T0' }), item('q4', {})];
const MATRIX = { model: ['sonnet', 'haiku'] };
const UNIT_IDS = expandUnits(ITEMS, MATRIX).map((u) => u.id);

/** A run folder made by hand: its frozen config (with `budget` when given) and the journal lines given. */
async function runFolder(journals: Record<string, JournalRecord[]>, budget?: Record<string, number>): Promise<string> {
  const dir = tmpDir();
  writeFiles(dir, {
    'items.jsonl': ITEMS.map((i) => JSON.stringify(i.fields)).join('\n') + '\n',
    'e.experiment.json': JSON.stringify({
      name: 'spend',
      items: { file: 'items.jsonl' },
      matrix: MATRIX,
      run: { command: ['true'] },
      ...(budget ? { budget } : {}),
    }),
  });
  const exp = await loadExperiment(path.join(dir, 'e.experiment.json'));
  const runDir = runFolderFor(exp.dir, exp.config.runRoot, exp.config.name, exp.hash);
  fs.mkdirSync(runDir, { recursive: true });
  await writeFrozen(path.join(runDir, 'experiment.json'), () => freeze(exp, 1));
  for (const [name, recs] of Object.entries(journals)) {
    const shard = /^journal\.(\d+of\d+)\.jsonl$/.exec(name)?.[1];
    const header: JournalRecord = { t: 'header', schemaVersion: 1, run: path.basename(runDir), hash: exp.hash, shard, ts: 1 };
    fs.writeFileSync(path.join(runDir, name), [header, ...recs].map((r) => JSON.stringify(r) + '\n').join(''));
  }
  return runDir;
}

/** A lock held by this test process: its runner is alive, as far as the report can tell. */
function holdLock(runDir: string, shard?: Shard): void {
  const lock = { schemaVersion: 1, pid: process.pid, host: os.hostname(), startedAt: Date.now(), token: 'test' };
  fs.writeFileSync(new RunPaths(runDir, shard).lock, JSON.stringify(lock));
}

async function reportOf(runDir: string, by?: string): Promise<RunReport> {
  const f = RunFollower.open(runDir);
  await f.poll();
  return f.report(systemClock, { by });
}

const spent = (u: string, s: 'passed' | 'failed' | 'error', usd: number, tok: number, a = 1, ts = 10): JournalRecord => ({
  t: 'end',
  ts,
  u,
  a,
  s,
  d: 1,
  usd,
  tok,
});

// Amounts that add up exactly in binary: 0.25 + 0.125 + 0.125 + 0.5 = 1.
const SESSION: JournalRecord[] = [
  { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
  { t: 'conc', ts: 3, c: 16, max: 32 },
  spent('q1/sonnet', 'passed', 0.25, 1000),
  spent('q1/haiku', 'error', 0.125, 500),
  spent('q1/haiku', 'passed', 0.125, 500, 2),
  spent('q2/sonnet', 'failed', 0.5, 2000),
  // Adopted results spent nothing that the journal knows of.
  { t: 'adopt', ts: 20, u: 'q3/sonnet', s: 'passed', why: 'found on disk' },
  { t: 'runner_end', ts: 30, status: 'budget_exhausted', why: 'spent $1 of budget.maxCostUSD = $5' },
];

test('spend is summed over every attempt, per run and per group; projected from the mean per attempt', async () => {
  const r = await reportOf(await runFolder({ 'journal.jsonl': SESSION }, { maxCostUSD: 5 }));
  assert.equal(r.status, 'budget_exhausted', 'units are left: the budget stopped it, it is neither interrupted nor completed');
  assert.deepEqual(r.spend, { usd: 1, tokens: 4000, attempts: 4 });
  // 4 of 8 units done; 4 left at the mean of $0.25 and 1000 tokens an attempt.
  assert.deepEqual(r.projected, { usd: 2, tokens: 8000, attempts: 8 });
  assert.deepEqual(r.budget, { maxCostUSD: 5 });
  assert.equal(r.concurrency, null, 'no runner works: no limit in force');
  assert.deepEqual(
    r.groups.map((g) => [g.group, g.spend]),
    [
      ['sonnet', { usd: 0.75, tokens: 3000 }],
      ['haiku', { usd: 0.25, tokens: 1000 }],
    ],
  );
  const byTier = await reportOf(r.runDir, 'tier');
  assert.deepEqual(
    byTier.groups.map((g) => [g.group, g.spend]),
    [
      ['T0', { usd: 0.5, tokens: 2000 }],
      ['T1', { usd: 0.5, tokens: 2000 }],
      [NO_VALUE, { usd: 0, tokens: 0 }],
    ],
    'every group has a spend once one unit spent something',
  );
  const json = JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
  for (const k of ['status', 'counts', 'groups', 'shards', 'rate', 'etaMs', 'runner', 'notes']) assert.ok(k in json, `${k} is still there`);
});

test('a run whose attempts reported no spend: null spend, no group spend, no budget; nothing said', async () => {
  const r = await reportOf(
    await runFolder({
      'journal.jsonl': [
        { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
        { t: 'end', ts: 10, u: 'q1/sonnet', a: 1, s: 'passed', d: 1 },
        { t: 'runner_end', ts: 30, status: 'interrupted' },
      ],
    }),
  );
  assert.deepEqual([r.spend, r.projected, r.budget, r.concurrency], [null, null, null, null]);
  assert.ok(r.groups.every((g) => !('spend' in g)));
  assert.equal(spendLine(r), undefined);
  assert.doesNotMatch(renderReport(r), /spent|concurrency/);
});

test('budget_exhausted is kept while units are left, and becomes completed when none are', () => {
  const s = (done: number) => reportStatus({ journal: 'budget_exhausted', snapshot: undefined, runnerAlive: false, done, total: 8 });
  assert.deepEqual(s(4), { status: 'budget_exhausted' });
  assert.deepEqual(s(8), { status: 'completed' });
  assert.deepEqual(reportStatus({ journal: undefined, snapshot: 'budget_exhausted', runnerAlive: false, done: 2, total: 8 }), {
    status: 'budget_exhausted',
  });
});

test('a live run: the limit of its current session (reset at each runner start), or its state.json', async () => {
  const live: JournalRecord[] = [
    { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
    { t: 'conc', ts: 3, c: 4, max: 32 },
    { t: 'runner_end', ts: 5, status: 'interrupted' },
    { t: 'runner_start', ts: 6, pid: process.pid, host: os.hostname() },
  ];
  const fresh = await runFolder({ 'journal.jsonl': live });
  holdLock(fresh);
  const atStart = await reportOf(fresh);
  assert.equal(atStart.status, 'running');
  assert.equal(atStart.concurrency, null, "the last session's limit is not this one's");

  const adapting = await runFolder({ 'journal.jsonl': [...live, { t: 'conc', ts: 7, c: 6, max: 32, rpm: 240 }] }, { maxTokens: 1e6 });
  holdLock(adapting);
  const r = await reportOf(adapting);
  assert.deepEqual(r.concurrency, { limit: 6, max: 32, rpm: 240 });
  assert.deepEqual(r.budget, { maxTokens: 1e6 });

  // state.json of this runner says a limit the journal has not shown yet, and a raised budget.
  const view = newView(UNIT_IDS);
  view.concurrency = { limit: 3, max: 8 };
  const base = { name: 'spend', hash: 'h', shard: null, startedAt: 6, budget: { maxTokens: 2e6 } };
  fs.writeFileSync(new RunPaths(fresh).state, JSON.stringify(buildSnapshot(base, view, 'running', Date.now(), 0)));
  const fromSnapshot = await reportOf(fresh);
  assert.deepEqual(fromSnapshot.concurrency, { limit: 3, max: 8 });
  assert.deepEqual(fromSnapshot.budget, { maxTokens: 2e6 }, "the latest runner's budget, not the frozen config's");
  assert.deepEqual(spendAndConcurrencyLines(r), ['Spent 0 of budget 1.0M tokens', 'concurrency 6/32, adapting · paced 240/min']);
  assert.match(renderReport(r), /\n {2}concurrency +6\/32, adapting · paced 240\/min\n/);
});

test('a sharded run: spend per shard, summed with the whole run journal; live shards add their limits up', async () => {
  const journals: Record<string, JournalRecord[]> = {
    // An earlier unsharded session spent on one unit that its shard then ran again.
    'journal.jsonl': [
      { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
      spent('q1/sonnet', 'error', 0.5, 100),
      { t: 'runner_end', ts: 5, status: 'interrupted' },
    ],
  };
  const mine = (k: number) => UNIT_IDS.filter((id) => shardOf(id, 2) === k);
  const cost = (k: number) => (k === 1 ? 0.25 : 0.125);
  for (const k of [1, 2]) {
    journals[`journal.${k}of2.jsonl`] = [
      { t: 'runner_start', ts: 6, pid: process.pid, host: os.hostname() },
      { t: 'conc', ts: 7, c: k === 1 ? 3 : 5, max: 8, ...(k === 2 ? { rpm: 60 } : {}) },
      ...mine(k)
        .slice(0, 2)
        .map((u, i) => spent(u, 'passed', cost(k), 1000, 1, 10 + i)),
    ];
  }
  const runDir = await runFolder(journals, { maxCostUSD: 5 });
  for (const k of [1, 2]) holdLock(runDir, { k, n: 2 });
  const r = await reportOf(runDir);
  assert.equal(r.status, 'running');
  assert.deepEqual(
    r.shards.map((s) => [s.k, s.spend, s.concurrency]),
    [
      [1, { usd: 0.5, tokens: 2000, attempts: 2 }, { limit: 3, max: 8 }],
      [2, { usd: 0.25, tokens: 2000, attempts: 2 }, { limit: 5, max: 8, rpm: 60 }],
    ],
  );
  assert.deepEqual(r.spend, { usd: 1.25, tokens: 4100, attempts: 5 });
  assert.deepEqual(r.concurrency, { limit: 8, max: 16, rpm: 60 });
  assert.deepEqual(r.budget, { maxCostUSD: 5 });
  const groupUsd = r.groups.reduce((a, g) => a + (g.spend?.usd ?? 0), 0);
  assert.equal(groupUsd, 1.25, "the groups add up to the run: a rerun unit keeps its earlier session's spend");
  assert.ok(r.projected && r.projected.usd > r.spend.usd);
});

test('a sharded run stopped on its budget with units left is budget_exhausted; the shard says so', async () => {
  const journals: Record<string, JournalRecord[]> = {};
  for (const k of [1, 2]) {
    const ids = UNIT_IDS.filter((id) => shardOf(id, 2) === k);
    const ends = k === 1 ? ids : ids.slice(0, 1);
    journals[`journal.${k}of2.jsonl`] = [
      { t: 'runner_start', ts: 2, pid: 1, host: 'h' },
      ...ends.map((u, i) => spent(u, 'passed', 0.5, 0, 1, 10 + i)),
      { t: 'runner_end', ts: 50, status: k === 1 ? 'completed' : 'budget_exhausted' },
    ];
  }
  const r = await reportOf(await runFolder(journals, { maxCostUSD: 2 }));
  assert.deepEqual(
    r.shards.map((s) => s.state),
    ['done', 'budget_exhausted'],
  );
  assert.equal(r.status, 'budget_exhausted');
  assert.equal(r.concurrency, null);
  const text = renderReport(r);
  assert.match(text, /status +budget_exhausted \(budget reached: raise it in the experiment file and run again to continue\)/);
  assert.match(text, /shard 1\/2 +done {13}2\/2 · pid 1 on h · \$1\.00\n/, 'the state column is as wide as budget_exhausted');
  assert.match(text, /shard 2\/2 +budget_exhausted 1\/6 · pid 1 on h · \$0\.500\n/);
  assert.match(text, /spent +\$1\.50 of budget \$2\.00 \(projected \$4\.00 at completion, over budget\)\n/);
});

test('status text: spent, projected, of budget; per-group spend in the group table', async () => {
  const r = await reportOf(await runFolder({ 'journal.jsonl': SESSION }, { maxCostUSD: 5 }));
  const text = renderReport(r);
  assert.match(text, /\n {2}spent +\$1\.00 of budget \$5\.00 · 4000 tokens \(projected \$2\.00 at completion\)\n/);
  assert.match(text, /\n {4}sonnet +3\/4 · passed 2 · failed 1 · error 0 · pass 67% \[21%–94%\] · \$0\.750 · 3000 tokens\n/);
  assert.match(text, /\n {4}haiku +1\/4 · passed 1 · failed 0 · error 0 · pass 100% \[21%–100%\] · \$0\.250 · 1000 tokens\n/);
  assert.doesNotMatch(text, /concurrency/, 'not live: no limit in force');
});

test('spend words: without a budget, with one, over it, done; the short forms', () => {
  const facts = { spend: { usd: 0.42, tokens: 120_000 }, projected: { usd: 1.1, tokens: 310_000 }, budget: null, done: 40, total: 100 };
  assert.equal(spendLine(facts), '$0.420 · 120.0k tokens (projected $1.10 at completion)');
  assert.equal(
    spendLine({ ...facts, budget: { maxCostUSD: 5 } }),
    '$0.420 of budget $5.00 · 120.0k tokens (projected $1.10 at completion)',
  );
  assert.equal(
    spendLine({ ...facts, budget: { maxCostUSD: 1 } }),
    '$0.420 of budget $1.00 · 120.0k tokens (projected $1.10 at completion, over budget)',
  );
  assert.equal(
    spendLine({ ...facts, budget: { maxTokens: 500_000 } }),
    '$0.420 · 120.0k of budget 500.0k tokens (projected $1.10 · 310.0k tokens at completion)',
  );
  assert.equal(
    spendLine({ ...facts, spend: { usd: 0, tokens: 5000 }, projected: { usd: 0, tokens: 9000 } }),
    '5000 tokens (projected 9000 tokens at completion)',
  );
  assert.equal(spendLine({ ...facts, done: 100 }), '$0.420 · 120.0k tokens', 'nothing left to run: no projection');
  assert.equal(spendLine({ ...facts, spend: null, projected: null, budget: { maxCostUSD: 5 } }), '$0 of budget $5.00');
  assert.equal(spendShort(facts), '$0.420');
  assert.equal(spendShort({ spend: { usd: 1.2, tokens: 10 }, budget: { maxCostUSD: 5 } }), '$1.20 of $5.00');
  assert.equal(spendShort({ spend: { usd: 0, tokens: 45_600 }, budget: null }), '45.6k tokens');
  assert.equal(spendShort({ spend: { usd: 0, tokens: 0 }, budget: null }), undefined);
  assert.equal(concurrencyShort({ limit: 6, max: 32 }), '6/32');
  assert.equal(concurrencyShort({ limit: 32, max: 32 }), undefined, 'at the fixed limit: nothing to say');
  assert.equal(concurrencyShort(null), undefined);
});

test("the heartbeat shown is the same runner's state.json (every second), not the lock's (every 15 s); a unit pause names the unit", async () => {
  const runDir = await runFolder({
    'journal.jsonl': [
      { t: 'runner_start', ts: 2, pid: process.pid, host: os.hostname() },
      { t: 'pause', ts: Date.now(), until: Date.now() + 60_000, src: '17', why: 'HTTP/1.1 429' },
    ],
  });
  holdLock(runDir);
  const old = new Date(Date.now() - 14_000);
  fs.utimesSync(new RunPaths(runDir).lock, old, old);
  const view = newView(UNIT_IDS);
  const snap = buildSnapshot({ name: 'spend', hash: 'h', shard: null, startedAt: 1 }, view, 'paused_rate_limit', Date.now() - 500, 0);
  fs.writeFileSync(new RunPaths(runDir).state, JSON.stringify(snap));
  const r = await reportOf(runDir);
  assert.ok(r.runner!.heartbeatAgeMs! < 5000, `heartbeat ${r.runner!.heartbeatAgeMs} ms ago`);
  assert.match(renderReport(r), /paused until .*, from unit 17/);
});

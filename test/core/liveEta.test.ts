import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Clock } from '../../src/core/clock';
import { loadExperiment } from '../../src/core/config/load';
import { freeze, writeFrozen } from '../../src/core/model/frozen';
import { buildSnapshot } from '../../src/core/model/snapshot';
import { applyRecord, newView } from '../../src/core/model/view';
import { etaOfView } from '../../src/core/model/eta';
import { RunFollower } from '../../src/core/status/report';
import { RunPaths, runFolderFor } from '../../src/core/store/paths';
import type { JournalRecord } from '../../src/core/store/events';
import { tmpDir, writeFiles } from '../helpers/tmp';

// `status` and the tree read the run folder; the CLI's live line comes from the runner. While
// the runner works they show its figure (state.json), so the three agree.

const clockAt = (now: number): Clock => ({ now: () => now }) as unknown as Clock;

test('status and the tree show the live runner’s ETA from state.json, counted down; its journal’s once it is gone', async () => {
  const dir = tmpDir();
  const ids = Array.from({ length: 50 }, (_, i) => `q${i}`);
  writeFiles(dir, {
    'items.jsonl': ids.map((id) => JSON.stringify({ id })).join('\n') + '\n',
    'e.experiment.json': JSON.stringify({ name: 'eta', items: { file: 'items.jsonl' }, run: { command: ['true'] } }),
  });
  const exp = await loadExperiment(path.join(dir, 'e.experiment.json'));
  const paths = new RunPaths(runFolderFor(exp.dir, exp.config.runRoot, exp.config.name, exp.hash));
  fs.mkdirSync(paths.root, { recursive: true });
  await writeFrozen(paths.experiment, () => freeze(exp, 1));
  const t0 = Date.now() - 60_000;
  const recs: JournalRecord[] = [
    { t: 'header', schemaVersion: 1, run: path.basename(paths.root), hash: exp.hash, ts: t0 },
    { t: 'runner_start', ts: t0, pid: process.pid, host: os.hostname() },
    ...ids.slice(0, 10).map((u, i): JournalRecord => ({ t: 'end', ts: t0 + (i + 1) * 1000, u, a: 1, s: 'passed' })),
  ];
  fs.writeFileSync(paths.journal, recs.map((r) => JSON.stringify(r) + '\n').join(''));
  fs.writeFileSync(paths.lock, JSON.stringify({ schemaVersion: 1, pid: process.pid, host: os.hostname(), startedAt: t0, token: 'test' }));
  // The runner's view knows more than the journal read here (ends not yet durable): its estimate differs.
  const runnerView = newView(ids);
  for (const r of recs) applyRecord(runnerView, r);
  for (let i = 10; i < 20; i++) applyRecord(runnerView, { t: 'end', ts: t0 + 10_000 + (i - 9) * 300, u: ids[i]!, a: 1, s: 'passed' });
  const written = t0 + 13_000;
  const snap = buildSnapshot({ name: 'eta', hash: exp.hash, shard: null, startedAt: t0 }, runnerView, 'running', written, 0);
  fs.writeFileSync(paths.state, JSON.stringify(snap));
  assert.ok(snap.etaMs !== null && snap.rate > 0);

  const follower = RunFollower.open(paths.root);
  await follower.poll();
  const journalOnly = etaOfView(follower.view, written + 2000);
  const r = follower.report(clockAt(written + 2000));
  assert.equal(r.status, 'running');
  assert.equal(r.rate, snap.rate, "the runner's rate");
  assert.equal(r.etaMs, snap.etaMs - 2000, "the runner's ETA, 2 s on");
  assert.notEqual(Math.round(journalOnly.etaMs! / 1000), Math.round(r.etaMs / 1000), 'the journal alone would have said another ETA');

  // state.json no longer fresh (a runner wedged or gone): the same estimate over the journal.
  const later = written + 60_000;
  const stale = follower.report(clockAt(later));
  assert.equal(stale.etaMs, etaOfView(follower.view, later).etaMs);
});

import * as fs from 'node:fs';
import * as path from 'node:path';
import fg from 'fast-glob';
import type { Clock } from '../clock';
import { UserError } from '../errors';
import { judgeResult } from '../exec/outcome';
import { unitFolderName } from '../ids';
import { fsyncDir, writeJsonAtomic } from '../store/atomicFile';
import { JOURNAL_SCHEMA_VERSION, type JournalRecord } from '../store/events';
import { readJournal } from '../store/journalReader';
import { HeldLock } from '../store/lock';
import { rewriteJournal } from '../store/rewriteJournal';
import { readLayout } from '../shard/layout';
import { RunPaths } from '../store/paths';
import { readFrozen, unitsOfFrozen } from '../run/frozen';
import { buildSnapshot } from '../run/snapshot';
import { applyRecord, doneCount, newView } from '../run/view';
import { describeRepair, planRepair, type FoundResult, type RepairPlan } from './planRepair';

export interface RepairOutcome { readonly plan: RepairPlan; readonly summary: string; readonly written: boolean; readonly backup?: string }

/**
 * `resumable repair`: rebuilds the journal and snapshot from the unit folders. Shows the
 * diff first (dry run), takes the lock (no runner may be active), backs up, then writes
 * atomically. Running it twice changes nothing the second time.
 */
export async function repairRun(runDir: string, o: { dryRun?: boolean; clock: Clock }): Promise<RepairOutcome> {
  const paths = new RunPaths(path.resolve(runDir));
  const frozen = readFrozen(paths.experiment);
  if (!frozen) throw new UserError('Expected a run folder with an experiment.json', { file: runDir });
  const shards = readLayout(paths.root).shards;
  if (shards.length > 0) {
    throw new UserError(`This run is split into shards (${shards.map((s) => `${s.k}of${s.n}`).join(', ')}); repair rebuilds the whole run's journal`, { file: runDir }, [
      `Merge the shards first (\`resumable merge ${runDir}\`), then repair the merged journal if it still needs it.`,
    ]);
  }
  const units = unitsOfFrozen(frozen);
  const view = newView(units.map((u) => u.id));
  const good: JournalRecord[] = [];
  const read = await readJournal(paths.journal, (r) => {
    good.push(r);
    applyRecord(view, r);
  });
  const byFolder = new Map(units.map((u) => [unitFolderName(u.id), u.id]));
  const files = await fg(`*/${fg.escapePath(frozen.config.result.file)}`, { cwd: paths.units, onlyFiles: true });
  const found: FoundResult[] = [];
  for (const f of files) {
    const unitId = byFolder.get(f.split('/')[0]!);
    if (!unitId) continue;
    const v = judgeResult(fs.readFileSync(path.join(paths.units, f), 'utf8'), frozen.config.result);
    found.push({ unitId, status: v.status === 'error' ? 'unreadable' : v.status });
  }
  if (good.length === 0 || good[0]!.t !== 'header') {
    good.unshift({ t: 'header', schemaVersion: JOURNAL_SCHEMA_VERSION, run: path.basename(paths.root), hash: frozen.hash, ts: o.clock.now() });
  }
  const plan = planRepair(good, view, found, { corruptLines: read.corrupt.map((c) => c.line), tornTail: !!read.tornTail }, o.clock.now());
  const summary = describeRepair(plan);
  if (o.dryRun || !plan.changed) return { plan, summary, written: false };

  const { lock } = await HeldLock.acquire(paths.lock, o.clock);
  try {
    const stamp = new Date(o.clock.now()).toISOString().replace(/[:.]/g, '-');
    const backup = path.join(paths.archive, `${stamp}-before-repair`);
    fs.mkdirSync(backup, { recursive: true });
    for (const f of [paths.journal, paths.state]) if (fs.existsSync(f)) fs.copyFileSync(f, path.join(backup, path.basename(f)));
    fsyncDir(backup);
    rewriteJournal(paths.journal, plan.records, () => lock.check(), 'repair');
    const after = newView(units.map((u) => u.id));
    for (const r of plan.records) applyRecord(after, r);
    const status = doneCount(after.counts) === units.length ? 'completed' : 'interrupted';
    await writeJsonAtomic(paths.state, buildSnapshot({ name: frozen.name, hash: frozen.hash, shard: null, startedAt: o.clock.now() }, after, status, o.clock.now(), fs.statSync(paths.journal).size));
    return { plan, summary, written: true, backup };
  } finally {
    lock.release();
  }
}


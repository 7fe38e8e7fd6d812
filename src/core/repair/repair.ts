import * as fs from 'node:fs';
import * as path from 'node:path';
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
import { applyRecord, doneCount, isFinal, newView } from '../run/view';
import type { Experiment } from '../config/schema';
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
  const found = readResults(paths.units, units.map((u) => u.id).filter((id) => !isFinal(view.units.get(id)!.status)), frozen.config.result);
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

/**
 * Reads the result file of each unit that has a folder. Units are known, so their paths are:
 * one readdir of units/ instead of a glob that lists every unit folder too (100k readdirs).
 * Units the journal already finished are not read: repair never changes them.
 */
function readResults(unitsDir: string, unitIds: readonly string[], rule: Experiment['result']): FoundResult[] {
  const present = new Set(listDir(unitsDir));
  const found: FoundResult[] = [];
  for (const unitId of unitIds) {
    const folder = unitFolderName(unitId);
    if (!present.has(folder)) continue;
    const text = readIfFile(path.join(unitsDir, folder, rule.file));
    if (text === undefined) continue;
    const v = judgeResult(text, rule);
    found.push({ unitId, status: v.status === 'error' ? 'unreadable' : v.status });
  }
  return found;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

function readIfFile(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw e;
  }
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import { UserError } from '../errors';
import { adoptedFacts, judgeResult } from '../exec/outcome';
import { unitFolderName } from '../ids';
import { fsyncDir, writeJsonAtomic } from '../store/atomicFile';
import { JOURNAL_SCHEMA_VERSION, type JournalRecord } from '../store/events';
import { readJournal } from '../store/journalReader';
import { HeldLock } from '../store/lock';
import { rewriteJournal } from '../store/rewriteJournal';
import { realDir } from '../store/safeRead';
import { resultFilesOfRun } from '../exec/resultFiles';
import { readLayout } from '../shard/layout';
import { RunPaths } from '../store/paths';
import { readFrozen, unitsOfFrozen, type FrozenExperiment } from '../model/frozen';
import { buildSnapshot } from '../model/snapshot';
import { applyRecord, doneCount, isFinal, newView } from '../model/view';
import type { Unit } from '../config/units';
import { describeRepair, planRepair, type FoundResult, type RepairPlan } from './planRepair';

export interface RepairOutcome {
  readonly plan: RepairPlan;
  readonly summary: string;
  readonly written: boolean;
  readonly backup?: string;
}

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
    throw new UserError(
      `This run is split into shards (${shards.map((s) => `${s.k}of${s.n}`).join(', ')}); repair rebuilds the whole run's journal`,
      { file: runDir },
      [`Merge the shards first (\`resumable merge ${runDir}\`), then repair the merged journal if it still needs it.`],
    );
  }
  if (o.dryRun) {
    const { plan } = await planFromDisk(paths, frozen, o.clock);
    return { plan, summary: describeRepair(plan), written: false };
  }
  // Lock first, then read: a runner that finished between our read and our write would
  // otherwise lose the lines it wrote meanwhile (30 journaled outcomes became 6).
  const { lock } = await HeldLock.acquire(paths.lock, o.clock, { role: 'repair' });
  try {
    const { plan, units } = await planFromDisk(paths, frozen, o.clock);
    const summary = describeRepair(plan);
    if (!plan.changed) return { plan, summary, written: false };
    const stamp = new Date(o.clock.now()).toISOString().replace(/[:.]/g, '-');
    const backup = path.join(paths.archive, `${stamp}-before-repair`);
    fs.mkdirSync(backup, { recursive: true });
    for (const f of [paths.journal, paths.state]) if (fs.existsSync(f)) fs.copyFileSync(f, path.join(backup, path.basename(f)));
    fsyncDir(backup);
    rewriteJournal(paths.journal, plan.records, () => lock.verify(), 'repair');
    const after = newView(units.map((u) => u.id));
    for (const r of plan.records) applyRecord(after, r);
    const status = doneCount(after.counts) === units.length ? 'completed' : 'interrupted';
    await writeJsonAtomic(
      paths.state,
      buildSnapshot(
        { name: frozen.name, hash: frozen.hash, shard: null, startedAt: o.clock.now() },
        after,
        status,
        o.clock.now(),
        fs.statSync(paths.journal).size,
      ),
    );
    return { plan, summary, written: true, backup };
  } finally {
    lock.release();
  }
}

/** The repair plan from what is on disk now: the journal, and the result files of units it has not finished. */
async function planFromDisk(paths: RunPaths, frozen: FrozenExperiment, clock: Clock): Promise<{ plan: RepairPlan; units: Unit[] }> {
  const units = unitsOfFrozen(frozen);
  const view = newView(units.map((u) => u.id));
  const good: JournalRecord[] = [];
  const read = await readJournal(paths.journal, (r) => {
    good.push(r);
    applyRecord(view, r);
  });
  const found = readResults(
    paths,
    units.filter((u) => !isFinal(view.units.get(u.id)!.status)),
    frozen,
  );
  if (good.length === 0 || good[0]!.t !== 'header') {
    good.unshift({
      t: 'header',
      schemaVersion: JOURNAL_SCHEMA_VERSION,
      run: path.basename(paths.root),
      hash: frozen.hash,
      ts: clock.now(),
    });
  }
  const plan = planRepair(good, view, found, { corruptLines: read.corrupt.map((c) => c.line), tornTail: !!read.tornTail }, clock.now());
  return { plan, units };
}

/**
 * Reads the result of each unit not finished in the journal: repair never changes a finished
 * one. In the unit folders, units are known, so their paths are: one readdir of units/ instead
 * of a glob that lists every unit folder too (100k readdirs). Links and non-files are never
 * followed or read (they would adopt a file outside the run folder, or block on a FIFO): such a
 * unit is reported unreadable and left to run again. In the user's own layout (`result.path`)
 * each unit's candidates are read, links allowed only inside the experiment's folder.
 */
function readResults(paths: RunPaths, units: readonly Unit[], frozen: FrozenExperiment): FoundResult[] {
  const results = resultFilesOfRun(frozen, paths);
  if (results.source.kind === 'exit') return [];
  const present = results.ownLayout ? undefined : listDir(paths.units);
  const found: FoundResult[] = [];
  for (const unit of units) {
    const unitId = unit.id;
    if (present) {
      const folder = unitFolderName(unitId);
      const entry = present.get(folder);
      if (entry === undefined) continue;
      if (!entry.isDirectory()) {
        found.push({
          unitId,
          status: 'unreadable',
          why: `${path.join(paths.units, folder)} ${entry.isSymbolicLink() ? 'is a symbolic link; not followed' : 'is not a folder'}`,
        });
        continue;
      }
    }
    const read = results.read(unit);
    if (read.kind === 'absent') continue;
    if (read.kind === 'refused') {
      found.push({ unitId, status: 'unreadable', why: read.why });
      continue;
    }
    const v = judgeResult(read.text, frozen.config.result);
    if (v.status === 'rerun') found.push({ unitId, status: 'unreadable', why: v.why });
    else found.push({ unitId, status: v.status, why: v.why, facts: adoptedFacts(read.text, frozen.config.result) });
  }
  return found;
}

/** The entries of units/ by name, with their types (no stat per unit). A units/ that is a link is refused by name. */
function listDir(dir: string): Map<string, fs.Dirent> {
  const where = realDir(dir);
  if (where.kind === 'absent') return new Map();
  if (where.kind === 'refused') {
    throw new UserError(`${dir} ${where.why}: repair reads the unit folders only inside the run folder`, { file: dir }, [
      'Put the real units/ folder back in the run folder (or remove the link), then repair again.',
    ]);
  }
  try {
    return new Map(fs.readdirSync(dir, { withFileTypes: true }).map((d) => [d.name, d]));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw e;
  }
}

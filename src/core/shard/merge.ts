import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import { UserError, isUserError } from '../errors';
import { fsyncDir } from '../store/atomicFile';
import { JOURNAL_SCHEMA_VERSION, type JournalRecord } from '../store/events';
import { readJournal } from '../store/journalReader';
import { HeldLock } from '../store/lock';
import { RunPaths, type Shard } from '../store/paths';
import { rewriteJournal } from '../store/rewriteJournal';
import { hashesOf, readFrozen, unitsOfFrozen } from '../model/frozen';
import { readLayout, shardCounts } from './layout';
import { planMerge, type MergeInput, type MergePlan } from './mergePlan';

export interface MergeOptions {
  readonly clock: Clock;
  /** Shards k (of the run's N) to leave as they are: still running, or to be run again later. */
  readonly leaveOut?: readonly number[];
  /** Write the merged journal even with missing or duplicated units (missing ones run on the next resume). */
  readonly allowIncomplete?: boolean;
  readonly dryRun?: boolean;
}

export interface MergeOutcome {
  readonly n: number;
  readonly total: number;
  readonly merged: string[];
  readonly plan: MergePlan;
  readonly written: boolean;
  readonly archive?: string;
  readonly notes: string[];
}

/**
 * `resumable merge`: every shard journal (and the whole run's, if any) into one journal.
 * Takes the lock of the whole run and of every shard merged, so no runner can start on
 * them meanwhile; a shard that runs is refused by name unless left out. The merged journal
 * replaces journal.jsonl atomically before any shard file moves to archive/, so a crash
 * anywhere leaves every outcome readable.
 */
export async function mergeRun(runDir: string, o: MergeOptions): Promise<MergeOutcome> {
  const root = path.resolve(runDir);
  const base = new RunPaths(root);
  const frozen = readFrozen(base.experiment);
  if (!frozen) throw new UserError('Expected a run folder with an experiment.json', { file: runDir });
  const units = unitsOfFrozen(frozen);
  const counts = shardCounts(readLayout(root));
  if (counts.length === 0) throw new UserError('Nothing to merge: this run has no shard files (journal.<k>of<N>.jsonl)', { file: runDir });
  if (counts.length > 1)
    throw new UserError(
      `This run folder has files of shards of ${counts.join(' and ')}: merge cannot tell which partition holds`,
      { file: runDir },
      ['Move the files of the count that is wrong into archive/ by hand, then merge.'],
    );
  const n = counts[0]!;
  for (const k of o.leaveOut ?? [])
    if (!Number.isInteger(k) || k < 1 || k > n) throw new UserError(`Expected --leave-out shards between 1 and ${n}, got ${k}`);
  const leaveOut: Shard[] = (o.leaveOut ?? []).map((k) => ({ k, n }));
  const included = Array.from({ length: n }, (_, i) => ({ k: i + 1, n })).filter((s) => !o.leaveOut?.includes(s.k));

  const locks: HeldLock[] = [];
  const notes: string[] = [];
  try {
    if (!o.dryRun) {
      for (const p of [base, ...included.map((s) => new RunPaths(root, s))]) {
        try {
          const { lock, takeover } = await HeldLock.acquire(p.lock, o.clock, { role: 'merge' });
          locks.push(lock);
          if (takeover) notes.push(`Took over ${path.basename(p.lock)}: ${takeover.reason}.`);
        } catch (e) {
          if (!isUserError(e) || !p.shard) throw e;
          throw new UserError(`Shard ${p.shard.k} of ${n} is running: ${e.message}`, { file: runDir }, [
            `Wait for it to finish, or merge the others now and leave it out: \`resumable merge ${runDir} --leave-out ${p.shard.k}\`.`,
          ]);
        }
      }
    }
    const inputs: MergeInput[] = [];
    const merged: string[] = [];
    for (const p of [base, ...included.map((s) => new RunPaths(root, s))]) {
      if (!fs.existsSync(p.journal)) continue;
      const records: JournalRecord[] = [];
      const read = await readJournal(p.journal, (r) => records.push(r));
      if (read.corrupt.length > 0) {
        throw new UserError(
          `${path.basename(p.journal)} has ${read.corrupt.length} damaged line(s) before its end; merge will not guess around them`,
          { file: p.journal, line: read.corrupt[0]!.line },
        );
      }
      const header = records[0];
      if (header?.t === 'header' && !hashesOf(frozen).has(header.hash)) {
        throw new UserError(`Expected a journal of config ${frozen.hash.slice(0, 8)}, found one of ${header.hash.slice(0, 8)}`, {
          file: p.journal,
          line: 1,
        });
      }
      if (read.tornTail)
        notes.push(`${path.basename(p.journal)}: dropped a torn last line (${read.tornTail.bytes} bytes, left by a crash).`);
      inputs.push({ name: path.basename(p.journal), shard: p.shard, records });
      merged.push(path.basename(p.journal));
    }
    const plan = planMerge(units, inputs, leaveOut);
    const complete = plan.missing.length === 0 && plan.duplicated.length === 0 && plan.misplaced.length === 0;
    const outcome = { n, total: units.length, merged, plan, notes };
    if (o.dryRun || (!complete && !o.allowIncomplete)) return { ...outcome, written: false };

    const fence = () => locks.forEach((l) => l.verify());
    const stamp = new Date(o.clock.now()).toISOString().replace(/[:.]/g, '-');
    const archive = path.join(base.archive, `${stamp}-merge`);
    fs.mkdirSync(archive, { recursive: true });
    if (fs.existsSync(base.journal)) copyDurably(base.journal, path.join(archive, 'journal.jsonl'));
    const body: JournalRecord[] = [
      { t: 'header', schemaVersion: JOURNAL_SCHEMA_VERSION, run: path.basename(root), hash: frozen.hash, ts: o.clock.now() },
      ...plan.records,
      { t: 'merged', ts: o.clock.now(), from: merged, units: units.length, missing: plan.missing.length + plan.leftOut.length },
    ];
    rewriteJournal(base.journal, body, fence, 'merge');
    // Only now do the shard files move: until here every outcome was readable where it was.
    for (const s of included) {
      const p = new RunPaths(root, s);
      for (const f of fs.readdirSync(root)) {
        const own = [path.basename(p.journal), path.basename(p.state), path.basename(p.sharedPause)];
        if (own.includes(f) || f.startsWith(`${path.basename(p.journal)}.torn-`)) fs.renameSync(path.join(root, f), path.join(archive, f));
      }
    }
    if (fs.existsSync(base.state)) fs.renameSync(base.state, path.join(archive, 'state.json'));
    fsyncDir(archive);
    fsyncDir(root);
    return { ...outcome, written: true, archive };
  } finally {
    for (const l of locks) l.release();
  }
}

function copyDurably(from: string, to: string): void {
  fs.copyFileSync(from, to);
  const fd = fs.openSync(to, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

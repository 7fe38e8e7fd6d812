import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { UserError } from '../errors';
import { fsyncDir, removeOrphanTemps } from '../store/atomicFile';
import { HeldLock, type Takeover } from '../store/lock';
import { RunPaths, runFolderFor, type Shard } from '../store/paths';
import { checkShardAgreement, liveHolders } from '../shard/layout';
import { driftError, otherRuns } from './drift';
import { grow } from './grow';
import { whichRun, type RunFolder } from './whichRun';
import { growthText } from '../model/growth';
import { ResultFiles } from '../exec/resultFiles';
import { DamagedFrozenError, freeze, hashesOf, readFrozen, readFrozenHead, writeFrozen, type FrozenHead } from '../model/frozen';
import type { RunView } from '../model/view';
import { readView, type JournalCoverage } from './readView';
import { saveItemsFingerprint } from './itemsFingerprint';

export interface OpenedRun {
  readonly paths: RunPaths;
  readonly view: RunView;
  /** Undefined for a read-only open (dry run). */
  readonly lock?: HeldLock;
  readonly takeover?: Takeover;
  /** Good bytes of the journal (torn tail cut off). */
  readonly journalLength: number;
  /** How far each journal was read (the whole run's for a shard, then its own): what a unit snapshot covers. */
  readonly journals: readonly JournalCoverage[];
  /** The view came from the unit snapshot and the journal after it. */
  readonly fromSnapshot: boolean;
  readonly notes: string[];
}

export interface OpenOptions {
  readonly fresh?: boolean;
  readonly readOnly?: boolean;
  readonly shard?: Shard;
  readonly clock: Clock;
}

/** Finds or creates the run folder, takes its lock, and rebuilds the run's view from the journal. */
export async function openRun(exp: LoadedExperiment, o: OpenOptions): Promise<OpenedRun> {
  const notes: string[] = [];
  // --fresh starts the folder named by this config; without it an experiment that grew continues its run.
  const where: RunFolder = o.fresh
    ? { kind: 'own', root: runFolderFor(exp.dir, exp.config.runRoot, exp.config.name, exp.hash) }
    : whichRun(exp);
  if (where.kind === 'drift') throw driftOf(exp, where.other);
  const paths = new RunPaths(where.root, o.shard);
  if (o.fresh && o.shard) {
    throw new UserError(
      `--fresh cannot be used with a shard (${o.shard.k} of ${o.shard.n}): it would archive the other shards' state while they may be running`,
      { file: path.relative(process.cwd(), paths.root) || paths.root },
      [
        'To start a sharded run over, give the experiment a new `name` (a new run folder), or move this run folder away once no shard runs.',
      ],
    );
  }
  const others = o.fresh ? otherRuns(exp, paths.root) : [];
  for (const other of others) {
    const live = liveHolders(other.dir, o.clock)[0];
    if (live)
      throw new UserError(
        `Cannot archive run ${path.basename(other.dir)}: it is being run by pid ${live.holder.pid} on ${live.holder.host} (${live.file}). Stop it first.`,
        { file: other.dir },
      );
  }
  checkShardAgreement(paths.root, o.shard, o.clock);
  if (o.readOnly) {
    if (frozenNeedsRebuild(exp, paths))
      notes.push(
        "The run's frozen config (experiment.json) is damaged: `run` rebuilds it from the experiment file (its journal is of the same config).",
      );
    if (where.kind === 'grows') {
      notes.push(
        `The experiment grew since run ${path.basename(paths.root)} was started: ${growthText(where.growth)}; \`run\` continues that run.`,
      );
    }
    const read = await readView(exp, paths, notes, false, acceptedHashes(exp, paths));
    return { paths, view: read.view, journals: read.journals, fromSnapshot: read.fromSnapshot, journalLength: 0, notes };
  }

  fs.mkdirSync(paths.units, { recursive: true });
  const { lock, takeover } = await HeldLock.acquire(paths.lock, o.clock);
  try {
    if (takeover) notes.push(`Took over the run lock: ${takeover.reason}.`);
    // Again under the lock: a shard of another N may have started since the first look.
    checkShardAgreement(paths.root, o.shard, o.clock);
    const stamp = new Date(o.clock.now()).toISOString().replace(/[:.]/g, '-');
    for (const other of others) {
      moveInto(other.dir, path.join(paths.archive, `${stamp}-${path.basename(other.dir)}`));
      notes.push(`Archived the previous run ${path.basename(other.dir)} (other config) into ${path.relative(exp.dir, paths.archive)}/.`);
    }
    if (o.fresh) {
      archiveLiveState(paths, stamp, notes);
      const moved = new ResultFiles(exp, paths).archiveAll(exp.units, o.clock.now());
      if (moved > 0)
        notes.push(
          `--fresh: moved ${moved} result(s) from the experiment's own layout into ${path.relative(paths.root, paths.archive)}/results/.`,
        );
    }
    // A shard cleans only its own temp files: another shard may be writing experiment.json right now.
    const own = [
      path.basename(paths.lock),
      'lock.grow',
      path.basename(paths.state),
      path.basename(paths.unitSnapshot),
      ...(o.shard ? [path.basename(paths.sharedPause)] : ['experiment.json', 'items.fingerprint.json', 'items.index.bin']),
    ];
    removeOrphanTemps(paths.root, own);
    if (where.kind === 'grows') await grow(exp, paths, o.clock, stamp, notes);
    const frozen = readFrozenOrRebuild(exp, paths, stamp, notes);
    if (frozen && frozen.hash !== exp.hash) throw driftError(exp, { dir: paths.root, hash: frozen.hash });
    await writeFrozen(paths.experiment, () => freeze(exp, o.clock.now()));
    await saveItemsFingerprint(exp, paths, o.clock.now());
    if (takeover?.holderMayBeAlive) fenceJournal(paths.journal, notes);
    const read = await readView(exp, paths, notes, true, frozen ? hashesOf(frozen) : new Set([exp.hash]));
    const journalLength = fs.existsSync(paths.journal) ? fs.statSync(paths.journal).size : 0;
    return { paths, view: read.view, journals: read.journals, fromSnapshot: read.fromSnapshot, lock, takeover, journalLength, notes };
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * A damaged frozen config (torn by a crash, edited by hand) is only a copy of what the
 * experiment file resolves to: when every journal of the run folder is of this very config,
 * it is rebuilt from the experiment file (under the lock), the damaged copy kept in archive/.
 * A journal of another config means the experiment file changed: that is refused.
 */
function readFrozenOrRebuild(exp: LoadedExperiment, paths: RunPaths, stamp: string, notes: string[]): FrozenHead | undefined {
  try {
    return readFrozenHead(paths.experiment) ?? readFrozen(paths.experiment);
  } catch (e) {
    if (!(e instanceof DamagedFrozenError)) throw e;
    refuseRebuildOfOtherConfig(e, exp, paths);
    const dest = path.join(paths.archive, `${stamp}-damaged-experiment.json`);
    fs.mkdirSync(paths.archive, { recursive: true });
    try {
      fs.renameSync(paths.experiment, dest);
    } catch (err) {
      // Another shard of this run rebuilt it a moment ago.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    fsyncDir(paths.root);
    const shown = path.relative(process.cwd(), exp.file) || exp.file;
    notes.push(
      `Rebuilt the run's frozen config (experiment.json) from ${shown}: it was damaged (${e.where.path ? `${e.where.path}: ` : ''}${e.reason}); the journal is of the same config, so nothing is lost. The damaged copy is in ${path.relative(paths.root, dest)}.`,
    );
    return undefined;
  }
}

/** The hashes a dry run accepts in journal headers: this config's, and the run's (grown or not) with its lineage. */
function acceptedHashes(exp: LoadedExperiment, paths: RunPaths): ReadonlySet<string> {
  try {
    const frozen = readFrozen(paths.experiment);
    return new Set([exp.hash, ...(frozen ? hashesOf(frozen) : [])]);
  } catch (e) {
    if (e instanceof DamagedFrozenError) return new Set([exp.hash]);
    throw e;
  }
}

/** Dry run: would `run` rebuild the frozen config? (Throws when it would refuse.) */
function frozenNeedsRebuild(exp: LoadedExperiment, paths: RunPaths): boolean {
  try {
    readFrozen(paths.experiment);
    return false;
  } catch (e) {
    if (!(e instanceof DamagedFrozenError)) throw e;
    refuseRebuildOfOtherConfig(e, exp, paths);
    return true;
  }
}

function refuseRebuildOfOtherConfig(e: DamagedFrozenError, exp: LoadedExperiment, paths: RunPaths): void {
  const other = journalOfOtherConfig(paths.root, exp.hash);
  if (!other) return;
  const shown = path.relative(process.cwd(), exp.file) || exp.file;
  throw new UserError(e.detail, e.where, [
    `It cannot be rebuilt from ${shown}: the run's ${other.name} is of config ${other.hash.slice(0, 8)}, this experiment file is config ${exp.hash.slice(0, 8)}.`,
    `Put back the experiment file the run was started with and run it again, or start over with \`resumable run ${shown} --fresh\` (the old state moves to archive/).`,
  ]);
}

/** A journal of the run folder whose header names another config hash (the first line is enough). */
function journalOfOtherConfig(root: string, hash: string): { name: string; hash: string } | undefined {
  for (const name of fs
    .readdirSync(root)
    .filter((n) => /^journal(\.\d+of\d+)?\.jsonl$/.test(n))
    .sort()) {
    let head: { t?: unknown; hash?: unknown } | undefined;
    try {
      const fd = fs.openSync(path.join(root, name), 'r');
      try {
        const buf = Buffer.alloc(64 * 1024);
        const n = fs.readSync(fd, buf, 0, buf.length, 0);
        const nl = buf.subarray(0, n).indexOf(10);
        head = JSON.parse(buf.toString('utf8', 0, nl === -1 ? n : nl)) as typeof head;
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      // Unreadable or no header: no evidence either way (reading the journal reports it next).
      continue;
    }
    if (head?.t === 'header' && typeof head.hash === 'string' && head.hash !== hash) return { name, hash: head.hash };
  }
  return undefined;
}

/** The drift refusal; its diff needs the other run's frozen config, which may be damaged too. */
function driftOf(exp: LoadedExperiment, other: { dir: string; hash: string }): UserError {
  try {
    return driftError(exp, other);
  } catch (e) {
    if (!(e instanceof DamagedFrozenError)) throw e;
    const shown = path.relative(process.cwd(), exp.file) || exp.file;
    return new UserError(
      `The experiment changed in fields that change results since run ${path.basename(other.dir)} was started (its frozen config is damaged, so no diff can be shown); refusing to mix results of two configs.`,
      { file: shown },
      [
        `  ${e.message}`,
        'Ways forward:',
        `  resumable run ${shown} --fresh   (archives the old run into the new one's archive/, nothing is deleted)`,
        '  or give the experiment a new "name" to keep both runs side by side.',
      ],
    );
  }
}

/**
 * A lock holder that may still be alive (heartbeat stale, not provably dead) keeps an open
 * descriptor on the journal. Replacing the journal by a copy moves everything it might
 * still write to an orphaned inode: it can no longer add a line to this run.
 */
function fenceJournal(file: string, notes: string[]): void {
  if (!fs.existsSync(file)) return;
  const tmp = `${file}.fence`;
  fs.copyFileSync(file, tmp);
  const fd = fs.openSync(tmp, 'r+');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
  notes.push('Fenced the journal: the previous holder cannot append to it any more.');
}

function archiveLiveState(paths: RunPaths, stamp: string, notes: string[]): void {
  // A folder with no frozen config has no live state (just created, or already archived).
  if (!fs.existsSync(paths.experiment)) return;
  const names = fs.readdirSync(paths.root).filter((n) => n !== 'archive' && !n.startsWith('lock'));
  const dest = path.join(paths.archive, stamp);
  fs.mkdirSync(dest, { recursive: true });
  for (const n of names) fs.renameSync(path.join(paths.root, n), path.join(dest, n));
  fs.mkdirSync(paths.units, { recursive: true });
  fsyncDir(paths.root);
  notes.push(`--fresh: archived the previous state (${names.join(', ')}) into ${path.relative(paths.root, dest)}/.`);
}

function moveInto(src: string, dest: string): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.renameSync(src, dest);
}

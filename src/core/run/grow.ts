import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep, type Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { isUserError } from '../errors';
import { freeze, frozenText, readFrozen, unitsOfFrozen } from '../model/frozen';
import { growthOf, growthText } from '../model/growth';
import { fsyncDir, writeBufferAtomic } from '../store/atomicFile';
import { HeldLock } from '../store/lock';
import type { RunPaths } from '../store/paths';
import { driftError } from './drift';

/**
 * Grows a run into the experiment file's config (invariant 5, docs/architecture.md): the
 * frozen config becomes the new one, naming the configs it grew from, so the journals begun
 * before (their headers name an earlier config) stay the run's. Units both configs have keep
 * their outcomes; new ones are pending; removed ones stay in the journal and leave the counts.
 *
 * Runners of the earlier config may go on meanwhile (shards of a cluster job): every unit
 * they run is one the run had, recorded in journals the run still reads. Growers take turns
 * (lock.grow) and each reads the frozen config again first, so two shards that start at once
 * with the new file grow the run once.
 */
export async function grow(exp: LoadedExperiment, paths: RunPaths, clock: Clock, stamp: string, notes: string[]): Promise<void> {
  const turn = await takeTurn(path.join(paths.root, 'lock.grow'), clock);
  try {
    const frozen = readFrozen(paths.experiment);
    if (!frozen || frozen.hash === exp.hash) return;
    const g = growthOf(frozen, exp);
    if (g.kind === 'same') return;
    if (g.kind === 'drift') throw driftError(exp, { dir: paths.root, hash: frozen.hash });
    // The config it grew out of stays readable beside the run (nothing is deleted).
    fs.mkdirSync(paths.archive, { recursive: true });
    const kept = path.join(paths.archive, `${stamp}-experiment.json`);
    fs.copyFileSync(paths.experiment, kept);
    const fd = fs.openSync(kept, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fsyncDir(paths.archive);
    await writeBufferAtomic(
      paths.experiment,
      frozenText(
        freeze(exp, frozen.createdAt, [
          ...(frozen.lineage ?? []),
          { hash: frozen.hash, until: clock.now(), units: unitsOfFrozen(frozen).length },
        ]),
      ),
    );
    notes.push(
      `The experiment grew: ${growthText(g)}. Continuing run ${path.basename(paths.root)}: only the new units run${
        g.removed.length ? '; removed units stay in its journal and leave the counts' : ''
      } (its earlier config is kept in ${path.relative(paths.root, kept)}).`,
    );
  } finally {
    turn.release();
  }
}

/** The grow lock is held for a few milliseconds: wait for it (a crashed holder's goes stale). */
async function takeTurn(file: string, clock: Clock): Promise<HeldLock> {
  for (let i = 0; ; i++) {
    try {
      return (await HeldLock.acquire(file, clock)).lock;
    } catch (e) {
      if (!isUserError(e) || i >= 200) throw e;
      await sleep(clock, 50);
    }
  }
}

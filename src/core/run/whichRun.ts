import * as path from 'node:path';
import type { LoadedExperiment } from '../config/load';
import { DamagedFrozenError, peekFrozenHash, readFrozen, type FrozenExperiment } from '../model/frozen';
import { growthOf, type Growth } from '../model/growth';
import { runFolderFor } from '../store/paths';
import { otherRuns, type OtherRun } from './drift';

/**
 * Which run folder an experiment file continues. A run folder is named by the config it was
 * started with; one that grew (units added or removed, nothing else) keeps its name, so the
 * folder named by this config's hash is not always the one.
 */
export type RunFolder =
  /** No run yet (or the folder named by this config, as it is: `run` reads it). */
  | { readonly kind: 'own'; readonly root: string }
  /** A run that already grew into this config. */
  | { readonly kind: 'grown'; readonly root: string; readonly frozen: FrozenExperiment }
  /** A run this experiment file grows: `run` continues it with the new units. */
  | {
      readonly kind: 'grows';
      readonly root: string;
      readonly frozen: FrozenExperiment;
      readonly growth: Extract<Growth, { kind: 'grows' }>;
    }
  /** A run of a config that differs in what its units do (or whose frozen config cannot be read): refused without --fresh. */
  | { readonly kind: 'drift'; readonly root: string; readonly other: OtherRun };

export function whichRun(exp: LoadedExperiment): RunFolder {
  const own = runFolderFor(exp.dir, exp.config.runRoot, exp.config.name, exp.hash);
  const others = otherRuns(exp, own);
  const ownFile = path.join(own, 'experiment.json');
  // The usual case, a resume of the run this config started: known from the file's first bytes.
  if (others.length === 0 && peekFrozenHash(ownFile) === exp.hash) return { kind: 'own', root: own };
  const ownFrozen = frozenOrDamaged(ownFile);
  if (others.length === 0) {
    // A run that grew and was then cut back to the config it was started with: it grows again.
    if (ownFrozen && ownFrozen !== 'damaged' && ownFrozen.hash !== exp.hash) {
      const g = growthOf(ownFrozen, exp);
      if (g.kind === 'grows') return { kind: 'grows', root: own, frozen: ownFrozen, growth: g };
    }
    return { kind: 'own', root: own };
  }
  // Two live run folders of one name only come from a copy; the first other run is what is refused.
  if (others.length > 1 || ownFrozen) return { kind: 'drift', root: own, other: others[0]! };
  const other = others[0]!;
  const frozen = frozenOrDamaged(path.join(other.dir, 'experiment.json'));
  if (!frozen || frozen === 'damaged') return { kind: 'drift', root: own, other };
  if (frozen.hash === exp.hash) return { kind: 'grown', root: other.dir, frozen };
  const g = growthOf(frozen, exp);
  if (g.kind === 'grows') return { kind: 'grows', root: other.dir, frozen, growth: g };
  return { kind: 'drift', root: own, other };
}

function frozenOrDamaged(file: string): FrozenExperiment | 'damaged' | undefined {
  try {
    return readFrozen(file);
  } catch (e) {
    if (e instanceof DamagedFrozenError) return 'damaged';
    throw e;
  }
}

/**
 * The run folder `status`, `repair`, `merge` and `slurm` mean by an experiment file: its run,
 * grown or not (with drift, the folder this config would start; it may not exist).
 */
export function runFolderOf(exp: LoadedExperiment): string {
  return whichRun(exp).root;
}

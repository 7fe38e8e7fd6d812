import * as fs from 'node:fs';
import type { LoadedExperiment } from '../config/load';
import { ResultFiles } from '../exec/resultFiles';
import { newView } from '../model/view';
import { RunPaths } from '../store/paths';
import { runFolderOf } from './whichRun';
import { findAdoptable } from './recover';

/**
 * What `run` and `run --dry-run` refuse before anything is written (invariant 7,
 * docs/architecture.md): a result path that leads out of the experiment's folder through a
 * link, and, on a first run over results already in the user's layout, a `result.passed` that
 * not one of them has (a misspelt field would have every result adopted as an error, then
 * moved aside and run again). Later runs need no such look: a changed rule is drift.
 */
export function checkBeforeRun(exp: LoadedExperiment, now: number): void {
  const { paths, results } = checkResultLinks(exp);
  if (results.ownLayout && !fs.existsSync(paths.journal))
    findAdoptable(exp, paths, newView(exp.units.map((u) => u.id)), now, { firstRun: true });
}

/** No result path may lead out of the experiment's folder through a link (`run --dry-run` needs only this). */
export function checkResultLinks(exp: LoadedExperiment): { paths: RunPaths; results: ResultFiles } {
  // A run that grew keeps the folder named by the config it was started with.
  const paths = new RunPaths(runFolderOf(exp));
  const results = new ResultFiles(exp, paths);
  // Only results in the user's layout can lead out through a link (and only they need every unit's path).
  if (results.ownLayout) results.checkLinks(exp.units);
  return { paths, results };
}

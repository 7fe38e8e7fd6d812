import * as path from 'node:path';

/**
 * The workspace search behind the Experiments view, as one walk: experiment files and run
 * folders' frozen configs in a single glob (two searches walked the tree twice, on the
 * critical path of the view's first rows). Pure but for the patterns VS Code is given.
 */

/** One search for both; the exclude keeps it out of node_modules and out of run folders' units and archives. */
export const SCAN_INCLUDE = '{**/*.experiment.json,**/.resumable/*/experiment.json}';
export const SCAN_EXCLUDE = '{**/node_modules/**,**/.resumable/*/*/**}';

export interface Found {
  /** Experiment files, sorted. */
  readonly experiments: string[];
  /** Run folders (holding an experiment.json), sorted. */
  readonly runDirs: string[];
}

/** Splits the search's results (absolute paths, any separator) into experiment files and run folders. */
export function splitFound(paths: readonly string[]): Found {
  const experiments: string[] = [];
  const runDirs: string[] = [];
  for (const p of paths) {
    const parts = p.split(path.sep);
    const name = parts.at(-1) ?? '';
    // A run folder inside another's archive, or under a folder named "archive" (as before), is not a run of the workspace.
    if (name === 'experiment.json' && parts.at(-3) === '.resumable') {
      if (!parts.slice(0, -3).includes('archive')) runDirs.push(path.dirname(p));
    } else if (name.endsWith('.experiment.json') && !parts.includes('.resumable')) experiments.push(p);
  }
  return { experiments: experiments.sort(), runDirs: runDirs.sort() };
}

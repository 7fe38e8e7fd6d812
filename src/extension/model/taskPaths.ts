import * as path from 'node:path';

/**
 * Where a task's experiment file is. A task names it relative to its own workspace folder
 * (the task's scope), so in a multi-root workspace it must be resolved against that folder,
 * not the first one. Pure: folders are absolute paths.
 */

/** The innermost workspace folder that holds `file` (folders may nest). */
export function folderOf(file: string, folders: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const f of folders) {
    const rel = path.relative(f, file);
    const inside = rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
    if (inside && (best === undefined || f.length > best.length)) best = f;
  }
  return best;
}

/** What a task definition says for `file`: relative to its folder, absolute when it is in none. */
export function taskExperiment(file: string, folder: string | undefined): string {
  return folder ? path.relative(folder, file) : file;
}

/** The absolute experiment file of a task: against the task's own folder, else the fallback (the first folder or the cwd). */
export function resolveExperiment(experiment: string, taskFolder: string | undefined, fallbackRoot: string): string {
  if (path.isAbsolute(experiment)) return path.normalize(experiment);
  return path.join(taskFolder ?? fallbackRoot, experiment);
}

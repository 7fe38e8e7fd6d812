import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExperiment } from '../core/config/load';
import { UserError } from '../core/errors';
import { whichRun } from '../core/run/whichRun';

/**
 * The run folder `repair` and `merge` work on, given as `status` takes it: an experiment file
 * (its run, grown or not) or the run folder itself. An experiment that has no run yet, or whose
 * run was made from another config, is said in those words rather than as a missing folder.
 */
export async function runFolderArg(target: string, command: 'repair' | 'merge' | 'results' | 'compare'): Promise<string> {
  const abs = path.resolve(target);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new UserError('Expected a run folder (.resumable/<name>-<hash>) or its experiment file, got no such path', { file: target });
  }
  if (st.isDirectory()) {
    if (fs.existsSync(path.join(abs, 'experiment.json'))) return abs;
    throw new UserError(
      'Expected a run folder (.resumable/<name>-<hash>, with the experiment.json a run freezes there) or its experiment file, got a folder without experiment.json',
      { file: target },
      [`\`resumable ${command} <file.experiment.json>\` finds the run folder itself.`],
    );
  }
  const exp = await loadExperiment(abs, { requireRun: false });
  const where = whichRun(exp);
  const shown = path.relative(process.cwd(), where.root) || where.root;
  if (where.kind === 'drift') {
    const other = path.relative(process.cwd(), where.other.dir) || where.other.dir;
    throw new UserError(
      `This experiment file changed since its run ${other} was made (another config), and no run of this config exists yet (expected ${shown})`,
      { file: target },
      [`To ${command} the earlier run, pass its folder: \`resumable ${command} ${other}\`.`],
    );
  }
  if (!fs.existsSync(path.join(where.root, 'experiment.json')))
    throw new UserError(`This experiment has no run yet (expected its run folder ${shown}); nothing to ${command}`, { file: target }, [
      `Start it with \`resumable run ${target}\`.`,
    ]);
  return where.root;
}

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadExperiment } from '../../core/config/load';
import { UserError } from '../../core/errors';
import { slurmScript } from '../../core/shard/slurmScript';
import { runFolderOf } from '../../core/run/whichRun';
import type { Command } from '../args';
import { out } from '../stdio';

/** `resumable slurm`: an sbatch job array whose tasks run the shards; prints how to watch it. */
export async function slurmCommand(c: Extract<Command, { cmd: 'slurm' }>): Promise<number> {
  const exp = await loadExperiment(c.file);
  const runDir = runFolderOf(exp);
  const logDir = path.join(runDir, 'slurm');
  const script = slurmScript({
    name: exp.config.name,
    experimentFile: exp.file,
    workDir: process.cwd(),
    logDir,
    shards: c.shards,
    throttle: c.throttle,
    partition: c.partition,
    time: c.time,
    // This node and this CLI, by absolute path: on a cluster they must be on the shared filesystem.
    command: [process.execPath, path.resolve(process.argv[1]!)],
  });
  if (c.dryRun) {
    out(script);
    return 0;
  }
  fs.mkdirSync(logDir, { recursive: true });
  const file = path.join(logDir, `${exp.config.name}.sbatch`);
  fs.writeFileSync(file, script, { mode: 0o755 });
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  out(
    `Wrote ${rel(file)}: job array 0-${c.shards - 1}${c.throttle ? `%${c.throttle}` : ''}, task i runs shard i+1 of ${c.shards}${c.throttle ? `, ${c.throttle} at a time` : ''}.\n`,
  );
  let job = '<job id>';
  if (c.submit) {
    const r = spawnSync('sbatch', ['--parsable', file], { encoding: 'utf8' });
    if (r.error)
      throw new UserError(
        `Could not run sbatch (${(r.error as NodeJS.ErrnoException).code ?? r.error.message}): is Slurm's client on PATH?`,
        { file: rel(file) },
        [`Submit it yourself with \`sbatch ${rel(file)}\`.`],
      );
    if (r.status !== 0) throw new UserError(`sbatch refused the script (exit ${r.status}): ${r.stderr.trim()}`, { file: rel(file) });
    job = r.stdout.trim().split(';')[0]!;
    out(`Submitted batch job ${job}.\n`);
  } else out(`Submit it with: sbatch ${rel(file)}\n`);
  out(
    [
      'Watch it:',
      `  resumable status ${rel(exp.file)}      every shard's progress, host and state`,
      `  squeue -r -j ${job}                     the array's tasks`,
      `  tail -f ${rel(logDir)}/${job}_*.out`,
      'A requeued or re-submitted task resumes its own shard.',
      `When every shard is done: resumable merge ${rel(runDir)}`,
      '',
    ].join('\n'),
  );
  return 0;
}

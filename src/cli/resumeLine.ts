import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunSummary } from '../core/run/events';
import { shQuote } from '../core/shard/slurmScript';

/**
 * The one command that resumes a parked run at its reset: under Slurm the array re-submitted
 * to begin then (each task resumes its own shard), else the same `run` again.
 */
export function resumeLine(s: RunSummary, name: string, file: string, env: NodeJS.ProcessEnv = process.env): string {
  const rel = (p: string) => shQuote(path.relative(process.cwd(), p) || p);
  const at = s.rateLimitedUntil ? slurmTime(s.rateLimitedUntil) : undefined;
  // Written by `resumable slurm` into the run folder the shards share.
  const sbatch = path.join(s.runDir, 'slurm', `${name}.sbatch`);
  if (env.SLURM_JOB_ID !== undefined && fs.existsSync(sbatch))
    return at ? `Resume then: sbatch --begin=${at} ${rel(sbatch)}` : `Resume later: sbatch ${rel(sbatch)}`;
  return `${at ? 'Resume then' : 'Resume later'}: resumable run ${rel(file)}`;
}

/** Slurm's --begin takes the node's local time: YYYY-MM-DDTHH:MM:SS. */
function slurmTime(ms: number): string {
  const d = new Date(ms + 999);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

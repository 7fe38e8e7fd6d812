import { UserError } from '../errors';

export interface SlurmOptions {
  readonly name: string;
  /** Absolute paths: the script runs on compute nodes, from the shared filesystem. */
  readonly experimentFile: string;
  readonly workDir: string;
  readonly logDir: string;
  readonly shards: number;
  readonly throttle?: number;
  readonly partition?: string;
  readonly time?: string;
  /** How to start the CLI on a node: [node, cli.js] of this install, or ['resumable']. */
  readonly command: readonly string[];
}

/** Quotes for bash: safe for any path (spaces, quotes, $). */
export function shQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function validateSlurmOptions(o: Pick<SlurmOptions, 'shards' | 'throttle' | 'partition' | 'time'>): void {
  if (!Number.isInteger(o.shards) || o.shards < 1) throw new UserError(`Expected --shards ≥ 1 (an integer), got ${o.shards}`);
  if (o.throttle !== undefined && (!Number.isInteger(o.throttle) || o.throttle < 1))
    throw new UserError(`Expected --throttle ≥ 1 (an integer), got ${o.throttle}`);
  if (o.partition !== undefined && !/^[\w.-]+$/.test(o.partition))
    throw new UserError(`Expected --partition to be a partition name, got ${JSON.stringify(o.partition)}`);
  // Slurm's forms: minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS, or UNLIMITED.
  if (o.time !== undefined && !/^(?:\d+|\d+:\d{2}|\d+:\d{2}:\d{2}|\d+-\d+(?::\d{2}){0,2}|UNLIMITED|INFINITE)$/i.test(o.time)) {
    throw new UserError(`Expected --time in a Slurm form (minutes, HH:MM:SS or D-HH:MM:SS), got ${JSON.stringify(o.time)}`);
  }
}

/**
 * An sbatch script for a job array 0-(N-1)%M whose task i runs shard i+1 of N. The shard
 * comes from SLURM_ARRAY_TASK_ID (the runner says so in the log), so a requeued task
 * (`scontrol requeue`, node failure) resumes exactly its shard. SIGTERM from scancel or a
 * time limit reaches the runner through `exec`: units in flight get the grace period.
 */
export function slurmScript(o: SlurmOptions): string {
  validateSlurmOptions(o);
  // #SBATCH lines are not parsed by a shell: a path there cannot be quoted.
  if (/\s/.test(o.logDir))
    throw new UserError(
      `Slurm's #SBATCH --output cannot take a path with spaces: ${JSON.stringify(o.logDir)}; move the run folder (runRoot) to a path without spaces`,
    );
  const array = `0-${o.shards - 1}${o.throttle ? `%${o.throttle}` : ''}`;
  const lines = [
    '#!/bin/bash',
    `# Written by \`resumable slurm\`: ${o.shards} shard(s) of ${o.name}. Submit with: sbatch <this file>`,
    `#SBATCH --job-name=resumable-${o.name.replace(/[^\w.-]/g, '_')}`,
    `#SBATCH --array=${array}`,
    `#SBATCH --output=${o.logDir}/%A_%a.out`,
    '#SBATCH --open-mode=append',
    '#SBATCH --requeue',
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    'set -euo pipefail',
    `cd ${shQuote(o.workDir)}`,
    'echo "resumable: array task ${SLURM_ARRAY_TASK_ID} of job ${SLURM_ARRAY_JOB_ID} on $(hostname), restart ${SLURM_RESTART_COUNT:-0}"',
    `exec ${o.command.map(shQuote).join(' ')} run ${shQuote(o.experimentFile)}`,
    '',
  ];
  return lines.join('\n');
}

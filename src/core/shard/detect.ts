import { UserError } from '../errors';
import type { Shard } from '../store/paths';

/** Which shard this process runs, and what said so (for the run's log). */
export interface ShardChoice {
  /** Undefined: the whole run (no sharding, or one shard of one). */
  readonly shard: Shard | undefined;
  readonly source: string | undefined;
}

/** `--shard k/N`: k counts from 1. */
export function parseShardArg(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const k = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || k < 1 || k > n) {
    throw new UserError(`Expected --shard k/N with 1 ≤ k ≤ N (shard 2 of 4 is 2/4), got ${JSON.stringify(text)}`);
  }
  return { k, n };
}

const int = (env: NodeJS.ProcessEnv, name: string): number | undefined => {
  const v = env[name];
  if (v === undefined || v.trim() === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new UserError(`Expected ${name} to be an integer, got ${JSON.stringify(v)}`);
  return n;
};

/**
 * Slurm job arrays number tasks by their array index (`--array=0-7`, `1-8`, `0-14:2`), so
 * the shard is the task's position among the array's indexes, not the index itself:
 * (ID − MIN) / STEP + 1 of COUNT. Lists that are not evenly spaced (`--array=1,4,9`) have
 * no such position in the environment, so they are refused rather than guessed.
 */
function fromSlurm(env: NodeJS.ProcessEnv): ShardChoice | undefined {
  const id = int(env, 'SLURM_ARRAY_TASK_ID');
  if (id === undefined) return undefined;
  const min = int(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
  const max = int(env, 'SLURM_ARRAY_TASK_MAX');
  const step = int(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
  const count = int(env, 'SLURM_ARRAY_TASK_COUNT') ?? (max !== undefined ? Math.floor((max - min) / step) + 1 : undefined);
  const array = `array ${min}-${max ?? '?'}${step !== 1 ? `:${step}` : ''}, ${count ?? '?'} tasks`;
  if (count === undefined)
    throw new UserError(
      `SLURM_ARRAY_TASK_ID=${id} is set but neither SLURM_ARRAY_TASK_COUNT nor SLURM_ARRAY_TASK_MAX: cannot tell how many shards; pass --shard k/N`,
    );
  const evenlySpaced = step >= 1 && (id - min) % step === 0 && (max === undefined || Math.floor((max - min) / step) + 1 === count);
  if (!evenlySpaced) {
    throw new UserError(
      `Slurm ${array} is not an evenly spaced range (task ${id}), so this task's shard cannot be derived; use --array=0-${count - 1} or pass --shard k/${count}`,
    );
  }
  const k = (id - min) / step + 1;
  if (k < 1 || k > count) throw new UserError(`SLURM_ARRAY_TASK_ID=${id} is outside its ${array}; pass --shard k/N`);
  return { shard: { k, n: count }, source: `SLURM_ARRAY_TASK_ID=${id} (${array}): task ${k - 1} of the array` };
}

/** Kubernetes Indexed Jobs set JOB_COMPLETION_INDEX (0-based) but not the count: the manifest passes it. */
function fromKubernetes(env: NodeJS.ProcessEnv): ShardChoice | undefined {
  const index = int(env, 'JOB_COMPLETION_INDEX');
  if (index === undefined) return undefined;
  const count = int(env, 'RESUMABLE_SHARD_COUNT');
  if (count === undefined) {
    throw new UserError(
      `JOB_COMPLETION_INDEX=${index} is set but RESUMABLE_SHARD_COUNT is not: set it to the Job's spec.completions (see the README's Kubernetes section), or pass --shard k/N`,
    );
  }
  if (count < 1 || index < 0 || index >= count)
    throw new UserError(`Expected 0 ≤ JOB_COMPLETION_INDEX < RESUMABLE_SHARD_COUNT, got ${index} and ${count}`);
  return { shard: { k: index + 1, n: count }, source: `JOB_COMPLETION_INDEX=${index} of RESUMABLE_SHARD_COUNT=${count}` };
}

/** `--shard` wins; then a Slurm array task; then a Kubernetes Indexed Job; else the whole run. */
export function chooseShard(explicit: string | undefined, env: NodeJS.ProcessEnv): ShardChoice {
  let choice: ShardChoice;
  if (explicit !== undefined) choice = { shard: parseShardArg(explicit), source: `--shard ${explicit.trim()}` };
  else choice = fromSlurm(env) ?? fromKubernetes(env) ?? { shard: undefined, source: undefined };
  // One shard of one is the whole run: it keeps the unsharded journal, so it can resume either way.
  if (choice.shard?.n === 1) return { shard: undefined, source: `${choice.source} (1 shard: the whole run)` };
  return choice;
}

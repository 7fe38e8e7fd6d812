import * as path from 'node:path';
import { unitFolderName } from '../ids';

/** Shard k of n (k from 1). Undefined for an unsharded run. */
export interface Shard {
  readonly k: number;
  readonly n: number;
}

export function shardSuffix(shard?: Shard): string {
  return shard ? `.${shard.k}of${shard.n}` : '';
}

/** Where everything of one run lives; the one place that knows the folder layout. */
export class RunPaths {
  constructor(
    readonly root: string,
    readonly shard?: Shard,
  ) {}

  get experiment(): string {
    return path.join(this.root, 'experiment.json');
  }
  get journal(): string {
    return path.join(this.root, `journal${shardSuffix(this.shard)}.jsonl`);
  }
  get state(): string {
    return path.join(this.root, `state${shardSuffix(this.shard)}.json`);
  }
  /** Every unit's state up to a journal offset (model/unitSnapshot.ts): resume reads it and only the journal after. */
  get unitSnapshot(): string {
    return path.join(this.root, `snapshot${shardSuffix(this.shard)}.bin`);
  }
  get lock(): string {
    return path.join(this.root, `lock${shardSuffix(this.shard)}`);
  }
  /** A shard's rate-limit pause, for the other shards of the run to honour (they share the API key). */
  get sharedPause(): string {
    return path.join(this.root, `ratelimit${shardSuffix(this.shard)}.json`);
  }
  get units(): string {
    return path.join(this.root, 'units');
  }
  get archive(): string {
    return path.join(this.root, 'archive');
  }
  /** Worker `index`'s log (stderr and what the runner did to it): `workers/[<k>of<N>-]worker-<index>.log`. */
  workerLog(index: number): string {
    return path.join(this.root, 'workers', `${this.shard ? `${this.shard.k}of${this.shard.n}-` : ''}worker-${index}.log`);
  }
  unitDir(unitId: string): string {
    return path.join(this.units, unitFolderName(unitId));
  }
}

/** `.resumable/<name>-<hash8>/` next to the experiment file (or under its `runRoot`). */
export function runFolderFor(experimentDir: string, runRoot: string, name: string, hash: string): string {
  return path.join(path.resolve(experimentDir, runRoot), `${name}-${hash.slice(0, 8)}`);
}

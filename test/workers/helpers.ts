import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFiles } from '../helpers/tmp';

/** Items `q000`…: `{ id, x }`, x the index. */
export function items(n: number): string {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${String(i).padStart(3, '0')}`, x: i })).join('\n') + '\n';
}

/**
 * A worker experiment in `dir`: `worker.py` (the given Python), `items.jsonl`, and
 * `w.experiment.json` with `run.worker: ["python3", "worker.py"]` and `extra` on top.
 */
export function workerExperiment(
  dir: string,
  o: { n: number; python: string; run?: Record<string, unknown>; extra?: Record<string, unknown> },
): string {
  writeFiles(dir, {
    'items.jsonl': items(o.n),
    'worker.py': o.python,
    'w.experiment.json': JSON.stringify(
      {
        name: 'w',
        items: { file: 'items.jsonl' },
        run: { worker: ['python3', 'worker.py'], ...o.run },
        concurrency: 2,
        graceSeconds: 10,
        retries: { maxAttempts: 3, backoffSeconds: [0, 0] },
        ...o.extra,
      },
      null,
      2,
    ),
  });
  return path.join(dir, 'w.experiment.json');
}

/**
 * The Python a test worker starts with: it notes each load (its pid) in loads.log, as a model
 * that loads once per process would, and each unit it runs in runs.log (`<id> <attempt> <pid>`).
 */
export const PY_PRELUDE = `
import os, sys, time, json
from resumable_worker import serve, RateLimitError
HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "loads.log"), "a") as f:
    f.write(f"{os.getpid()}\\n")
def ran(u):
    with open(os.path.join(HERE, "runs.log"), "a") as f:
        f.write(f"{u.id} {u.attempt} {os.getpid()}\\n")
`;

export function linesOf(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Pids in a /proc-wide look that are alive and not zombies. */
export function alivePids(pids: readonly number[]): number[] {
  return pids.filter((pid) => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  });
}

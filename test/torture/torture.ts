import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { writeFiles } from '../helpers/tmp';

/** Full scale under `npm run torture` (TORTURE_SCALE=full); a small slice in `npm test`. */
export const FULL = process.env.TORTURE_SCALE === 'full';

/** Figures of a torture test, collected by scripts/torture.mjs into docs/reliability.md. */
export function report(name: string, figures: Record<string, unknown>): void {
  const dir = process.env.TORTURE_OUT;
  if (dir) fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(figures, null, 2));
  console.log(`TORTURE ${name} ${JSON.stringify(figures)}`);
}

/** mulberry32: reproducible "random" choices; the seed is in every failure message. */
export function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const LIB_RUNNER = path.join(__dirname, 'libRunner.cjs');

/** An experiment of `n` units for libRunner.cjs (its command is never run). */
export function libExperiment(dir: string, n: number, extra: Record<string, unknown> = {}): string {
  writeFiles(dir, {
    'items.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `t-${String(i).padStart(5, '0')}` })).join('\n') + '\n',
    'e.experiment.json': JSON.stringify({
      name: 'torture',
      items: { file: 'items.jsonl' },
      run: { command: ['true'] },
      graceSeconds: 1,
      ...extra,
    }),
  });
  return path.join(dir, 'e.experiment.json');
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  ms: number;
}

/** Starts libRunner.cjs; `kill(ms)` SIGKILLs it that long after the start (if still running). */
export function startLibRunner(
  file: string,
  concurrency: number,
  env: NodeJS.ProcessEnv = {},
): { done: Promise<Exit>; killAfter: (ms: number) => void } {
  const t0 = performance.now();
  const child = spawn(process.execPath, [LIB_RUNNER, file, String(concurrency)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<Exit>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, stderr, ms: performance.now() - t0 })),
  );
  return { done, killAfter: (ms) => void setTimeout(() => child.kill('SIGKILL'), ms) };
}

/** Journal records that parse; a torn last line is dropped (that is what it may be after a kill). */
export function readRecords(file: string): { records: Record<string, unknown>[]; torn: boolean; bad: number[] } {
  if (!fs.existsSync(file)) return { records: [], torn: false, bad: [] };
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const last = lines.pop()!;
  const records: Record<string, unknown>[] = [];
  const bad: number[] = [];
  lines.forEach((l, i) => {
    try {
      records.push(JSON.parse(l));
    } catch {
      bad.push(i + 1);
    }
  });
  return { records, torn: last !== '', bad };
}

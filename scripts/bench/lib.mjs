// Shared by the benchmarks: child processes (one measurement each, so peak RSS and JIT
// state are their own), medians, the machine's description, markdown tables.
import { execFileSync, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
// require, not import(): importing a CommonJS bundle from ESM runs a lexer over all of it first.
export const core = async () => createRequire(import.meta.url)(path.join(root, 'dist', 'core.js'));

/** Runs `<module>.child(kind, args)` in a fresh node process (with `flags`); returns the JSON it printed last. */
export function inChild(module, kind, args, flags = []) {
  const r = spawnSync(
    process.execPath,
    ['--max-old-space-size=4096', ...flags, path.join(here, 'child.mjs'), module, kind, JSON.stringify(args)],
    {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  );
  if (r.status !== 0) throw new Error(`${module} ${kind} ${JSON.stringify(args)} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const last = r.stdout.trim().split('\n').pop();
  return JSON.parse(last);
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median over `reps` child runs of `pick(result)`, alternating engine and baseline runs. */
export function pair(reps, engine, baseline, pick) {
  const e = [];
  const b = [];
  for (let i = 0; i < reps; i++) {
    e.push(pick(engine()));
    b.push(pick(baseline()));
  }
  return { engine: median(e), baseline: median(b), engineRuns: e, baselineRuns: b };
}

export function tmp(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `resumable-bench-${prefix}-`));
}

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  let fsType = 'unknown';
  try {
    fsType = execFileSync('stat', ['-f', '-c', '%T', os.tmpdir()], { encoding: 'utf8' }).trim();
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: os.cpus().length,
    ramGiB: (os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    tmp: `${os.tmpdir()} (${fsType})`,
  };
}

export function table(head, rows) {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export const fmt = {
  ms: (x) => (x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(x < 10 ? 2 : 0)} ms`),
  rate: (x) => `${Math.round(x).toLocaleString('en-US')}/s`,
  mb: (x) => `${Math.round(x)} MB`,
  ratio: (x) => `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`,
  pct: (x) => `${Math.round(x * 100)}%`,
};

/** An experiment of `n` units (ids u0000000…) whose command is `command` (handler runs ignore it). */
export function writeExperiment(dir, n, extra = {}) {
  const ids = Array.from({ length: n }, (_, i) => `u${String(i).padStart(7, '0')}`);
  fs.writeFileSync(path.join(dir, 'items.jsonl'), ids.map((id) => `{"id":"${id}"}`).join('\n') + '\n');
  const file = path.join(dir, 'bench.experiment.json');
  fs.writeFileSync(
    file,
    JSON.stringify({ name: 'bench', items: { file: 'items.jsonl' }, run: { command: ['true'] }, concurrency: 8, ...extra }),
  );
  return { file, ids };
}

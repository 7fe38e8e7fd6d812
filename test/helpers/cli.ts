import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFiles } from './tmp';

export const CLI = path.resolve(__dirname, '../../dist/cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cliSync(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliResult {
  // SIGKILL on timeout: a wedged runner may ignore SIGTERM, and the suite must not hang on it.
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function cliStart(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<CliResult>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/**
 * A shell unit that logs each start and finish into its own folder (runs.log) and writes
 * its result atomically (temp + mv). `UNIT_SLEEP` is how long it works.
 */
export const SHELL_UNIT = [
  'echo start >> "$RESUMABLE_UNIT_DIR/runs.log"',
  'sleep "${UNIT_SLEEP:-0.05}"',
  'printf \'{"passed": true, "unit": "%s"}\\n\' "$RESUMABLE_UNIT_ID" > "$RESUMABLE_UNIT_DIR/result.tmp"',
  'mv "$RESUMABLE_UNIT_DIR/result.tmp" "$RESUMABLE_UNIT_DIR/result.json"',
  'echo done >> "$RESUMABLE_UNIT_DIR/runs.log"',
].join('\n');

export interface ExperimentSpec {
  n: number;
  concurrency?: number;
  sleep?: string;
  script?: string;
  extra?: Record<string, unknown>;
  name?: string;
}

/** Writes `e.experiment.json` + `items.jsonl` + `unit.sh` into `dir`; returns the experiment path. */
export function makeExperiment(dir: string, spec: ExperimentSpec): string {
  const items = Array.from({ length: spec.n }, (_, i) => JSON.stringify({ id: `item-${String(i).padStart(5, '0')}` })).join('\n') + '\n';
  writeFiles(dir, {
    'items.jsonl': items,
    'unit.sh': spec.script ?? SHELL_UNIT,
    'e.experiment.json': JSON.stringify(
      {
        name: spec.name ?? 'exp',
        items: { file: 'items.jsonl' },
        run: { command: ['sh', 'unit.sh'], env: { UNIT_SLEEP: spec.sleep ?? '0.05' } },
        concurrency: spec.concurrency ?? 8,
        graceSeconds: 5,
        ...spec.extra,
      },
      null,
      2,
    ),
  });
  return path.join(dir, 'e.experiment.json');
}

export function runDirOf(dir: string): string {
  const root = path.join(dir, '.resumable');
  const names = fs.readdirSync(root).filter((n) => fs.existsSync(path.join(root, n, 'experiment.json')));
  if (names.length !== 1) throw new Error(`expected one run folder in ${root}, found ${names.join(', ')}`);
  return path.join(root, names[0]!);
}

/** Per unit folder: how many times it started and finished (from runs.log). */
export function unitRuns(runDir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const units = path.join(runDir, 'units');
  if (!fs.existsSync(units)) return out;
  for (const f of fs.readdirSync(units)) {
    const log = path.join(units, f, 'runs.log');
    out.set(f, fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []);
  }
  return out;
}

export function journalRecords(runDir: string, name = 'journal.jsonl'): Record<string, unknown>[] {
  const text = fs.readFileSync(path.join(runDir, name), 'utf8');
  const lines = text.split('\n');
  const last = lines.pop();
  if (last !== '') throw new Error(`journal ends with a torn line: ${JSON.stringify(last)}`);
  return lines.map((l, i) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`journal line ${i + 1} does not parse: ${l.slice(0, 100)}`);
    }
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

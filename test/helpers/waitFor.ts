import * as fs from 'node:fs';
import * as path from 'node:path';

/** Polls `probe` until it returns something truthy; fails naming `what` after `timeoutMs` (generous: the machine may be loaded). */
export async function waitFor<T>(what: string, probe: () => T | undefined | null | false, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The journal's complete lines so far (a line being written is left out). */
export function journalSoFar(runDir: string, name = 'journal.jsonl'): Record<string, unknown>[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(runDir, name), 'utf8');
  } catch {
    return [];
  }
  const lines = text.split('\n');
  lines.pop();
  const out: Record<string, unknown>[] = [];
  for (const l of lines) {
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // A line the runner is writing right now.
    }
  }
  return out;
}

/** The one run folder under `dir/.resumable`, once it exists. */
export function runDirSoFar(dir: string): string | undefined {
  const root = path.join(dir, '.resumable');
  const names = fs.existsSync(root) ? fs.readdirSync(root) : [];
  return names.length === 1 ? path.join(root, names[0]!) : undefined;
}

/** Pids of live processes (not zombies) whose environment says they are units of this run folder. */
export function unitProcesses(runDir: string): number[] {
  const needle = Buffer.from(`RESUMABLE_RUN_DIR=${runDir}\u0000`);
  const out: number[] = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (!fs.readFileSync(`/proc/${p}/environ`).includes(needle)) continue;
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(p));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return out;
}

/** Waits for the run folder under `dir` and the first unit start in its journal; returns the run folder. */
export async function firstStart(dir: string): Promise<string> {
  const runDir = await waitFor('the run folder', () => runDirSoFar(dir));
  await waitFor('a unit to start (journal start line)', () => journalSoFar(runDir).some((r) => r.t === 'start'));
  return runDir;
}

import * as fs from 'node:fs';

/**
 * Process identity = pid + start time, so a recycled pid is not mistaken for the process
 * that was recorded. Start time comes from /proc (Linux); elsewhere it is undefined and
 * only the pid is compared.
 */
export function procStartTime(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces and parentheses).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(rest[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number, startTime?: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  if (startTime === undefined) return true;
  const now = procStartTime(pid);
  if (now === undefined) return !fs.existsSync('/proc/self/stat');
  if (now !== startTime) return false;
  return !isZombie(pid);
}

function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  return procState(pid) === 'Z';
}

/** Stopped by a signal (Ctrl+Z, SIGSTOP) or a debugger: alive, but it does nothing until continued. */
export function isStopped(pid: number): boolean {
  const s = procState(pid);
  return s === 'T' || s === 't';
}

/**
 * Signals a unit's whole process group (units are spawned as group leaders). No fallback to
 * the bare pid: when the group is gone, that pid may already belong to another process.
 */
export function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Processes left by a dead runner of this run: every unit process carries
 * RESUMABLE_RUN_DIR in its environment, so even one spawned just before the runner died
 * (and so never journaled) is found. Linux only; elsewhere the journal's pids are used.
 */
export function findRunProcesses(runDir: string, shardTag: string): { pid: number; pgid: number }[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const needle = Buffer.from(`RESUMABLE_RUN_DIR=${runDir}\u0000`);
  const shardNeedle = Buffer.from(`RESUMABLE_SHARD=${shardTag}\u0000`);
  const found: { pid: number; pgid: number }[] = [];
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    if (pid === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${e}/environ`);
      if (env.indexOf(needle) === -1 || env.indexOf(shardNeedle) === -1) continue;
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (rest[0] === 'Z') continue;
      found.push({ pid, pgid: Number(rest[2]) });
    } catch {
      // Gone or not ours to read.
    }
  }
  return found;
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import { UserError } from '../errors';
import type { RunStatus } from '../store/events';
import { readJournal } from '../store/journalReader';
import { LOCK_STALE_MS, lockHeartbeat, readLock } from '../store/lock';
import { RunPaths } from '../store/paths';
import { isAlive } from '../store/process';
import { readFrozen, unitsOfFrozen } from '../run/frozen';
import { readSnapshot } from '../run/snapshot';
import { applyRecord, doneCount, emptyCounts, newView, rateAndEta, type Counts } from '../run/view';
import * as os from 'node:os';

/** Where a run stands, read from its folder alone: what `status`, the tree and the status bar show. */
export interface RunReport {
  readonly runDir: string;
  readonly name: string;
  readonly hash: string;
  readonly experimentFile: string;
  /** `interrupted` also when the snapshot says running but its runner is gone or silent. */
  readonly status: RunStatus | 'not_started';
  readonly total: number;
  readonly done: number;
  readonly counts: Counts;
  readonly groups: readonly { readonly group: string; readonly total: number; readonly counts: Counts }[];
  readonly rateLimitedUntil: number | null;
  readonly pauseSource: string | null;
  readonly pauseCount: number;
  readonly runner: { readonly pid: number; readonly host: string; readonly heartbeatAgeMs: number | null; readonly alive: boolean } | null;
  readonly rate: number;
  readonly etaMs: number | null;
  readonly lastActivity: number | null;
  /** Things the reader noticed: torn last line, damaged lines (with numbers), unreadable state.json. */
  readonly notes: readonly string[];
}

export async function readRunReport(runDir: string, clock: Clock): Promise<RunReport> {
  const paths = new RunPaths(runDir);
  const frozen = readFrozen(paths.experiment);
  if (!frozen) throw new UserError('Expected a run folder with an experiment.json', { file: runDir });
  const units = unitsOfFrozen(frozen);
  const view = newView(units.map((u) => u.id));
  const notes: string[] = [];
  const read = await readJournal(paths.journal, (r) => applyRecord(view, r));
  if (read.tornTail) notes.push(`torn last journal line dropped (${read.tornTail.bytes} bytes)`);
  for (const c of read.corrupt.slice(0, 5)) notes.push(`damaged journal line ${c.line} skipped`);
  if (read.corrupt.length > 5) notes.push(`${read.corrupt.length - 5} more damaged lines skipped`);
  const { snapshot, problem } = readSnapshot(paths.state);
  if (problem) notes.push(problem);

  const lock = readLock(paths.lock);
  const beat = lockHeartbeat(paths.lock);
  const now = clock.now();
  const runner = lock
    ? {
        pid: lock.pid, host: lock.host, heartbeatAgeMs: beat === undefined ? null : now - beat,
        alive: lock.host === os.hostname() ? isAlive(lock.pid, lock.pst) : beat !== undefined && now - beat < LOCK_STALE_MS,
      }
    : null;
  let status: RunReport['status'] = view.lastStatus ?? snapshot?.status ?? 'not_started';
  if ((status === 'running' || status === 'paused_rate_limit') && !runner?.alive) {
    // Journal says a runner is active, but none holds a live lock: it died (kill -9, power cut).
    if (status === 'running' || !view.pause || view.pause.until < now) status = 'interrupted';
  }
  const groups = new Map<string, { total: number; counts: Counts }>();
  for (const u of units) {
    const g = groups.get(u.group) ?? { total: 0, counts: emptyCounts() };
    g.total++;
    g.counts[view.units.get(u.id)!.status]++;
    groups.set(u.group, g);
  }
  const { rate, etaMs } = rateAndEta(view, now, units.length);
  const live = status === 'running' || status === 'paused_rate_limit';
  return {
    runDir, name: frozen.name, hash: frozen.hash, experimentFile: frozen.experimentFile, status,
    total: units.length, done: doneCount(view.counts), counts: { ...view.counts },
    groups: [...groups.entries()].map(([group, g]) => ({ group, ...g })),
    rateLimitedUntil: status === 'paused_rate_limit' ? view.pause?.until ?? snapshot?.rateLimitedUntil ?? null : null,
    pauseSource: view.pause?.src ?? null, pauseCount: view.pauseCount, runner,
    rate: live ? rate : 0, etaMs: live ? etaMs ?? null : null, lastActivity: view.lastTs ?? null, notes,
  };
}

/** Run folders under a folder of run folders (`.resumable/`). */
export function listRunDirs(runRoot: string): string[] {
  try {
    return fs.readdirSync(runRoot).map((n) => path.join(runRoot, n)).filter((d) => fs.existsSync(path.join(d, 'experiment.json')));
  } catch {
    return [];
  }
}

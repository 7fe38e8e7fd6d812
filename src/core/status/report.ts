import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Clock } from '../clock';
import type { Unit } from '../config/units';
import { UserError } from '../errors';
import type { RunStatus } from '../store/events';
import { LOCK_STALE_MS, lockHeartbeat, readLock } from '../store/lock';
import { RunPaths } from '../store/paths';
import { isAlive } from '../store/process';
import { readFrozen, unitsOfFrozen, type FrozenExperiment } from '../run/frozen';
import { readSnapshot } from '../run/snapshot';
import { doneCount, emptyCounts, rateAndEta, type Counts, type RunView } from '../run/view';
import { JournalTail } from './tail';

/** Where a run stands, read from its folder alone: what `status`, the tree and the status bar show. */
export interface RunReport {
  readonly runDir: string;
  readonly name: string;
  readonly hash: string;
  readonly experimentFile: string;
  /** `interrupted` also when the journal says running but its runner is gone or silent. */
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

/**
 * A run folder being followed: the frozen config is read once, the journal tailed. The
 * CLI's `status` makes one and reads once; the extension keeps one per run and polls it.
 */
export class RunFollower {
  readonly units: readonly Unit[];
  private readonly tail: JournalTail;
  private readonly paths: RunPaths;

  constructor(readonly runDir: string, readonly frozen: FrozenExperiment) {
    this.paths = new RunPaths(runDir);
    this.units = unitsOfFrozen(frozen);
    this.tail = new JournalTail(this.paths.journal, this.units);
  }

  static open(runDir: string): RunFollower {
    const frozen = readFrozen(new RunPaths(runDir).experiment);
    if (!frozen) throw new UserError('Expected a run folder with an experiment.json', { file: runDir });
    return new RunFollower(runDir, frozen);
  }

  get view(): RunView {
    return this.tail.view;
  }

  /** Reads new journal bytes; returns how many (0: nothing changed in the journal). */
  poll(): Promise<number> {
    return this.tail.poll();
  }

  report(clock: Clock): RunReport {
    const { view, units, frozen } = this;
    const notes: string[] = [];
    const { corrupt, tornBytes } = this.tail.problems;
    if (tornBytes) notes.push(`torn last journal line dropped (${tornBytes} bytes)`);
    for (const c of corrupt.slice(0, 5)) notes.push(`damaged journal line ${c.line} skipped`);
    if (corrupt.length > 5) notes.push(`${corrupt.length - 5} more damaged lines skipped`);
    const { snapshot, problem } = readSnapshot(this.paths.state);
    if (problem) notes.push(problem);
    const now = clock.now();
    const runner = runnerOf(this.paths.lock, now);
    let status: RunReport['status'] = view.lastStatus ?? snapshot?.status ?? 'not_started';
    if ((status === 'running' || status === 'paused_rate_limit') && !runner?.alive) {
      // The journal says a runner is active, but none holds a live lock: it died (kill -9, power cut).
      status = 'interrupted';
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
    const paused = live && view.pause !== undefined && view.pause.until > now;
    return {
      runDir: this.runDir, name: frozen.name, hash: frozen.hash, experimentFile: frozen.experimentFile, status: paused ? 'paused_rate_limit' : status,
      total: units.length, done: doneCount(view.counts), counts: { ...view.counts },
      groups: [...groups.entries()].map(([group, g]) => ({ group, ...g })),
      rateLimitedUntil: paused || status === 'paused_rate_limit' ? view.pause?.until ?? snapshot?.rateLimitedUntil ?? null : null,
      pauseSource: view.pause?.src ?? null, pauseCount: view.pauseCount, runner,
      rate: live ? rate : 0, etaMs: live ? etaMs ?? null : null, lastActivity: view.lastTs ?? null, notes,
    };
  }
}

function runnerOf(lockFile: string, now: number): RunReport['runner'] {
  const lock = readLock(lockFile);
  if (!lock) return null;
  const beat = lockHeartbeat(lockFile);
  const alive = lock.host === os.hostname() ? isAlive(lock.pid, lock.pst) : beat !== undefined && now - beat < LOCK_STALE_MS;
  return { pid: lock.pid, host: lock.host, heartbeatAgeMs: beat === undefined ? null : now - beat, alive };
}

export async function readRunReport(runDir: string, clock: Clock): Promise<RunReport> {
  const f = RunFollower.open(runDir);
  await f.poll();
  return f.report(clock);
}

/** Run folders under a folder of run folders (`.resumable/`). */
export function listRunDirs(runRoot: string): string[] {
  try {
    return fs.readdirSync(runRoot).map((n) => path.join(runRoot, n)).filter((d) => fs.existsSync(path.join(d, 'experiment.json')));
  } catch {
    return [];
  }
}

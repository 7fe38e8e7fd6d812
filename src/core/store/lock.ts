import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { UserError } from '../errors';
import { fsyncDir } from './atomicFile';
import { isAlive, procStartTime } from './process';
import { STORE_SCHEMA_VERSION } from './schemaVersion';

export const LOCK_STALE_MS = 120_000;

export interface LockInfo {
  readonly schemaVersion: number;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  readonly token: string;
  /** Process start time (/proc ticks), so a recycled pid does not look alive. */
  readonly pst?: number;
}

export interface Takeover { readonly holder: LockInfo | undefined; readonly reason: string; readonly holderMayBeAlive: boolean }

export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

/**
 * The run's lock: created with O_EXCL; its mtime is the heartbeat. Whether we still hold
 * it is checked by inode before every journal write: a takeover replaces the file, so the
 * check costs one stat and needs no read.
 */
export class HeldLock {
  private constructor(readonly file: string, readonly info: LockInfo, private readonly ino: number, private readonly clock: Clock) {}

  static async acquire(file: string, clock: Clock, staleMs = LOCK_STALE_MS): Promise<{ lock: HeldLock; takeover?: Takeover }> {
    let takeover: Takeover | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      const info: LockInfo = { schemaVersion: STORE_SCHEMA_VERSION, pid: process.pid, host: os.hostname(), startedAt: clock.now(), token: randomUUID(), pst: procStartTime(process.pid) };
      const created = tryCreate(file, info);
      if (created !== undefined) {
        const lock = new HeldLock(file, info, created, clock);
        lock.heartbeat();
        return { lock, takeover };
      }
      const holder = readLock(file);
      const stale = staleness(file, holder, clock, staleMs);
      if (!stale) {
        if (holder) throw lockedError(file, holder, clock);
        // Being written by another starter right now: give it a moment.
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (moveAside(file, holder)) takeover = stale;
    }
    throw new UserError('Could not take the run lock after 20 tries: another runner keeps racing for it', { file });
  }

  /** Throws LockLostError when another runner has taken the lock over. */
  check(): void {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      throw new LockLostError(`The run lock ${this.file} was removed: another runner may have taken over. Stopping without writing.`);
    }
    if (st.ino !== this.ino) {
      const now = readLock(this.file);
      throw new LockLostError(`Lost the run lock to pid ${now?.pid ?? '?'} on ${now?.host ?? '?'} (our heartbeat went stale). Stopping without writing.`);
    }
  }

  heartbeat(): void {
    this.check();
    const t = new Date(this.clock.now());
    fs.utimesSync(this.file, t, t);
  }

  release(): void {
    try {
      this.check();
      fs.rmSync(this.file);
    } catch {
      // Not ours any more: leave the new holder's lock alone.
    }
  }
}

function tryCreate(file: string, info: LockInfo): number | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw e;
  }
  try {
    fs.writeSync(fd, JSON.stringify(info) + '\n');
    fs.fsyncSync(fd);
    const ino = fs.fstatSync(fd).ino;
    fsyncDir(path.dirname(file));
    return ino;
  } finally {
    fs.closeSync(fd);
  }
}

export function readLock(file: string): LockInfo | undefined {
  try {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as LockInfo;
    return typeof v.pid === 'number' && typeof v.token === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function lockHeartbeat(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The holder of a lock that is not stale (a runner that is, or may be, still going). */
export function liveHolder(file: string, clock: Clock, staleMs = LOCK_STALE_MS): LockInfo | undefined {
  const holder = readLock(file);
  if (!holder || lockHeartbeat(file) === undefined) return undefined;
  return staleness(file, holder, clock, staleMs) ? undefined : holder;
}

function staleness(file: string, holder: LockInfo | undefined, clock: Clock, staleMs: number): Takeover | undefined {
  const beat = lockHeartbeat(file);
  if (beat === undefined) return undefined; // vanished: just retry the create
  const age = clock.now() - beat;
  if (holder && holder.host === os.hostname() && !isAlive(holder.pid, holder.pst)) {
    return { holder, reason: `its runner (pid ${holder.pid}) is gone`, holderMayBeAlive: false };
  }
  if (age > staleMs) {
    return { holder, reason: `no heartbeat for ${Math.round(age / 1000)} s`, holderMayBeAlive: true };
  }
  return undefined;
}

/**
 * Renames the stale lock away; only one contender's rename of a given file can succeed.
 * If what we moved is not the lock we judged stale (someone took over in between), it is
 * put back and we retry.
 */
function moveAside(file: string, judged: LockInfo | undefined): boolean {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return false;
  }
  const moved = readLock(aside);
  if (judged && moved?.token !== judged.token) {
    try {
      fs.linkSync(aside, file);
    } catch {
      // A third runner created a lock meanwhile: it holds the run; ours retries and is refused.
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

function lockedError(file: string, holder: LockInfo, clock: Clock): UserError {
  const beat = lockHeartbeat(file);
  const ago = beat === undefined ? '?' : `${Math.max(0, Math.round((clock.now() - beat) / 1000))} s`;
  return new UserError(
    `This run is already being run by pid ${holder.pid} on ${holder.host} (since ${new Date(holder.startedAt).toISOString()}, heartbeat ${ago} ago).`,
    { file },
    [
      `Stop that runner first (Ctrl+C in its terminal, or kill -INT ${holder.pid} on ${holder.host}).`,
      'A lock whose heartbeat is older than 2 minutes is taken over automatically.',
    ],
  );
}

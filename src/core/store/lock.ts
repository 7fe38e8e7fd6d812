import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock';
import { UserError } from '../errors';
import { fsyncDir } from './atomicFile';
import { isAlive, isStopped, procStartTime } from './process';
import { readRegularFile } from './safeRead';
import { STORE_SCHEMA_VERSION } from './schemaVersion';

export const LOCK_STALE_MS = 120_000;
/** A lock file that is empty or not JSON this long after its last write has no writer left. */
export const LOCK_WRITE_GRACE_MS = 2_000;

/** Who holds a lock: a runner, or a `repair` / `merge` that rewrites the run's files. */
export type LockRole = 'run' | 'repair' | 'merge';

export interface LockInfo {
  readonly schemaVersion: number;
  readonly pid: number;
  readonly host: string;
  readonly startedAt: number;
  /** Random per acquisition: the fence that cannot be reused (an inode number can). */
  readonly token: string;
  /** Process start time (/proc ticks), so a recycled pid does not look alive. */
  readonly pst?: number;
  readonly role?: LockRole;
}

export interface Takeover {
  readonly holder: LockInfo | undefined;
  readonly reason: string;
  readonly holderMayBeAlive: boolean;
}

export class LockLostError extends Error {
  override readonly name = 'LockLostError';
}

/**
 * The run's lock: created with O_EXCL; its mtime is the heartbeat. The holder keeps its
 * lock file open, so the file's inode stays allocated while it lives: a lock made by a
 * takeover can never get the same inode number (on ext4 a freed one was reused 5 times in
 * 5). `check` (one stat) runs before every dispatch; `verify` also reads the token and runs
 * before every journal write and heartbeat, which holds on filesystems where another host
 * made the new lock. See docs/reliability.md, "Two runners".
 */
export class HeldLock {
  private closed = false;

  private constructor(
    readonly file: string,
    readonly info: LockInfo,
    private readonly fd: number,
    private readonly ino: number,
    private readonly clock: Clock,
  ) {}

  static async acquire(
    file: string,
    clock: Clock,
    o: { staleMs?: number; role?: LockRole } = {},
  ): Promise<{ lock: HeldLock; takeover?: Takeover }> {
    const staleMs = o.staleMs ?? LOCK_STALE_MS;
    let takeover: Takeover | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      const info: LockInfo = {
        schemaVersion: STORE_SCHEMA_VERSION,
        pid: process.pid,
        host: os.hostname(),
        startedAt: clock.now(),
        token: randomUUID(),
        pst: procStartTime(process.pid),
        role: o.role ?? 'run',
      };
      const created = tryCreate(file, info);
      if (created !== undefined) {
        const lock = new HeldLock(file, info, created.fd, created.ino, clock);
        lock.heartbeat();
        return { lock, takeover };
      }
      const read = readLockFile(file);
      if (read.error) throw unreadableLockError(file, read.error);
      const stale = staleness(file, read.info, clock, staleMs);
      if (!stale) {
        if (read.info) throw lockedError(file, read.info, clock);
        // Empty: being written by another starter right now, or (an older version) left by one
        // killed while writing it, stale once LOCK_WRITE_GRACE_MS old: 20 waits outlast that.
        await new Promise((r) => setTimeout(r, LOCK_WRITE_GRACE_MS / 12));
        continue;
      }
      if (moveAside(file, read.info)) takeover = stale;
    }
    throw new UserError('Could not take the run lock after 20 tries: other runners kept creating it at the same moment', { file }, [
      'Run the command again; if this repeats, see who starts runners of this run (`resumable status`).',
    ]);
  }

  /** Throws LockLostError when the lock file is no longer ours (taken over, or removed). */
  check(): void {
    if (this.closed) throw new LockLostError(`The run lock ${this.file} was already released. Stopping without writing.`);
    const st = fs.statSync(this.file, { throwIfNoEntry: false });
    if (!st)
      throw new LockLostError(
        `The run lock ${this.file} was removed by someone else while this runner held it. Stopping without writing or starting anything.`,
      );
    if (st.ino !== this.ino) throw this.lost(readLock(this.file));
  }

  /** `check`, and the token in the file is ours (another host may have made a file with our inode number). */
  verify(): void {
    this.check();
    const read = readLockFile(this.file);
    // The file is there and ours by inode, but unreadable now (EIO, a full disk): the system's error, not a takeover.
    if (read.error)
      throw Object.assign(new Error(`Could not read the run lock ${this.file}: it ${read.error.why}`), { code: read.error.code ?? 'EIO' });
    if (read.info?.token !== this.info.token) throw this.lost(read.info);
  }

  private lost(now: LockInfo | undefined): LockLostError {
    const who = now ? `pid ${now.pid} on ${now.host}` : 'another process';
    return new LockLostError(
      `Lost the run lock to ${who}: this runner's heartbeat went stale (was it paused, e.g. Ctrl+Z or a frozen VM?) and the run was taken over. Stopping at once: no new unit is started and nothing more is written.`,
    );
  }

  heartbeat(): void {
    this.verify();
    const t = new Date(this.clock.now());
    // Through our own descriptor: never touches a lock file that is not ours.
    fs.futimesSync(this.fd, t, t);
  }

  release(): void {
    if (this.closed) return;
    try {
      this.verify();
      fs.rmSync(this.file);
    } catch {
      // Not ours any more: leave the new holder's lock alone.
    } finally {
      this.closed = true;
      fs.closeSync(this.fd);
    }
  }
}

/**
 * The lock appears whole or not at all: written to a temp file (`<lock>.<digits>`, which the
 * next holder's removeOrphanTemps clears if a kill left it), then hard-linked into place, which
 * fails if a lock exists. A runner killed between an O_EXCL create and its write used to leave
 * an empty lock that blocked every runner for LOCK_WRITE_GRACE_MS (found by the kill loop).
 * A filesystem without hard links gets the O_EXCL create.
 */
function tryCreate(file: string, info: LockInfo): { fd: number; ino: number } | undefined {
  const tmp = `${file}.${process.pid}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'wx');
  } catch {
    return createInPlace(file, info);
  }
  try {
    fs.writeSync(fd, JSON.stringify(info) + '\n');
    fs.fsyncSync(fd);
    try {
      fs.linkSync(tmp, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // EEXIST: held. ENOENT: our temp file was cleared by a holder that started meanwhile: held too.
      if (code === 'EEXIST' || code === 'ENOENT') {
        fs.closeSync(fd);
        return undefined;
      }
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw e;
      fs.closeSync(fd);
      return createInPlace(file, info);
    }
    const ino = fs.fstatSync(fd).ino;
    fs.rmSync(tmp, { force: true });
    fsyncDir(path.dirname(file));
    return { fd, ino };
  } catch (e) {
    try {
      fs.closeSync(fd);
    } catch {
      // closed above
    }
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function createInPlace(file: string, info: LockInfo): { fd: number; ino: number } | undefined {
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
    return { fd, ino };
  } catch (e) {
    // A lock we made but could not write (disk full) would block every runner: it is ours, remove it.
    fs.closeSync(fd);
    fs.rmSync(file, { force: true });
    throw e;
  }
}

/** The lock's holder; `error` when the file exists but cannot be read (a folder, a FIFO, EACCES). */
function readLockFile(file: string): { info?: LockInfo; error?: { code?: string; why: string } } {
  const read = readRegularFile(file, { maxBytes: 64 * 1024, what: 'a lock' });
  if (read.kind === 'absent') return {};
  if (read.kind === 'refused') return { error: { code: read.code, why: read.why } };
  try {
    const v = JSON.parse(read.text) as LockInfo;
    return typeof v.pid === 'number' && typeof v.token === 'string' ? { info: v } : {};
  } catch {
    return {};
  }
}

export function readLock(file: string): LockInfo | undefined {
  return readLockFile(file).info;
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
  if (!holder) {
    // Empty or not JSON: its writer died between creating and writing it (a full disk).
    // Judged by the file's own age, so a starter writing it right now is left alone.
    if (age > LOCK_WRITE_GRACE_MS)
      return {
        holder,
        reason: 'the lock file was empty or damaged (its writer died before writing it, e.g. on a full disk)',
        holderMayBeAlive: false,
      };
    return undefined;
  }
  if (holder.host === os.hostname()) {
    // On this host the pid decides, never the heartbeat: a live holder is never stale, even
    // when our clock runs ahead of the one that wrote the heartbeat.
    if (!isAlive(holder.pid, holder.pst)) return { holder, reason: `its runner (pid ${holder.pid}) is gone`, holderMayBeAlive: false };
    return undefined;
  }
  if (age > staleMs) {
    return { holder, reason: `no heartbeat for ${Math.round(age / 1000)} s from ${holder.host}`, holderMayBeAlive: true };
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
  const doing = holder.role === 'repair' ? 'being repaired' : holder.role === 'merge' ? 'being merged' : 'already being run';
  const by = holder.role === 'repair' ? '`resumable repair`' : holder.role === 'merge' ? '`resumable merge`' : 'that runner';
  const here = holder.host === os.hostname();
  const stopped = here && isStopped(holder.pid);
  return new UserError(
    `This run is ${doing} by pid ${holder.pid} on ${holder.host} (since ${new Date(holder.startedAt).toISOString()}, heartbeat ${ago} ago${stopped ? '; that process is stopped, e.g. by Ctrl+Z' : ''}).`,
    { file },
    [
      stopped
        ? `Continue it (\`fg\` in its terminal, or kill -CONT ${holder.pid}) or stop it (kill -INT ${holder.pid}, then kill -CONT ${holder.pid}).`
        : `Wait for ${by} to finish, or stop it (Ctrl+C in its terminal, or kill -INT ${holder.pid} on ${holder.host}).`,
      here
        ? 'A lock held by a live process on this host is never taken over; one whose process is gone is taken over at once.'
        : 'A lock whose heartbeat is older than 2 minutes is taken over automatically.',
    ],
  );
}

function unreadableLockError(file: string, e: { code?: string; why: string }): UserError {
  return new UserError(`Expected the run lock to be a readable file, but it ${e.why}`, { file }, [
    'No runner can tell whether this run is in use. If none is, move it out of the run folder, then run again.',
  ]);
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir } from './atomicFile';
import { journalError } from './journalReader';
import type { JournalRecord } from './events';
import { markOfFd, type JournalMark } from './journalMark';

/**
 * Append-only journal with group commit. A flush starts as soon as none is running and
 * takes everything queued meanwhile: with one producer that is a plain write+fdatasync per
 * record; with many it batches. (A fixed flush timer was measured 45x slower here.)
 *
 * `fence` runs before every write and throws when this process no longer holds the lock,
 * so a runner that lost its lock (paused past the stale time, then continued) does not
 * append another byte.
 */
export class JournalWriter {
  private queue: string[] = [];
  private waiters: { upTo: number; resolve: () => void; reject: (e: Error) => void }[] = [];
  private flushing = false;
  /** The batch being written by the flush in flight: `flushSync` writes it again at the same place. */
  private inflight: Buffer | undefined;
  private failed: Error | undefined;
  /** Bytes handed to `append` (durable or not). */
  private queued: number;
  private durable: number;
  /** Records handed to `append`: with the lines the file had, the line count at `queuedOffset`. */
  private appended = 0;

  private constructor(
    private fd: number,
    size: number,
    private readonly fence: () => void,
  ) {
    this.queued = size;
    this.durable = size;
  }

  /**
   * Opens for writing at explicit offsets (not O_APPEND): every batch goes to the offset it
   * owns, so `flushSync` can rewrite a batch whose async write is still in flight without
   * reordering lines. The file's current size is its good length (torn tail already cut).
   */
  static open(file: string, fence: () => void): JournalWriter {
    const created = !fs.existsSync(file);
    let fd: number;
    try {
      // Read-write: the unit snapshot marks the bytes this writer wrote through this descriptor (markOfFd).
      fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT);
    } catch (e) {
      throw journalError(file, e as NodeJS.ErrnoException);
    }
    // A new file's directory entry is not durable until its folder is fsynced: without this,
    // a power cut could lose the whole journal although fdatasync said its lines were on disk
    // (found by the crash model, test/torture/crashModel.test.ts).
    if (created) fsyncDir(path.dirname(file));
    const size = fs.fstatSync(fd).size;
    return new JournalWriter(fd, size, fence);
  }

  get durableOffset(): number {
    return this.durable;
  }
  get queuedOffset(): number {
    return this.queued;
  }
  get error(): Error | undefined {
    return this.failed;
  }
  get appendedRecords(): number {
    return this.appended;
  }

  /** The mark of what this writer's file holds up to `offset` (durable there: the caller waited). */
  mark(offset: number, lines: number): JournalMark | undefined {
    return markOfFd(this.fd, offset, lines);
  }

  /** Queues a record; the promise resolves when it is on disk. */
  append(rec: JournalRecord): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    const line = JSON.stringify(rec) + '\n';
    this.queue.push(line);
    this.queued += Buffer.byteLength(line);
    this.appended++;
    const p = this.whenDurable(this.queued);
    this.kick();
    return p;
  }

  /** Resolves once every byte queued so far (or up to `offset`) is durable. */
  whenDurable(offset = this.queued): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (offset <= this.durable) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ upTo: offset, resolve, reject }));
  }

  private kick(): void {
    if (this.flushing || this.queue.length === 0 || this.failed) return;
    this.flushing = true;
    const batch = this.queue.join('');
    this.queue = [];
    const end = this.queued;
    const at = this.durable;
    try {
      this.fence();
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    const buf = Buffer.from(batch, 'utf8');
    this.inflight = buf;
    this.writeAll(buf, 0, at, () => {
      fs.fdatasync(this.fd, (err) => {
        // No retry after a failed fsync: the kernel may have dropped the dirty pages, so a
        // later "successful" fsync would lie. The run stops; resume re-reads what is on disk.
        if (err) return this.fail(err);
        this.durable = Math.max(this.durable, end);
        this.inflight = undefined;
        this.flushing = false;
        this.settle();
        this.kick();
      });
    });
  }

  /** A write may be short (a disk filling up): write the rest before anything is called durable. */
  private writeAll(buf: Buffer, from: number, at: number, done: () => void): void {
    fs.write(this.fd, buf, from, buf.length - from, at + from, (err, written) => {
      if (err) return this.fail(err);
      if (written <= 0) return this.fail(new Error(`journal write made no progress (${buf.length - from} bytes left)`));
      if (from + written < buf.length) return this.writeAll(buf, from + written, at, done);
      done();
    });
  }

  private settle(): void {
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (w.upTo <= this.durable) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private fail(e: Error): void {
    this.failed ??= e;
    this.flushing = false;
    for (const w of this.waiters) w.reject(this.failed);
    this.waiters = [];
    this.queue = [];
  }

  /**
   * Second Ctrl+C: write what is queued now, synchronously, then exit. A batch whose async
   * write is still in flight is written again first, at its own offset (the same bytes, so
   * whichever write lands last changes nothing): a unit's `end` line can never land before
   * its `start` line.
   */
  flushSync(): void {
    if (this.failed || (this.queue.length === 0 && !this.inflight)) return;
    try {
      this.fence();
      const buf = Buffer.concat([this.inflight ?? Buffer.alloc(0), Buffer.from(this.queue.join(''), 'utf8')]);
      const at = this.durable;
      for (let off = 0; off < buf.length;) {
        const n = fs.writeSync(this.fd, buf, off, buf.length - off, at + off);
        if (n <= 0) throw new Error(`journal write made no progress (${buf.length - off} bytes left)`);
        off += n;
      }
      fs.fdatasyncSync(this.fd);
      this.queue = [];
      this.durable = this.queued;
      this.settle();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  async close(): Promise<void> {
    try {
      await this.whenDurable();
    } finally {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
  }
}

import * as fs from 'node:fs';
import type { Clock, TimerHandle } from '../clock';

/** Default `maxLogBytes`: output one attempt may keep in its unit's output.log. */
export const DEFAULT_MAX_LOG_BYTES = 32 * 1024 * 1024;
const CHECK_EVERY_MS = 500;
/** A log is trimmed once it is this much over: a rewrite per stray byte would be wasted work. */
const SLACK_BYTES = 4096;
/** How far to look for a line end, so the cut falls between lines where it can. */
const ALIGN_BYTES = 4096;
const COPY_CHUNK = 1024 * 1024;

/** One attempt's output being watched; `trimNow` is for its end, when no check is due. */
export interface WatchedLog {
  trimNow(): void;
  stop(): void;
}

/**
 * Keeps each attempt's output within `maxBytes`: its first half and its last half, with a
 * marker line between saying how many bytes were cut. The unit writes to its log directly
 * (the runner may die; the output must not), so the runner cannot filter what is written:
 * every CHECK_EVERY_MS it looks at the size of the logs of units in flight and trims those
 * over the cap in place. Between two checks a log may exceed the cap by what the unit wrote
 * meanwhile. The unit's descriptor is O_APPEND, so after a trim it writes at the new end.
 */
export class LogCapper {
  private readonly logs = new Set<AttemptLog>();
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly maxBytes: number,
  ) {}

  /** `fd` is the runner's (readable) descriptor of `file`; the attempt's output starts at `from`. */
  watch(fd: number, file: string, from: number): WatchedLog {
    const log = new AttemptLog(fd, file, from, this.maxBytes);
    this.logs.add(log);
    if (this.timer === undefined) this.timer = this.clock.setTimeout(() => this.tick(), CHECK_EVERY_MS);
    return {
      trimNow: () => log.trimIfOver(),
      stop: () => {
        this.logs.delete(log);
        if (this.logs.size === 0 && this.timer !== undefined) {
          this.clock.clearTimeout(this.timer);
          this.timer = undefined;
        }
      },
    };
  }

  private tick(): void {
    this.timer = undefined;
    for (const log of this.logs) log.trimIfOver();
    if (this.logs.size > 0) this.timer = this.clock.setTimeout(() => this.tick(), CHECK_EVERY_MS);
  }
}

class AttemptLog {
  private readonly headBytes: number;
  private readonly tailBytes: number;
  /** Where the kept head ends, fixed at the first trim; the marker follows it. */
  private headEnd: number | undefined;
  private markerPrefix = '';
  private markerLength = 0;
  private cut = 0;

  constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly from: number,
    private readonly maxBytes: number,
  ) {
    this.headBytes = Math.floor(maxBytes / 2);
    this.tailBytes = maxBytes - this.headBytes;
  }

  trimIfOver(): void {
    try {
      this.trim();
    } catch {
      // A log that cannot be trimmed now (a disk error) is left as it is: the unit's output
      // matters more than its size, and the next check tries again.
    }
  }

  private trim(): void {
    const size = fs.fstatSync(this.fd).size;
    if (size - this.from <= this.maxBytes + this.markerLength + SLACK_BYTES) return;
    if (this.headEnd === undefined) {
      this.headEnd = lineEndBefore(this.fd, this.from + this.headBytes, this.from);
      this.markerPrefix = this.byteAt(this.headEnd - 1) === 0x0a ? '' : '\n';
    }
    const oldTailStart = this.headEnd + this.markerLength;
    const keepFrom = lineStartAfter(this.fd, size - this.tailBytes, size);
    // Trimmed through a descriptor of its own: writes on the runner's O_APPEND one would all
    // land at the end. Opened by path, so checked to be the same file.
    const w = fs.openSync(this.file, fs.constants.O_WRONLY | fs.constants.O_NOFOLLOW);
    try {
      const a = fs.fstatSync(w);
      const b = fs.fstatSync(this.fd);
      if (a.ino !== b.ino || a.dev !== b.dev) return;
      this.cut += keepFrom - oldTailStart;
      const marker = Buffer.from(
        `${this.markerPrefix}[resumable] ${this.cut} bytes of this attempt's output cut here (maxLogBytes = ${this.maxBytes}: its first and last ${this.headBytes} bytes are kept)\n`,
      );
      const dest = this.headEnd + marker.length;
      // dest < keepFrom (SLACK_BYTES ≫ the marker's growth), so a forward copy never
      // overwrites bytes it has yet to copy.
      let end = copy(this.fd, w, keepFrom, size, dest);
      // What the unit wrote while we copied: taken along, so only a write in the instant
      // between the last look and the truncate can be lost.
      for (let i = 0; i < 8; i++) {
        const now = fs.fstatSync(this.fd).size;
        if (now <= end) break;
        copy(this.fd, w, end, now, dest + (end - keepFrom));
        end = now;
      }
      fs.writeSync(w, marker, 0, marker.length, this.headEnd);
      fs.ftruncateSync(w, dest + (end - keepFrom));
      this.markerLength = marker.length;
    } finally {
      fs.closeSync(w);
    }
  }

  private byteAt(pos: number): number | undefined {
    if (pos < 0) return undefined;
    const b = Buffer.alloc(1);
    return fs.readSync(this.fd, b, 0, 1, pos) === 1 ? b[0] : undefined;
  }
}

/** Copies [from, to) of `src` to `at` in `dst`; returns `to`. */
function copy(src: number, dst: number, from: number, to: number, at: number): number {
  const buf = Buffer.allocUnsafe(Math.min(COPY_CHUNK, Math.max(to - from, 1)));
  for (let pos = from; pos < to;) {
    const n = fs.readSync(src, buf, 0, Math.min(buf.length, to - pos), pos);
    if (n === 0) return pos;
    fs.writeSync(dst, buf, 0, n, at + (pos - from));
    pos += n;
  }
  return to;
}

/** Just after the last newline in the ALIGN_BYTES before `pos` (not before `floor`); else `pos`. */
function lineEndBefore(fd: number, pos: number, floor: number): number {
  const start = Math.max(floor, pos - ALIGN_BYTES);
  const buf = Buffer.alloc(pos - start);
  const n = fs.readSync(fd, buf, 0, buf.length, start);
  const i = buf.subarray(0, n).lastIndexOf(0x0a);
  return i >= 0 ? start + i + 1 : pos;
}

/** Just after the first newline in the ALIGN_BYTES from `pos` (not past `ceil`); else `pos`. */
function lineStartAfter(fd: number, pos: number, ceil: number): number {
  const buf = Buffer.alloc(Math.max(0, Math.min(ALIGN_BYTES, ceil - pos)));
  const n = buf.length > 0 ? fs.readSync(fd, buf, 0, buf.length, pos) : 0;
  const i = buf.subarray(0, n).indexOf(0x0a);
  return i >= 0 && pos + i + 1 < ceil ? pos + i + 1 : pos;
}

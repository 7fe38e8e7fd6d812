import * as fs from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';

/** What reading one file gave: its text, nothing there, or a refusal that says why. */
export type SafeRead =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'refused'; readonly why: string; readonly code?: string };

/** Absent or refused: what a read gives when it has nothing to hand back. */
type NotRead = Exclude<SafeRead, { kind: 'text' }>;

/** A result file bigger than this is an error: it is read whole, into the runner's memory. */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

/** The longest text Node can hold: a bigger file could not be read anyway. */
const MAX_TEXT_BYTES = bufferConstants.MAX_STRING_LENGTH;

/**
 * Reads a file only if it is a regular file of at most `maxBytes`. Anything else in the run
 * folder was planted or made by mistake, and following it is how a runner hangs or leaks:
 * a FIFO blocks `readFileSync` until a writer comes (SIGINT then goes unheard), a device
 * never ends, a symlink reads (and adopts) a file outside the run folder. So: O_NONBLOCK
 * (opening a FIFO returns at once), O_NOFOLLOW (a symlink as the last component is refused),
 * then fstat on what was opened, not on the path, so nothing can be swapped in between.
 * `why` reads after the file's name: "result.json" + " is a FIFO (named pipe), not a regular file".
 */
export function readRegularFile(file: string, o: { maxBytes?: number; what?: string } = {}): SafeRead {
  const read = readRegularBytes(file, { maxBytes: o.maxBytes ?? MAX_TEXT_BYTES, what: o.what });
  return read.kind === 'bytes' ? { kind: 'text', text: read.bytes.toString('utf8') } : read;
}

/** The same, as bytes (the unit snapshot and the items index are binary). */
export function readRegularBytes(
  file: string,
  o: { maxBytes?: number; what?: string } = {},
): { readonly kind: 'bytes'; readonly bytes: Buffer } | NotRead {
  const maxBytes = o.maxBytes ?? bufferConstants.MAX_LENGTH;
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch (e) {
    return openFailure(file, e as NodeJS.ErrnoException);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile())
      return { kind: 'refused', why: `is ${kindOf(st)}, not a regular file`, code: st.isDirectory() ? 'EISDIR' : 'ENOTREG' };
    if (st.size > maxBytes) return tooBig(st.size, maxBytes, o.what);
    const buf = readAll(fd, st.size, maxBytes);
    if (buf === undefined) return tooBig(fs.fstatSync(fd).size, maxBytes, o.what);
    return { kind: 'bytes', bytes: buf };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return { kind: 'refused', why: `could not be read: ${err.message}`, code: err.code };
  } finally {
    fs.closeSync(fd);
  }
}

/** Like readRegularFile, for callers that want an exception: undefined when absent. */
export function readRegularFileOrThrow(file: string): string | undefined {
  const r = readRegularFile(file);
  if (r.kind === 'absent') return undefined;
  if (r.kind === 'refused') throw Object.assign(new Error(`${file} ${r.why}`), { code: r.code });
  return r.text;
}

/** "a FIFO (named pipe)", "a folder"...: what a path holds when it is not a regular file. */
export function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a folder';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return st.isFile() ? 'a regular file' : 'not a file';
}

/** "1.5 MiB", "200.0 KiB", "12 bytes": sizes in messages. */
export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/** A limit as people write it: "128 KiB", "64 MiB". */
export function formatLimit(n: number): string {
  return formatBytes(n).replace(/\.0 /, ' ');
}

function openFailure(file: string, err: NodeJS.ErrnoException): NotRead {
  // ENOTDIR: a file where a folder of the path should be; nothing is there either.
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return { kind: 'absent' };
  if (err.code === 'ELOOP' || err.code === 'ENXIO') {
    // ELOOP: O_NOFOLLOW met a symlink. ENXIO: a socket (open(2) cannot open one).
    try {
      const st = fs.lstatSync(file);
      if (st.isSymbolicLink()) return { kind: 'refused', why: 'is a symbolic link; not followed', code: 'ELOOP' };
      return { kind: 'refused', why: `is ${kindOf(st)}, not a regular file`, code: 'ENOTREG' };
    } catch {
      // Gone meanwhile: report what open said.
    }
  }
  return { kind: 'refused', why: `could not be read: ${err.message}`, code: err.code };
}

function tooBig(size: number, maxBytes: number, what = 'a file read here'): NotRead {
  return { kind: 'refused', why: `is ${formatBytes(size)}; ${what} may be at most ${formatLimit(maxBytes)}`, code: 'EFBIG' };
}

/** The whole file, or undefined when it grows past `maxBytes` while being read. */
function readAll(fd: number, sizeHint: number, maxBytes: number): Buffer | undefined {
  let buf = Buffer.allocUnsafe(Math.max(Math.min(sizeHint, maxBytes) + 1, 4096));
  let len = 0;
  for (;;) {
    if (len === buf.length) {
      if (len > maxBytes) return undefined;
      const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, maxBytes + 1));
      buf.copy(bigger, 0, 0, len);
      buf = bigger;
    }
    const want = buf.length - len;
    const n = fs.readSync(fd, buf, len, want, null);
    len += n;
    // A regular file reads short only at its end: no extra read to see the end.
    if (n < want) break;
  }
  return len > maxBytes ? undefined : buf.subarray(0, len);
}

/**
 * What is at `dir` without following a symlink there: a link planted in the run folder
 * (units/, a unit folder) would have the runner write, and adopt results, outside it.
 */
export function realDir(
  dir: string,
): { readonly kind: 'dir' } | { readonly kind: 'absent' } | { readonly kind: 'refused'; readonly why: string; readonly link?: true } {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    return { kind: 'refused', why: `could not be checked: ${(e as Error).message}` };
  }
  if (st.isDirectory()) return { kind: 'dir' };
  if (st.isSymbolicLink()) return { kind: 'refused', why: `is a symbolic link${linkTarget(dir)}; not followed`, link: true };
  return { kind: 'refused', why: `is ${kindOf(st)}, not a folder` };
}

function linkTarget(p: string): string {
  try {
    return ` (to ${fs.readlinkSync(p)})`;
  } catch {
    return '';
  }
}

/**
 * Runs `fn` on a regular file opened as readRegularFile opens one (non-blocking, not through a
 * link), for the readers that look at a few bytes of it; undefined when it is absent, not a
 * regular file, or `fn` throws (those readers then fall back to reading it whole, which says why).
 */
export function peekRegularFile<T>(file: string, fn: (fd: number, st: fs.Stats) => T | undefined): T | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() ? fn(fd, st) : undefined;
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

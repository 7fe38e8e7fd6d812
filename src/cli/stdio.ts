import * as fs from 'node:fs';
import * as tty from 'node:tty';

/**
 * The CLI's stdout and stderr may go away under it: the terminal closes (writes fail with
 * EIO), or the reader of a pipe exits (`resumable status | head -1`: EPIPE). Output is a
 * courtesy, the run folder is the record: from the first failed write on, that stream's
 * output is dropped and the command goes on with its exit code unchanged.
 */

const STDIO = [0, 1, 2] as const;
let ttysAtStart: number[] = [];
const dead = new Set<NodeJS.WriteStream>();
/** Errors that are not the reader going away (a full disk under `status > file`): worth an exit 1. */
const GONE = new Set(['EPIPE', 'EIO', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);
let lost: NodeJS.ErrnoException | undefined;
let guarded = false;

export function guardStdio(): void {
  if (guarded) return;
  guarded = true;
  // Read before any stream is made: isatty is false on a terminal that has hung up, and this
  // is what tells, at exit, that it did.
  ttysAtStart = STDIO.filter((fd) => tty.isatty(fd));
  for (const s of [process.stdout, process.stderr]) {
    // Never removed: without a listener a failed write is an uncaught 'error' that kills the process.
    s.on('error', (e: NodeJS.ErrnoException) => {
      dead.add(s);
      if (s === process.stdout && !GONE.has(String(e.code))) lost ??= e;
    });
  }
  process.on('exit', closeHungUpTerminals);
}

/** A terminal on 0, 1 or 2 when the command started (not under nohup, not a batch job with every stream redirected). */
export function startedOnTerminal(): boolean {
  return ttysAtStart.length > 0;
}

/** stdout failed for a reason other than its reader going away (the output was wanted and is lost). */
export function stdoutLost(): NodeJS.ErrnoException | undefined {
  return lost;
}

export function isDead(s: NodeJS.WriteStream): boolean {
  return dead.has(s) || s.destroyed;
}

/** Writes unless the stream has failed before; a write that fails now marks it dead (via 'error'). */
export function write(s: NodeJS.WriteStream, text: string): void {
  if (isDead(s)) return;
  try {
    s.write(text);
  } catch {
    dead.add(s);
  }
}

/** Resolves once what was written to stdout and stderr has left the process (they are synchronous on Linux; not everywhere). */
export async function drained(): Promise<void> {
  for (const s of [process.stdout, process.stderr]) {
    if (isDead(s) || s.writableLength === 0) continue;
    await new Promise<void>((resolve) => {
      s.once('drain', resolve);
      s.once('error', resolve);
      s.once('close', resolve);
    });
  }
}

export const out = (text: string): void => write(process.stdout, text);
export const err = (text: string): void => write(process.stderr, text);

/**
 * Node (20.x, before nodejs/node#58200) restores each stdio terminal's modes at exit and
 * aborts (SIGABRT, exit 134, after the run had ended cleanly) when tcsetattr fails, which
 * it does with EIO on a terminal that has hung up. It skips descriptors that are closed: so
 * close the ones that were a terminal at start and are not any more. Nothing is lost: no
 * output can reach a hung-up terminal, and closing our descriptor changes nothing for
 * other processes on that terminal (there is none left to change).
 */
function closeHungUpTerminals(): void {
  for (const fd of ttysAtStart) {
    if (tty.isatty(fd)) continue;
    try {
      fs.closeSync(fd);
    } catch {
      // Already closed: Node's reset skips it as well.
    }
  }
}

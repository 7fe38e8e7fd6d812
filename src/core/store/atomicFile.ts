import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { readRegularFileOrThrow } from './safeRead';

/**
 * write-file-atomic writes a temp file, fsyncs it and renames it over the target, but never
 * fsyncs the folder: after a power cut the rename itself can be lost and the old file come
 * back. So the folder is fsynced here after the rename.
 */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', { fsync: true });
  fsyncDir(path.dirname(file));
}

/** The same for bytes or text made by the caller (the unit snapshot, the frozen config). */
export async function writeBufferAtomic(file: string, data: Buffer | string): Promise<void> {
  await writeFileAtomic(file, data, { fsync: true });
  fsyncDir(path.dirname(file));
}

/**
 * The same for a file made of parts, written in turn (never joined into one copy: a million
 * units' snapshot is tens of megabytes). The temp file is named as write-file-atomic names
 * its own (`<target>.<digits>`), so removeOrphanTemps clears one a kill left behind.
 */
export async function writePartsAtomic(file: string, parts: readonly Buffer[]): Promise<void> {
  const tmp = `${file}.${process.pid}${String(Math.floor(Math.random() * 1e6)).padStart(6, '0')}`;
  const fh = await fs.promises.open(tmp, 'w');
  try {
    try {
      for (const p of parts) for (let off = 0; off < p.length;) off += (await fh.write(p, off)).bytesWritten;
      await fh.sync();
    } finally {
      await fh.close();
    }
    // The callback form: what a test's recorder of renames (the crash model) sees.
    await new Promise<void>((resolve, reject) => fs.rename(tmp, file, (e) => (e ? reject(e) : resolve())));
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * write-file-atomic names its temp files `<target>.<number>` and leaves them behind when
 * the process is killed mid-write (seen 14 times in 30 kills). Only the lock holder calls
 * this, so no live writer's temp file is removed.
 */
export function removeOrphanTemps(dir: string, targets: readonly string[]): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (targets.some((t) => name.startsWith(t + '.') && /^\d+$/.test(name.slice(t.length + 1)))) {
      fs.rmSync(path.join(dir, name), { force: true });
      removed.push(name);
    }
  }
  return removed;
}

/**
 * Reads a JSON file; undefined when absent. Throws a message naming the file when it does not
 * parse or is not a regular file: a FIFO as state.json hung `status`, `list` and the editor.
 */
export function readJsonFile(file: string): unknown {
  const text = readRegularFileOrThrow(file);
  return text === undefined ? undefined : JSON.parse(text);
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fsyncDir } from './atomicFile';
import type { JournalRecord } from './events';

/**
 * Replaces a journal as a whole (repair, merge): a temp file written to the end and fsynced,
 * the fence checked (we still hold the lock), renamed over the journal, the folder fsynced.
 * A crash at any point leaves either the old journal or the new one, never a mix.
 */
export function rewriteJournal(file: string, records: Iterable<JournalRecord>, fence: () => void, tag: string): void {
  const tmp = `${file}.${tag}-${process.pid}`;
  const fd = fs.openSync(tmp, 'w');
  try {
    let chunk: string[] = [];
    const flush = () => {
      const buf = Buffer.from(chunk.join('\n') + '\n', 'utf8');
      // writeSync may write less than asked (a filling disk): write the rest before calling it done.
      for (let off = 0; off < buf.length;) off += fs.writeSync(fd, buf, off, buf.length - off);
      chunk = [];
    };
    for (const r of records) {
      chunk.push(JSON.stringify(r));
      if (chunk.length >= 10_000) flush();
    }
    if (chunk.length) flush();
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fence();
  dropUnitSnapshots(path.dirname(file));
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/**
 * The unit snapshots of a run folder (snapshot.bin, snapshot.<k>of<N>.bin) cover its journals
 * as they are; a journal rewritten whole makes them wrong. They are a cache of the journal
 * (nothing of the run is lost): removed, durably, before the new journal takes its place, so
 * a crash in between leaves the old journal with no snapshot, read whole on resume.
 */
function dropUnitSnapshots(dir: string): void {
  const names = fs.readdirSync(dir).filter((n) => /^snapshot(\.\d+of\d+)?\.bin$/.test(n));
  for (const n of names) fs.rmSync(path.join(dir, n), { force: true });
  if (names.length) fsyncDir(dir);
}

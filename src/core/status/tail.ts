import * as fs from 'node:fs';
import { readJournal, type JournalProblem } from '../store/journalReader';
import { applyRecord, newView, type RunView } from '../model/view';
import { restoreUnitSnapshot, type DecodedSnapshot } from '../model/unitSnapshot';
import { loadUnitSnapshot } from '../model/unitSnapshotFile';

/**
 * Follows a growing journal: each `poll()` reads only the bytes appended since the last
 * one. It starts over from byte 0 only when the file shrank or was replaced (a repair, a
 * fence, `--fresh`), which it tells by size and inode.
 */
export class JournalTail {
  private offset = 0;
  private line = 1;
  private ino: number | undefined;
  private corrupt: JournalProblem[] = [];
  private torn: number | undefined;
  view: RunView;

  /** `ids`: the run's unit ids (of this shard, for a shard's journal), in config order. */
  constructor(
    readonly file: string,
    private readonly ids: readonly string[],
  ) {
    this.view = newView(ids);
  }

  /**
   * Starts from a run's unit snapshot (every unit's state up to an offset of this journal, the
   * only one it covers) so that only the bytes after it are read; true when it was used. Any
   * doubt leaves the tail as it was: the journal is read from its start.
   */
  seed(snapshotFile: string, hash: string): boolean {
    if (this.offset > 0) return false;
    const load = loadUnitSnapshot(snapshotFile, hash, [this.file]);
    return load.kind === 'ok' && this.seedWith(load.snapshot);
  }

  /** The same from a snapshot already loaded (and checked to cover this journal). */
  seedWith(snapshot: DecodedSnapshot): boolean {
    if (this.offset > 0) return false;
    const load = { snapshot };
    // Nothing read yet (offset 0): the view is as new, and restore leaves it so when the units differ.
    if (!restoreUnitSnapshot(this.view, load.snapshot)) return false;
    const mark = load.snapshot.meta.journals[0]!;
    this.offset = mark.offset;
    this.line = mark.lines + 1;
    this.ino = fs.statSync(this.file, { throwIfNoEntry: false })?.ino;
    return true;
  }

  /** Reads what was appended; returns the number of bytes read (0: nothing new). */
  async poll(): Promise<number> {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file);
    } catch {
      if (this.offset > 0) this.reset();
      return 0;
    }
    if (st.ino !== this.ino || st.size < this.offset) {
      if (this.ino !== undefined) this.reset();
      this.ino = st.ino;
    }
    if (st.size === this.offset && this.torn === undefined) return 0;
    const from = this.offset;
    const read = await readJournal(this.file, (r) => applyRecord(this.view, r), { from, firstLine: this.line });
    this.corrupt.push(...read.corrupt);
    this.offset = read.goodLength;
    this.line = read.lines + 1;
    this.torn = read.tornTail?.bytes;
    return read.goodLength - from;
  }

  /** Damaged lines seen so far (line numbers), and the bytes of a torn last line, if any. */
  get problems(): { corrupt: readonly JournalProblem[]; tornBytes: number | undefined } {
    return { corrupt: this.corrupt, tornBytes: this.torn };
  }

  get bytesRead(): number {
    return this.offset;
  }

  private reset(): void {
    this.offset = 0;
    this.line = 1;
    this.corrupt = [];
    this.torn = undefined;
    this.view = newView(this.ids);
  }
}

import type { HeldLock } from '../store/lock';
import type { JournalWriter } from '../store/journalWriter';
import type { RunStatus } from '../store/events';
import type { RunPaths } from '../store/paths';
import * as path from 'node:path';
import { writeJsonAtomic, writePartsAtomic } from '../store/atomicFile';
import type { JournalMark } from '../store/journalMark';
import { buildSnapshot, type WorkerCounts } from '../model/snapshot';
import { encodeUnitSnapshot } from '../model/unitSnapshot';
import type { RunView } from '../model/view';
import type { JournalCoverage } from './readView';

export interface SnapshotSource {
  /** The run as opened: its folder, its view, and how far its journals were read (the run's own last). */
  readonly opened: {
    readonly paths: RunPaths;
    readonly view: RunView;
    readonly journals: readonly JournalCoverage[];
    readonly fromSnapshot: boolean;
  };
  readonly lock: HeldLock;
  readonly journal: JournalWriter;
  readonly base: Parameters<typeof buildSnapshot>[0];
  /** The run's status now (a pause is added by the writer). */
  status(): RunStatus;
  /** The run's workers now (a worker run only). */
  workers?(): WorkerCounts | undefined;
  now(): number;
  /** Says what the writer could not do but the run survives (the unit snapshot's failure). */
  note?(message: string): void;
}

/** A unit snapshot is written again once the journal grew by this share of what the last one covered (and at least UNIT_SNAPSHOT_MIN_BYTES). */
const UNIT_SNAPSHOT_GROWTH = 0.25;
const UNIT_SNAPSHOT_MIN_BYTES = 4 << 20;

function isFinalStatus(s: RunStatus): boolean {
  return s !== 'running' && s !== 'paused_rate_limit';
}

/**
 * Writes state.json once the journal holds everything it counts (invariant 2: a snapshot
 * never counts a line a crash could lose); calls made meanwhile coalesce into one more.
 * The unit snapshot (every unit's state, what resume reads instead of the whole journal)
 * goes with it when the run ends and when the journal grew by a quarter since the last.
 */
export class SnapshotWriter {
  private writing: Promise<void> | undefined;
  private again = false;
  private unitsCovered: number;
  private unitsFailed = false;

  constructor(
    private readonly src: SnapshotSource,
    private readonly onError: (e: Error) => void,
  ) {
    const own = src.opened.journals.at(-1);
    this.unitsCovered = src.opened.fromSnapshot && own ? own.offset : 0;
  }

  write(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    this.writing = this.loop().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async loop(): Promise<void> {
    const { lock, journal } = this.src;
    const { view, paths } = this.src.opened;
    do {
      this.again = false;
      if (journal.error) return;
      const offset = journal.queuedOffset;
      const status = this.src.status();
      const workers = this.src.workers?.();
      const snap = buildSnapshot(
        workers ? { ...this.src.base, workers } : this.src.base,
        view,
        view.pause && status === 'running' ? 'paused_rate_limit' : status,
        this.src.now(),
        offset,
      );
      const units = this.unitSnapshotDue(offset, status) ? encodeUnitSnapshot(view, this.src.base.hash) : undefined;
      const lines = (this.src.opened.journals.at(-1)?.lines ?? 0) + journal.appendedRecords;
      try {
        await journal.whenDurable(offset);
        lock.verify();
        await writeJsonAtomic(paths.state, snap);
        const marks = units && this.marks(offset, lines);
        if (units && marks) {
          lock.verify();
          await this.writeUnits(units(marks), offset);
        }
      } catch (e) {
        this.onError(e as Error);
        return;
      }
    } while (this.again);
  }

  /**
   * The unit snapshot is a cache: a failure to write it (a full disk) is said once and the
   * session goes on without it (the next resume reads the whole journal), unlike state.json's.
   */
  private async writeUnits(parts: Buffer[], offset: number): Promise<void> {
    try {
      await writePartsAtomic(this.src.opened.paths.unitSnapshot, parts);
      this.unitsCovered = offset;
    } catch (e) {
      this.unitsFailed = true;
      this.src.note?.(
        `Could not write the unit-state snapshot ${path.basename(this.src.opened.paths.unitSnapshot)} (${(e as Error).message}); the run goes on, and its next resume reads the whole journal.`,
      );
    }
  }

  private unitSnapshotDue(offset: number, status: RunStatus): boolean {
    if (this.unitsFailed || offset <= this.unitsCovered) return false;
    if (isFinalStatus(status)) return true;
    return offset - this.unitsCovered >= Math.max(UNIT_SNAPSHOT_MIN_BYTES, this.unitsCovered * UNIT_SNAPSHOT_GROWTH);
  }

  /** Marks of the journals the view was read from, the run's own at `offset`; undefined if one cannot be read. */
  private marks(offset: number, lines: number): ({ name: string } & JournalMark)[] | undefined {
    const read = this.src.opened.journals;
    const out: ({ name: string } & JournalMark)[] = [];
    for (let i = 0; i < read.length; i++) {
      const j = read[i]!;
      const own = i === read.length - 1;
      const mark = own ? this.src.journal.mark(offset, lines) : j.mark;
      if (!mark) return undefined;
      out.push({ name: path.basename(own ? this.src.opened.paths.journal : j.file), ...mark });
    }
    return out;
  }
}

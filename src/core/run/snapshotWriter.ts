import type { HeldLock } from '../store/lock';
import type { JournalWriter } from '../store/journalWriter';
import type { RunStatus } from '../store/events';
import type { RunPaths } from '../store/paths';
import { writeJsonAtomic } from '../store/atomicFile';
import { buildSnapshot, type WorkerCounts } from '../model/snapshot';
import type { RunView } from '../model/view';

export interface SnapshotSource {
  readonly paths: RunPaths;
  readonly view: RunView;
  readonly lock: HeldLock;
  readonly journal: JournalWriter;
  readonly base: Parameters<typeof buildSnapshot>[0];
  /** The run's status now (a pause is added by the writer). */
  status(): RunStatus;
  /** The run's workers now (a worker run only). */
  workers?(): WorkerCounts | undefined;
  now(): number;
}

/**
 * Writes state.json once the journal holds everything it counts (invariant 2: a snapshot
 * never counts a line a crash could lose); calls made meanwhile coalesce into one more.
 */
export class SnapshotWriter {
  private writing: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly src: SnapshotSource,
    private readonly onError: (e: Error) => void,
  ) {}

  write(): Promise<void> {
    if (this.writing) {
      this.again = true;
      return this.writing;
    }
    this.writing = this.loop().finally(() => (this.writing = undefined));
    return this.writing;
  }

  private async loop(): Promise<void> {
    const { view, paths, lock, journal } = this.src;
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
      try {
        await journal.whenDurable(offset);
        lock.verify();
        await writeJsonAtomic(paths.state, snap);
      } catch (e) {
        this.onError(e as Error);
        return;
      }
    } while (this.again);
  }
}

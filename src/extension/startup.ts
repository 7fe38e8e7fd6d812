import { engineLoadMs } from './engine';
import type { Log } from './log';

/** The first workspace search: its time, when it ended (performance.now()), the run folders it found. */
export interface SearchMark {
  readonly findFilesMs: number;
  readonly endedAt: number;
  readonly runs: number;
}

/**
 * How long the Experiments view took to get its first rows after activation: when they were
 * ready (the first scan's read, with its phases), and when a getChildren first returned them
 * (the view asked: it is open). With the extension host's own age, what came before us. Two
 * lines in the log, which the host suite reads.
 */
export class StartupTiming {
  private readonly started = performance.now();
  /** How long the extension host ran before it activated us (its start, other extensions, the activation event). */
  private readonly hostUpMs = Math.round(process.uptime() * 1000);
  private ready = false;
  private shown = false;

  /** `search()`: the first workspace search, once it is done (before it, rows come from the last scan's runs). */
  constructor(
    private readonly log: Log,
    private readonly search: () => SearchMark | undefined,
  ) {}

  private since(): number {
    return Math.round(performance.now() - this.started);
  }

  /** The registry first has rows for the view. */
  rowsReady(rows: number): void {
    if (this.ready) return;
    this.ready = true;
    const s = this.search();
    const engine = engineLoadMs() ?? 0;
    const phases = s
      ? `; find files ${Math.round(s.findFilesMs)} ms, load engine ${Math.round(engine)} ms, read ${s.runs} run(s) ${Math.round(performance.now() - s.endedAt - engine)} ms`
      : `; the runs of the last scan, before the workspace search (load engine ${Math.round(engine)} ms)`;
    this.log.info(
      `startup: tree rows ready (${rows}) ${this.since()} ms after activation began (extension host up ${this.hostUpMs} ms before it)${phases}`,
    );
  }

  /** A getChildren first returned rows. */
  firstRows(rows: number): void {
    if (this.shown) return;
    this.shown = true;
    this.log.info(`startup: first tree rows shown (${rows}) ${this.since()} ms after activation began`);
  }
}

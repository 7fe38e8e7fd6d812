import * as path from 'node:path';
import type { RunEvent } from '../core/run/events';
import type { ConcurrencyView, Counts, Spend } from '../core/model/view';
import { doneCount, emptyCounts } from '../core/model/view';
import { formatClock, formatDuration, progressLine, stoppingText, type StoppingFacts } from './format';
import { out, write } from './stdio';
import { termStyle, type TermStyle } from './termStyle';

type Mode = 'tty' | 'plain' | 'json';

/** A plain (not a terminal) progress line at most this often: a log, not a flood. */
const PLAIN_EVERY_MS = 5000;

/**
 * Renders a run's events: on a terminal one live line (redrawn at most every 100 ms, and
 * every second for the countdowns), fitted to its width; otherwise (not a terminal, or
 * `TERM=dumb`) plain lines every few seconds; with --json one event per line.
 */
export class ProgressRenderer {
  private counts: Counts = emptyCounts();
  private total = 0;
  private rate = 0;
  /** When the core's ETA says the run ends (wall time): shown counting down between events. */
  private endsAt: number | null = null;
  private pausedUntil: number | null = null;
  private concurrency: ConcurrencyView | null = null;
  private spend: Spend | null = null;
  private stopping: StoppingFacts | null = null;
  private started = false;
  private lastDraw = 0;
  private lastPlain = 0;
  private lineShown = false;
  private ticker: NodeJS.Timeout | undefined;
  private readonly mode: Mode;
  private readonly style: TermStyle;

  constructor(
    private readonly name: string,
    mode: Mode,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly now = () => Date.now(),
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.style = termStyle(out.isTTY === true, env);
    // A terminal that cannot move its cursor (TERM=dumb) gets what a log gets.
    this.mode = mode === 'tty' && !this.style.redraw ? 'plain' : mode;
  }

  handle(e: RunEvent): void {
    if (this.mode === 'json') {
      out(JSON.stringify({ ...e, ts: this.now() }) + '\n');
      return;
    }
    const g = this.style.glyphs;
    switch (e.type) {
      case 'note':
        return this.say(`${g.note} ${e.message}`);
      case 'start': {
        this.total = e.total;
        this.counts = { ...e.counts };
        this.started = true;
        this.ticker ??= setInterval(() => this.draw(true), 1000);
        this.ticker.unref();
        const adopted = e.adopted > 0 ? ` (${e.adopted} adopted from results on disk)` : '';
        this.say(
          `Run folder: ${shownDir(e.runDir)}\n${e.done} of ${e.total} units already done${adopted}; ${e.todo} to run, ${e.concurrency} at a time.`,
        );
        // The first plain line says where the run starts from, not 0/N: later ones come every few seconds.
        if (this.mode === 'plain') this.plainLine();
        return;
      }
      case 'progress':
        this.counts = e.counts;
        this.total = e.total;
        this.rate = e.rate;
        this.endsAt = e.etaMs === null ? null : this.now() + e.etaMs;
        this.concurrency = e.concurrency ?? null;
        this.spend = e.spend ?? null;
        return this.draw(false);
      case 'pause':
        this.pausedUntil = e.until;
        return this.say(
          `${g.pause} Rate limited (${e.why ?? e.src}): pausing all dispatching until ${formatClock(e.until)} (${formatDuration(e.until - this.now())}).`,
        );
      case 'unpause':
        this.pausedUntil = null;
        return this.say(`${g.play} Rate limit reset: dispatching again.`);
      case 'stopping':
        this.stopping = { second: e.second, inFlight: e.inFlight, graceUntil: e.graceUntil };
        // On a terminal the live line is the message, and counts the grace down.
        if (this.mode === 'tty' && this.started) return this.draw(true);
        return this.say(stoppingText(this.stopping, this.now(), g));
      case 'unit':
        if (this.stopping && this.stopping.inFlight > 0) {
          this.stopping = { ...this.stopping, inFlight: this.stopping.inFlight - 1 };
          if (this.mode === 'tty') this.draw(true);
        }
        return;
      case 'end':
        this.stopTicker();
        this.clearLine();
        return;
    }
  }

  stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  private line(width?: number): string {
    const now = this.now();
    return progressLine(
      {
        name: this.name,
        done: doneCount(this.counts),
        total: this.total,
        counts: this.counts,
        rate: this.rate,
        etaMs: this.endsAt === null ? null : Math.max(0, this.endsAt - now),
        pausedUntil: this.pausedUntil,
        now,
        concurrency: this.concurrency,
        spend: this.spend,
        stopping: this.stopping,
      },
      { width, glyphs: this.style.glyphs, color: this.style.color },
    );
  }

  private draw(tick: boolean): void {
    const now = this.now();
    if (this.mode === 'tty') {
      if (!tick && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      // One column short of the width: a line that fills the last column wraps on some terminals, and `\r` then redraws below it.
      const cols = this.out.columns || 80;
      write(this.out, `\r\x1b[2K${this.line(Math.max(1, cols - 1))}`);
      this.lineShown = true;
    } else if (now - this.lastPlain >= PLAIN_EVERY_MS) this.plainLine();
  }

  private plainLine(): void {
    this.lastPlain = this.now();
    write(this.out, this.line() + '\n');
  }

  private clearLine(): void {
    if (this.lineShown) write(this.out, '\r\x1b[2K');
    this.lineShown = false;
  }

  private say(text: string): void {
    this.clearLine();
    write(this.out, text + '\n');
    if (this.mode === 'tty' && this.started) this.draw(true);
  }
}

/** The run folder as the summary names it: relative to here when it is below here. */
function shownDir(dir: string): string {
  const rel = path.relative(process.cwd(), dir);
  return rel === '' || rel.startsWith('..') || path.isAbsolute(rel) ? dir : rel;
}

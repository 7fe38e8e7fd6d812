import type { RunEvent } from '../core/run/events';
import type { ConcurrencyView, Counts, Spend } from '../core/model/view';
import { doneCount, emptyCounts } from '../core/model/view';
import { formatClock, formatDuration, progressLine } from './format';
import { out, write } from './stdio';

type Mode = 'tty' | 'plain' | 'json';

/**
 * Renders a run's events: on a terminal one live line (redrawn at most every 100 ms and
 * every second for the pause countdown); otherwise plain lines every few seconds; with
 * --json one event per line.
 */
export class ProgressRenderer {
  private counts: Counts = emptyCounts();
  private total = 0;
  private rate = 0;
  private etaMs: number | null = null;
  private pausedUntil: number | null = null;
  private concurrency: ConcurrencyView | null = null;
  private spend: Spend | null = null;
  private lastDraw = 0;
  private lastPlain = 0;
  private lineShown = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly name: string,
    private readonly mode: Mode,
    private readonly out: NodeJS.WriteStream = process.stderr,
    private readonly now = () => Date.now(),
  ) {}

  handle(e: RunEvent): void {
    if (this.mode === 'json') {
      out(JSON.stringify({ ...e, ts: this.now() }) + '\n');
      return;
    }
    switch (e.type) {
      case 'note':
        return this.say(`· ${e.message}`);
      case 'start':
        this.total = e.total;
        this.ticker ??= setInterval(() => this.draw(true), 1000);
        this.ticker.unref();
        return this.say(
          `Run folder ${e.runDir}\n${e.done} of ${e.total} units already done; ${e.todo} to run, ${e.concurrency} at a time.`,
        );
      case 'progress':
        this.counts = e.counts;
        this.total = e.total;
        this.rate = e.rate;
        this.etaMs = e.etaMs;
        this.concurrency = e.concurrency ?? null;
        this.spend = e.spend ?? null;
        return this.draw(false);
      case 'pause':
        this.pausedUntil = e.until;
        return this.say(
          `⏸ Rate limited (${e.why ?? e.src}): pausing all dispatching until ${formatClock(e.until)} (${formatDuration(e.until - this.now())}).`,
        );
      case 'unpause':
        this.pausedUntil = null;
        return this.say('▶ Rate limit reset: dispatching again.');
      case 'stopping':
        return this.say(e.reason.startsWith('second') ? `■ ${e.reason}` : `■ ${e.reason} (Ctrl+C again to kill them now)`);
      case 'unit':
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

  private line(): string {
    return progressLine({
      name: this.name,
      done: doneCount(this.counts),
      total: this.total,
      counts: this.counts,
      rate: this.rate,
      etaMs: this.etaMs,
      pausedUntil: this.pausedUntil,
      now: this.now(),
      concurrency: this.concurrency,
      spend: this.spend,
    });
  }

  private draw(tick: boolean): void {
    const now = this.now();
    if (this.mode === 'tty') {
      if (!tick && now - this.lastDraw < 100) return;
      this.lastDraw = now;
      const cols = this.out.columns || 120;
      write(this.out, `\r\x1b[2K${this.line().slice(0, cols - 1)}`);
      this.lineShown = true;
    } else if (now - this.lastPlain >= 5000 || (tick && this.pausedUntil !== null && now - this.lastPlain >= 5000)) {
      this.lastPlain = now;
      write(this.out, this.line() + '\n');
    }
  }

  private clearLine(): void {
    if (this.lineShown) write(this.out, '\r\x1b[2K');
    this.lineShown = false;
  }

  private say(text: string): void {
    this.clearLine();
    write(this.out, text + '\n');
    if (this.mode === 'tty') this.draw(true);
  }
}

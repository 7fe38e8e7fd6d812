import { err, startedOnTerminal } from './stdio';

/** What `Interrupts` needs of a run: `Run.stop()` (first call: finish units in flight; second: kill them). */
export interface Stoppable {
  stop(): void;
  /** Journal what is in flight and the end, synchronously, before a forced exit. */
  abandon(): string | undefined;
}

/**
 * After the second interrupt the process ends this long after even if something hangs. Not
 * shorter: the wind-down (units killed, their ends journaled) takes milliseconds, but under a
 * storm of signals on a loaded machine it took over 2 s, and the exit then came without a
 * runner_end line or a summary.
 */
const FORCE_EXIT_MS = 10_000;

/**
 * Signals of a `resumable run`:
 * - SIGINT or SIGTERM once: the run stops dispatching and lets units in flight finish;
 *   twice: kills them now. Any more change nothing (the kill is already under way).
 * - SIGHUP: the terminal went away. It is one interrupt, when the runner was started on a
 *   terminal; a runner started with no terminal (nohup, a batch job) was asked not to stop
 *   on it. Node resets inherited signal dispositions at startup, so SIG_IGN from nohup is
 *   invisible here: the terminal at start is what tells.
 * - Once the run has ended, every signal is ignored: the exit code is decided. The handlers
 *   are never removed, because without one a late signal kills with the default action.
 */
export class Interrupts {
  private run: Stoppable | undefined;
  private count = 0;
  private hangups = 0;
  private exitCode: number | undefined;
  private readonly attached = startedOnTerminal();
  private note = (message: string) => err(`· ${message}\n`);

  constructor() {
    process.on('SIGINT', () => this.interrupt());
    process.on('SIGTERM', () => this.interrupt());
    process.on('SIGHUP', () => this.hangup());
  }

  /** The run to stop, and where its notes go; an interrupt that came while it was being made applies now. */
  attach(run: Stoppable, note: (message: string) => void): void {
    this.run = run;
    this.note = note;
    for (let i = 0; i < this.count; i++) run.stop();
  }

  /** The run has ended with this exit code: from now on signals change nothing. */
  ended(exitCode: number): void {
    this.exitCode ??= exitCode;
  }

  private interrupt(): void {
    if (this.exitCode !== undefined || this.count >= 2) return;
    this.count++;
    this.run?.stop();
    if (this.count === 2) {
      // The journal was flushed by stop(); a run that ends meanwhile keeps its own exit code.
      setTimeout(() => {
        const said = this.exitCode === undefined ? this.run?.abandon() : undefined;
        if (said) err(`${said}\n`);
        process.exit(this.exitCode ?? 130);
      }, FORCE_EXIT_MS).unref();
    }
  }

  private hangup(): void {
    if (this.hangups++ > 0) return;
    if (!this.attached) {
      this.note(
        'Ignoring SIGHUP: this runner was not started on a terminal (nohup, or every stream redirected), so a hangup does not stop it. Stop it with SIGINT or SIGTERM.',
      );
      return;
    }
    // A closed terminal sends SIGHUP (often more than one): it is one Ctrl+C, never the second.
    if (this.count === 0) this.interrupt();
  }
}

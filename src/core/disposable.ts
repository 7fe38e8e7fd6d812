/** The core's own small Disposable and event types, so it never needs VS Code's. */
export interface Disposable {
  dispose(): void;
}

export type Listener<T> = (value: T) => void;
export type Event<T> = (listener: Listener<T>) => Disposable;

/** Told of a listener that threw; the other listeners have been (or will be) called anyway. */
export type ListenerErrorHandler = (error: unknown) => void;

const reportToConsole: ListenerErrorHandler = (error) => {
  console.error('resumable: an event listener threw (the run goes on):', error instanceof Error ? (error.stack ?? error.message) : error);
};

export class Emitter<T> implements Disposable {
  private listeners = new Set<Listener<T>>();

  /**
   * A listener's throw must not reach the code that fires: that is the runner's scheduler,
   * where it became an unhandled rejection that ended the run, or `stop()`, which it cancelled.
   */
  constructor(private readonly onListenerError: ListenerErrorHandler = reportToConsole) {}

  readonly event: Event<T> = (listener) => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };

  /** Lets a hot path skip building an event nobody listens to. */
  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        const r: unknown = l(value);
        // An async listener's rejection would be unhandled (and end the process): report it too.
        if (r instanceof Promise) r.catch((e: unknown) => this.report(e));
      } catch (e) {
        this.report(e);
      }
    }
  }

  private report(e: unknown): void {
    try {
      this.onListenerError(e);
    } catch {
      // The reporter itself failed: nothing left to tell, and fire() must still not throw.
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}

import type { Clock, TimerHandle } from '../clock';
import type { Disposable } from '../disposable';

/** Calls `fn` every `ms` on the injected clock until disposed (a chain of timeouts: no overlap). */
export function repeat(clock: Clock, ms: number, fn: () => void): Disposable {
  let h: TimerHandle | undefined;
  let stopped = false;
  const tick = () => {
    fn();
    if (!stopped) h = clock.setTimeout(tick, ms);
  };
  h = clock.setTimeout(tick, ms);
  return {
    dispose: () => {
      stopped = true;
      if (h) clock.clearTimeout(h);
    },
  };
}

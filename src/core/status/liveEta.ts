import { etaOfView, type Eta } from '../model/eta';
import type { Snapshot } from '../model/snapshot';
import type { RunView } from '../model/view';

/**
 * state.json is rewritten every second by a working runner; past this it may be a runner
 * that is wedged or gone, whose figure would be frozen: the journal is used instead.
 */
export const SNAPSHOT_FRESH_MS = 5000;

/**
 * The rate and ETA a reader shows. While the run's runner works and its state.json is fresh,
 * the runner's own figure, counted down by the time since it was written: the CLI's live
 * line, `status` and the tree then show one ETA, not three estimates from three moments.
 * Otherwise the same estimate over the journal read here.
 */
export function readerEta(
  view: RunView,
  snapshot: Snapshot | undefined,
  runner: { readonly pid: number; readonly host: string; readonly alive: boolean } | null,
  now: number,
): Eta {
  const age = snapshot ? now - snapshot.heartbeat : Infinity;
  const fresh =
    snapshot !== undefined &&
    runner?.alive === true &&
    snapshot.pid === runner.pid &&
    snapshot.host === runner.host &&
    age >= -SNAPSHOT_FRESH_MS &&
    age <= SNAPSHOT_FRESH_MS &&
    typeof snapshot.rate === 'number';
  if (!fresh) return etaOfView(view, now);
  const etaMs = typeof snapshot.etaMs === 'number' ? Math.max(0, snapshot.etaMs - Math.max(0, age)) : null;
  return { rate: snapshot.rate, etaMs };
}

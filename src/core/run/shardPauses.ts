import type { RunView } from '../model/view';
import { pauseOfOtherShards } from '../shard/sharedPause';
import type { RunPaths } from '../store/paths';
import type { Scheduler } from './scheduler';

/**
 * Shards share the API key: a pause another shard took holds here too, before the next
 * dispatch. Its `until` already has the buffer, so the reset passed on is `until` less the
 * buffer: this shard resumes at the same time.
 */
export function honourOtherShards(paths: RunPaths, view: RunView, scheduler: Scheduler, bufferSeconds: number, now: number): void {
  const other = pauseOfOtherShards(paths, now);
  if (!other || other.until <= (view.pause?.until ?? 0)) return;
  scheduler.rateLimited(other.until - bufferSeconds * 1000, `shard ${other.shard}`, other.why ?? `rate limited (${other.src})`);
}

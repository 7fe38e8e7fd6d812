import type { Clock } from '../clock';
import type { RunView } from '../model/view';
import { LIVE_SHARD_MS, otherShards, pauseOfOtherShards, publishPause, type SharedPause } from '../shard/sharedPause';
import type { RunPaths } from '../store/paths';
import type { Scheduler } from './scheduler';
import { NO_FLEET, type FleetFacts, type Throttle } from './throttle';

/** With a spend limit the others' files are read again before a dispatch once they are this old. */
const BUDGET_READ_MS = 100;

/**
 * The shards of one run act as one fleet through their files in the run folder
 * (README, "Rate limits across shards"): a pause or an adaptive cut one shard takes holds for
 * the others; per-minute budgets are split over the live shards; spend is summed.
 */
export class Fleet {
  private others: SharedPause[] = [];
  private readAt = -Infinity;
  private readonly seenCuts = new Map<string, number>();
  private lastCutAt: number | undefined;
  private publishing = false;
  private again = false;

  constructor(
    private readonly paths: RunPaths,
    private readonly view: RunView,
    private readonly clock: Clock,
    private readonly budgeted: boolean,
    private readonly inFlight: () => number,
    private readonly onError: (e: Error) => void,
    /** This shard's measured goodput (units a second), when it has one. */
    private readonly goodput: () => number | undefined = () => undefined,
  ) {}

  get sharded(): boolean {
    return this.paths.shard !== undefined;
  }

  /** What the other shards said (re-read when stale: every second, or sooner under a spend limit). */
  facts(): FleetFacts {
    if (!this.sharded) return NO_FLEET;
    const now = this.clock.now();
    if (this.budgeted && now - this.readAt > BUDGET_READ_MS) this.read(now);
    let live = 1;
    let usd = 0;
    let tokens = 0;
    let inFlight = 0;
    let goodput = 0;
    for (const o of this.others) {
      const alive = o.live !== false && (o.heartbeat ?? o.ts) > now - LIVE_SHARD_MS;
      if (alive) {
        live++;
        inFlight += o.inFlight ?? 0;
        goodput += o.goodput ?? 0;
      }
      usd += o.spend?.usd ?? 0;
      tokens += o.spend?.tokens ?? 0;
    }
    return { liveShards: live, others: { usd, tokens, inFlight, goodput } };
  }

  /** Every second: read the others, follow their pauses and cuts, say what this shard is doing. */
  follow(scheduler: Scheduler, throttle: Throttle | undefined): void {
    if (!this.sharded) return;
    const now = this.clock.now();
    this.read(now);
    const other = pauseOfOtherShards(this.paths, now, this.others);
    if (other && other.until > (this.view.pause?.until ?? 0)) {
      // Its `until` already has the buffer: this shard resumes at the same time.
      scheduler.pauseUntil(other.until, `shard ${other.shard}`, other.why ?? `rate limited (${other.src})`);
    }
    for (const o of this.others) {
      if (o.cutAt === undefined || o.cutAt <= (this.seenCuts.get(o.shard) ?? 0)) continue;
      this.seenCuts.set(o.shard, o.cutAt);
      if (o.cutAt > now - LIVE_SHARD_MS && throttle?.adaptive.cutByFleet(this.clock.monotonic())) scheduler.poke();
    }
    scheduler.poke();
    void this.publish(true);
  }

  /** This shard met a rate limit and cut. */
  cut(): void {
    this.lastCutAt = this.clock.now();
    void this.publish(true);
  }

  /** Writes this shard's file; calls made while one is being written coalesce into one more. */
  publish(live: boolean): Promise<void> {
    if (!this.sharded) return Promise.resolve();
    if (this.publishing) {
      this.again = true;
      return Promise.resolve();
    }
    this.publishing = true;
    const write = async (): Promise<void> => {
      do {
        this.again = false;
        const now = this.clock.now();
        const pause = this.view.pause;
        await publishPause(this.paths, {
          until: pause?.until ?? 0,
          src: pause?.src ?? '',
          ...(pause?.why !== undefined ? { why: pause.why } : {}),
          ts: now,
          heartbeat: now,
          live,
          ...(this.lastCutAt !== undefined ? { cutAt: this.lastCutAt } : {}),
          spend: { ...this.view.spend },
          inFlight: live ? this.inFlight() : 0,
          ...(live && this.goodput() !== undefined ? { goodput: this.goodput() } : {}),
        });
      } while (this.again);
    };
    return write()
      .catch((e: Error) => this.onError(e))
      .finally(() => (this.publishing = false));
  }

  private read(now: number): void {
    this.others = otherShards(this.paths);
    this.readAt = now;
  }
}

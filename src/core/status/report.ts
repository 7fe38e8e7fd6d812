import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Clock } from '../clock';
import type { Unit } from '../config/units';
import { isUserError, UserError } from '../errors';
import { LOCK_STALE_MS, lockHeartbeat, readLock } from '../store/lock';
import { RunPaths, type Shard } from '../store/paths';
import { readLayout, shardCounts } from '../shard/layout';
import { shardOf } from '../shard/partition';
import { aggregateShards, type ShardReport } from './shards';
import { isAlive } from '../store/process';
import { readFrozen, readFrozenHead, unitsOfFrozen, type FrozenExperiment, type FrozenHead } from '../model/frozen';
import { idsOf, type DecodedSnapshot } from '../model/unitSnapshot';
import { loadUnitSnapshot } from '../model/unitSnapshotFile';
import { readSnapshot, type Snapshot } from '../model/snapshot';
import { doneCount, projectedSpend, type RunView } from '../model/view';
import { cellGroups, countGroups, groupUnits, type Grouping } from './groupBy';
import { reportStatus } from './runStatus';
import { budgetOf, liveSnapshotConcurrency, spendOrNull } from './spendAndConcurrency';
import { JournalTail } from './tail';
import type { ReportOptions, RunReport } from './reportTypes';
import { readerEta } from './liveEta';

export type { ReportOptions, RunReport } from './reportTypes';

interface ShardTail {
  readonly shard: Shard;
  readonly tail: JournalTail;
  readonly paths: RunPaths;
}

/**
 * A run folder being followed: the frozen config is read once, the journal tailed. The
 * CLI's `status` makes one and reads once; the extension keeps one per run and polls it.
 */
export class RunFollower {
  /** The run's unit ids in config order (from the unit snapshot when there is one: no frozen item is read for them). */
  readonly ids: readonly string[];
  /** The frozen config without its items: what a report shows of the run. */
  readonly head: FrozenHead;
  private made: { frozen?: FrozenExperiment; units?: readonly Unit[] } = {};
  private readonly tail: JournalTail;
  private readonly paths: RunPaths;
  /** Shard count in the folder (0: not sharded), each shard's tail, and each unit's shard. */
  private n = 0;
  private shardTails: ShardTail[] = [];
  private shardOfUnit = new Uint32Array(0);
  private layoutNote: string | undefined;
  private merged: RunView | undefined;
  /** The last grouping asked for: made once per key, not on every poll of a million units. */
  private grouping: { key: string; g: Grouping; note?: string } | undefined;

  /**
   * From the whole frozen config, or (`open` of a run with a unit snapshot) from its head and
   * the snapshot: then the frozen items are read only if something asks for `units` or `frozen`.
   */
  constructor(
    readonly runDir: string,
    from: FrozenExperiment | { head: FrozenHead; snapshot: DecodedSnapshot },
  ) {
    this.paths = new RunPaths(runDir);
    if ('snapshot' in from) {
      this.head = from.head;
      this.ids = idsOf(from.snapshot);
      this.tail = new JournalTail(this.paths.journal, this.ids);
      this.tail.seedWith(from.snapshot);
    } else {
      this.head = from;
      this.made = { frozen: from, units: unitsOfFrozen(from) };
      this.ids = this.made.units!.map((u) => u.id);
      this.tail = new JournalTail(this.paths.journal, this.ids);
      // A run's own snapshot (not a shard's: it counts the whole run's journal too): only the journal after it is read.
      this.tail.seed(this.paths.unitSnapshot, from.hash);
    }
  }

  static open(runDir: string): RunFollower {
    const paths = new RunPaths(runDir);
    const head = readFrozenHead(paths.experiment);
    const load = head && loadUnitSnapshot(paths.unitSnapshot, head.hash, [paths.journal]);
    if (head && load?.kind === 'ok') return new RunFollower(runDir, { head, snapshot: load.snapshot });
    return new RunFollower(runDir, readFrozenOf(runDir));
  }

  /** The whole frozen config, items too (read when first asked for). */
  get frozen(): FrozenExperiment {
    return (this.made.frozen ??= readFrozenOf(this.runDir));
  }

  /** Every unit, in config order (made from the frozen items when first asked for). */
  get units(): readonly Unit[] {
    return (this.made.units ??= unitsOfFrozen(this.frozen));
  }

  /** Every unit's status; for a sharded run, each from its own shard's journal. */
  get view(): RunView {
    if (this.n === 0) return this.tail.view;
    if (!this.merged) {
      const agg = aggregateShards(this.ids, this.shardOfUnit, this.tail.view, this.n, this.shardInputs(Date.now()), Date.now());
      this.merged = { ...this.tail.view, units: agg.units, counts: agg.counts, spend: agg.spend };
    }
    return this.merged;
  }

  /** Reads new journal bytes (every shard's); returns how many (0: nothing changed). */
  async poll(): Promise<number> {
    const changed = this.syncShards();
    let bytes = await this.tail.poll();
    for (const s of this.shardTails) bytes += await s.tail.poll();
    if (bytes > 0 || changed) this.merged = undefined;
    return bytes + (changed ? 1 : 0);
  }

  /** Follows the shards the folder holds now (they appear as shards start, and go when merged). */
  private syncShards(): boolean {
    const counts = shardCounts(readLayout(this.runDir));
    // Mixed counts are refused by the runner; should a folder hold them anyway, show the larger set.
    const n = counts.length === 0 ? 0 : Math.max(...counts);
    this.layoutNote =
      counts.length > 1 ? `files of shards of ${counts.join(' and ')} in one run folder: showing the ${n} shards` : undefined;
    if (n === this.n) return false;
    this.n = n;
    this.shardOfUnit = new Uint32Array(this.ids.length);
    this.ids.forEach((id, i) => (this.shardOfUnit[i] = n === 0 ? 0 : shardOf(id, n)));
    this.shardTails = Array.from({ length: n }, (_, i) => {
      const shard = { k: i + 1, n };
      const paths = new RunPaths(this.runDir, shard);
      return {
        shard,
        paths,
        tail: new JournalTail(
          paths.journal,
          this.ids.filter((_, j) => this.shardOfUnit[j] === i + 1),
        ),
      };
    });
    return true;
  }

  private shardInputs(now: number) {
    return this.shardTails.map((s) => ({
      k: s.shard.k,
      view: s.tail.bytesRead > 0 ? s.tail.view : undefined,
      runner: runnerOf(s.paths.lock, now),
    }));
  }

  /**
   * Each unit's group under `by` (matrix cell when absent), in config order. Throws the
   * UserError of an unknown key unless `unknownBy` is `cell`.
   */
  groupsOf(o: ReportOptions = {}): Grouping {
    return this.groupingFor(o).g;
  }

  private groupingFor(o: ReportOptions): { g: Grouping; note?: string } {
    const by = o.by?.trim() ?? '';
    const key = `${by}\n${o.unknownBy ?? 'error'}`;
    if (this.grouping?.key === key) return this.grouping;
    let made: { g: Grouping; note?: string };
    try {
      // By matrix cell needs no item: it follows from a unit's place in the config order.
      made = { g: (by === '' && cellGroups(this.head.config.matrix, this.ids.length)) || groupUnits(this.units, by) };
    } catch (e) {
      if (!isUserError(e)) throw e;
      // Named by its run folder: `status --by` over every run below a folder says which one lacks the key.
      if (o.unknownBy !== 'cell')
        throw new UserError(e.detail, { file: path.relative(process.cwd(), this.runDir) || this.runDir }, e.hints);
      made = {
        g: cellGroups(this.head.config.matrix, this.ids.length) || groupUnits(this.units, ''),
        note: `no unit has ${JSON.stringify(by)} to group by: grouped by matrix cell`,
      };
    }
    this.grouping = { key, ...made };
    return made;
  }

  report(clock: Clock, o: ReportOptions = {}): RunReport {
    if (this.n > 0) return this.shardedReport(clock, o);
    const { view, ids, head: frozen } = this;
    const grouping = this.groupingFor(o);
    const notes: string[] = grouping.note ? [grouping.note] : [];
    const { corrupt, tornBytes } = this.tail.problems;
    if (tornBytes) notes.push(`torn last journal line dropped (${tornBytes} bytes)`);
    for (const c of corrupt.slice(0, 5)) notes.push(`damaged journal line ${c.line} skipped`);
    if (corrupt.length > 5) notes.push(`${corrupt.length - 5} more damaged lines skipped`);
    const { snapshot, problem } = readSnapshot(this.paths.state);
    if (problem) notes.push(problem);
    const now = clock.now();
    const runner = withSnapshotBeat(runnerOf(this.paths.lock, now), snapshot, now);
    const reconciled = reportStatus({
      journal: view.lastStatus,
      snapshot: snapshot?.status,
      runnerAlive: runner?.alive === true,
      runnerEnded: view.runnerEnded === true,
      done: doneCount(view.counts),
      total: ids.length,
    });
    const status = reconciled.status;
    if (reconciled.note) notes.push(reconciled.note);
    const table = view.units;
    // The view holds the config's units in their order: by index, no lookup or object per unit.
    const at = (i: number) => (table.ids[i] === ids[i] ? i : table.indexOf(ids[i]!));
    const groups = countGroups(
      grouping.g,
      (i) => table.statusAt(at(i)),
      (i) => table.spendAt(at(i)),
    );
    const { rate, etaMs } = readerEta(view, snapshot, runner, now);
    const live = status === 'running' || status === 'paused_rate_limit';
    const paused = live && view.pause !== undefined && view.pause.until > now;
    return {
      runDir: this.runDir,
      name: frozen.name,
      hash: frozen.hash,
      experimentFile: frozen.experimentFile,
      status: paused ? 'paused_rate_limit' : status,
      total: ids.length,
      done: doneCount(view.counts),
      counts: { ...view.counts },
      groups,
      ...(grouping.g.key ? { groupBy: grouping.g.key } : {}),
      rateLimitedUntil: paused || status === 'paused_rate_limit' ? (view.pause?.until ?? snapshot?.rateLimitedUntil ?? null) : null,
      pauseSource: view.pause?.src ?? null,
      pauseCount: view.pauseCount,
      runner,
      rate: live ? rate : 0,
      etaMs: live ? etaMs : null,
      lastActivity: view.lastTs ?? null,
      notes,
      shards: [],
      // Only while a runner works: a parked run keeps its status, not a limit in force.
      concurrency: live && runner?.alive === true ? (view.concurrency ?? liveSnapshotConcurrency(snapshot, runner)) : null,
      spend: spendOrNull(view.spend),
      projected: projectedSpend(view) ?? null,
      budget: budgetOf(snapshot?.budget, frozen.config.budget),
      workers: live && runner?.alive === true && snapshot?.workers && snapshot.pid === runner.pid ? { ...snapshot.workers } : null,
    };
  }

  private shardedReport(clock: Clock, o: ReportOptions): RunReport {
    const now = clock.now();
    const grouping = this.groupingFor(o);
    const agg = aggregateShards(this.ids, this.shardOfUnit, this.tail.view, this.n, this.shardInputs(now), now);
    this.merged = { ...this.tail.view, units: agg.units, counts: agg.counts, spend: agg.spend };
    const notes: string[] = this.layoutNote ? [this.layoutNote] : [];
    if (grouping.note) notes.push(grouping.note);
    for (const t of [
      { tail: this.tail, name: 'journal.jsonl' },
      ...this.shardTails.map((s) => ({ tail: s.tail, name: `journal.${s.shard.k}of${s.shard.n}.jsonl` })),
    ]) {
      const { corrupt, tornBytes } = t.tail.problems;
      if (tornBytes) notes.push(`${t.name}: torn last line dropped (${tornBytes} bytes)`);
      for (const c of corrupt.slice(0, 5)) notes.push(`${t.name}: damaged line ${c.line} skipped`);
    }
    for (const s of agg.shards)
      if (s.stale)
        notes.push(`shard ${s.k}/${s.n} on ${s.host ?? '?'} is stale: no heartbeat for ${Math.round((s.heartbeatAgeMs ?? 0) / 1000)} s`);
    const groups = countGroups(
      grouping.g,
      (i) => agg.units.statusAt(i),
      (i) => agg.units.spendAt(i),
    );
    const done = doneCount(agg.counts);
    const live = agg.status === 'running' || agg.status === 'paused_rate_limit';
    const views = [this.tail.view, ...this.shardTails.map((s) => s.tail.view)];
    const lastTs = Math.max(...views.map((v) => v.lastTs ?? 0));
    const pause = views
      .map((v) => v.pause)
      .filter((p) => p !== undefined)
      .sort((a, b) => b.until - a.until)[0];
    return {
      runDir: this.runDir,
      name: this.head.name,
      hash: this.head.hash,
      experimentFile: this.head.experimentFile,
      status: agg.status,
      total: this.ids.length,
      done,
      counts: agg.counts,
      groups,
      ...(grouping.g.key ? { groupBy: grouping.g.key } : {}),
      rateLimitedUntil: agg.rateLimitedUntil,
      pauseSource: agg.rateLimitedUntil !== null ? (pause?.src ?? null) : null,
      pauseCount: views.reduce((a, v) => a + v.pauseCount, 0),
      runner: null,
      rate: live ? agg.rate : 0,
      etaMs: live && agg.rate > 0 ? ((this.ids.length - done) / agg.rate) * 1000 : null,
      lastActivity: lastTs > 0 ? lastTs : null,
      notes,
      shards: agg.shards,
      concurrency: live ? agg.concurrency : null,
      spend: spendOrNull(agg.spend),
      projected: projectedSpend(this.merged) ?? null,
      budget: budgetOf(this.liveShardBudget(agg.shards), this.head.config.budget),
      workers: null,
    };
  }

  /** The budget a live shard's runner started with (state.json of the first one), so a raised budget shows at once. */
  private liveShardBudget(shards: readonly ShardReport[]): Snapshot['budget'] | undefined {
    const k = shards.find((s) => s.state === 'running' || s.state === 'paused')?.k;
    const s = k === undefined ? undefined : this.shardTails[k - 1];
    if (!s) return undefined;
    try {
      return readSnapshot(s.paths.state).snapshot?.budget;
    } catch {
      // A newer version's state file: the frozen config's budget is shown.
      return undefined;
    }
  }
}

/**
 * The lock's heartbeat is touched every 15 s; the same runner's state.json every second. Its
 * age is the one shown, so a working runner does not look 14 s stale (whether it is alive
 * still comes from the lock alone).
 */
function withSnapshotBeat(runner: RunReport['runner'], snapshot: Snapshot | undefined, now: number): RunReport['runner'] {
  if (!runner || !snapshot || snapshot.pid !== runner.pid || snapshot.host !== runner.host) return runner;
  const age = Math.max(0, now - snapshot.heartbeat);
  return runner.heartbeatAgeMs === null || age < runner.heartbeatAgeMs ? { ...runner, heartbeatAgeMs: age } : runner;
}

function runnerOf(lockFile: string, now: number): RunReport['runner'] {
  const lock = readLock(lockFile);
  if (!lock) return null;
  const beat = lockHeartbeat(lockFile);
  const alive = lock.host === os.hostname() ? isAlive(lock.pid, lock.pst) : beat !== undefined && now - beat < LOCK_STALE_MS;
  return { pid: lock.pid, host: lock.host, heartbeatAgeMs: beat === undefined ? null : now - beat, alive };
}

export async function readRunReport(runDir: string, clock: Clock, o: ReportOptions = {}): Promise<RunReport> {
  const f = RunFollower.open(runDir);
  await f.poll();
  return f.report(clock, o);
}

/** Run folders under a folder of run folders (`.resumable/`). */
export function listRunDirs(runRoot: string): string[] {
  try {
    return fs
      .readdirSync(runRoot)
      .map((n) => path.join(runRoot, n))
      .filter((d) => fs.existsSync(path.join(d, 'experiment.json')));
  } catch {
    return [];
  }
}

function readFrozenOf(runDir: string): FrozenExperiment {
  const frozen = readFrozen(new RunPaths(runDir).experiment);
  if (!frozen) throw new UserError('Expected a run folder with an experiment.json', { file: runDir });
  return frozen;
}

import * as os from 'node:os';
import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { JOURNAL_SCHEMA_VERSION, type JournalRecord } from '../store/events';
import type { OpenedRun } from './openRun';
import { planRun, type Plan } from './plan';
import type { Subset } from './subset';
import { adoptFromDisk, settleOrphans } from './recover';

export interface SessionFlags {
  readonly argv?: readonly string[];
  readonly shardSource?: string;
  readonly retryErrors?: boolean;
  readonly retryFailed?: boolean;
  /** `--limit`, `--only`, `--unit`, resolved (src/core/run/subset.ts). */
  readonly subset?: Subset;
}

/**
 * A runner's first journal lines, in the order a resume depends on: the header (a new
 * journal), the previous runner's orphans settled (what they finish is adopted below), this
 * runner's start, the results on disk the journal missed, and the units requeued by the
 * flags. Returns what is left to run, and how many results on disk were adopted.
 */
export async function beginSession(
  exp: LoadedExperiment,
  opened: OpenedRun,
  clock: Clock,
  flags: SessionFlags,
  out: { record: (r: JournalRecord) => void; note: (m: string) => void },
): Promise<Plan & { readonly adopted: number }> {
  const { paths, view } = opened;
  if (opened.journalLength === 0) {
    out.record({
      t: 'header',
      schemaVersion: JOURNAL_SCHEMA_VERSION,
      run: paths.root.split(/[\\/]/).pop()!,
      hash: exp.hash,
      shard: paths.shard ? `${paths.shard.k}of${paths.shard.n}` : undefined,
      ts: clock.now(),
    });
  }
  const orphanNote = await settleOrphans(paths, view, clock, exp.config.graceSeconds * 1000);
  if (orphanNote) out.note(orphanNote);
  out.record({
    t: 'runner_start',
    ts: clock.now(),
    pid: process.pid,
    host: os.hostname(),
    flags: flags.argv ? [...flags.argv] : undefined,
  });
  if (paths.shard)
    out.note(
      `Shard ${paths.shard.k} of ${paths.shard.n}${flags.shardSource ? ` (from ${flags.shardSource})` : ''}: ${view.units.size} of ${exp.units.length} units.`,
    );
  const found = adoptFromDisk(exp, paths, view, clock.now());
  for (const a of found.adopted) out.record(a);
  for (const n of found.notes) out.note(n);
  const plan = planRun(exp, view, { retryErrors: flags.retryErrors, retryFailed: flags.retryFailed, subset: flags.subset });
  if (flags.subset) {
    // Units asked for by name that have their outcome already are said: silence looked like a typo.
    const todo = new Set(plan.todo.map((u) => u.id));
    const done = flags.subset.ids ? [...flags.subset.ids].filter((id) => !todo.has(id) && view.units.has(id)) : [];
    const already = done.length
      ? ` ${done.length} asked for ${done.length === 1 ? 'has' : 'have'} an outcome already, not run again (${done.slice(0, 3).join(', ')}${done.length > 3 ? ', …' : ''}; --retry-errors or --retry-failed runs it again).`
      : '';
    out.note(
      `Subset (${flags.subset.flags}): ${plan.todo.length} of the ${plan.todo.length + plan.leftOut} unit(s) that would run; the other ${plan.leftOut} are left as they are.${already}`,
    );
  }
  if (plan.requeue.length > 0) out.record({ t: 'requeue', ts: clock.now(), u: plan.requeue, why: plan.requeueWhy });
  return { ...plan, adopted: found.adopted.length };
}

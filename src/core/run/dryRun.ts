import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { applyRecord, doneCount, newView, type RunView } from '../model/view';
import { RunPaths, type Shard } from '../store/paths';
import { driftError, otherRuns } from './drift';
import type { DryRunCommand, RunSummary } from './events';
import { openRun } from './openRun';
import { planRun } from './plan';
import { findAdoptable, notAdoptedNote } from './recover';
import { checkResultLinks } from './beforeRun';
import { ResultFiles } from '../exec/resultFiles';
import type { AdoptRecord } from '../store/events';
import type { Unit } from '../config/units';
import { unitCommand } from '../exec/processExecutor';
import { workerCommand } from '../exec/workerEnv';
import type { Subset } from './subset';

/**
 * `run --dry-run`: what would run, be skipped, adopted or retried, and why. Writes nothing.
 * With `fresh`, what `run --fresh` would do: archive the previous state (said in notes), then
 * start from a run folder with no journal and no unit folders.
 */
export async function dryRun(
  exp: LoadedExperiment,
  o: {
    shard?: Shard;
    clock: Clock;
    retryErrors?: boolean;
    retryFailed?: boolean;
    fresh?: boolean;
    subset?: Subset;
    /** List the unit ids of each reason (`--verbose`). */
    ids?: boolean;
    note: (m: string) => void;
  },
): Promise<RunSummary> {
  // Refused as the run refuses it, before anything else (a misspelt pass field is refused by findAdoptable below).
  checkResultLinks(exp);
  // With fresh, openRun refuses what `run --fresh` refuses (a shard, a live runner of a run it
  // would archive) and not the drift that --fresh is the way out of.
  const opened = await openRun(exp, { readOnly: true, fresh: o.fresh, shard: o.shard, clock: o.clock });
  for (const n of opened.notes) o.note(n);
  let view = opened.view;
  let adopt: AdoptRecord[];
  if (o.fresh) {
    for (const n of freshNotes(exp, opened.paths, view)) o.note(n);
    view = newView(exp.units.map((u) => u.id));
    // --fresh archives the unit folders, and moves the results of the user's own layout into
    // archive/results/: nothing is adopted; what is in that layout is said.
    const moved = new ResultFiles(exp, opened.paths).ownLayout
      ? findAdoptable(exp, opened.paths, view, o.clock.now(), { firstRun: !fs.existsSync(opened.paths.journal) }).length
      : 0;
    if (moved > 0)
      o.note(
        `--fresh would move ${moved} result(s) kept in the experiment's own layout into ${path.relative(opened.paths.root, opened.paths.archive)}/results/ and run their units again.`,
      );
    adopt = [];
  } else {
    const skipped = notAdoptedNote();
    const firstRun = !fs.existsSync(opened.paths.journal);
    adopt = findAdoptable(exp, opened.paths, view, o.clock.now(), { notAdopted: skipped.collect, firstRun });
    const skippedNote = skipped.note();
    if (skippedNote) o.note(skippedNote);
  }
  for (const a of adopt) applyRecord(view, a);
  const plan = planRun(exp, view, { retryErrors: o.retryErrors, retryFailed: o.retryFailed, subset: o.subset, ids: o.ids });
  return {
    status: 'dry_run',
    exitCode: 0,
    runDir: opened.paths.root,
    total: view.units.size,
    counts: { ...view.counts },
    rateLimitedUntil: null,
    plan: {
      run: plan.todo.map((u) => u.id),
      skip: view.units.size - plan.todo.length - plan.leftOut,
      adopt: adopt.map((a) => a.u),
      retry: plan.requeue,
      reasons: plan.reasons,
      leftOut: plan.leftOut,
      commands: commandsOf(exp, opened.paths, view, plan.todo, plan.requeue),
      ...(plan.idsByReason ? { idsByReason: plan.idsByReason } : {}),
    },
  };
}

/** What `--fresh` would move into archive/, in the words its real run uses. */
function freshNotes(exp: LoadedExperiment, paths: RunPaths, view: RunView): string[] {
  const notes: string[] = [];
  for (const other of otherRuns(exp, paths.root)) {
    // The fields that changed, as the refusal without --fresh lists them (its ways forward left out).
    let changed: readonly string[] = [];
    try {
      const hints = driftError(exp, other).hints;
      changed = hints.slice(0, Math.max(0, hints.indexOf('Ways forward:')));
    } catch {
      // Its frozen config is damaged: no diff to show; the archive goes ahead all the same.
    }
    notes.push(
      `--fresh would archive the previous run ${path.basename(other.dir)} (made from another config) into ${path.relative(exp.dir, paths.archive)}/.` +
        (changed.length ? ` Changed since:\n${changed.join('\n')}` : ''),
    );
  }
  if (fs.existsSync(paths.experiment)) {
    const names = fs
      .readdirSync(paths.root)
      .filter((n) => n !== 'archive' && !n.startsWith('lock'))
      .sort();
    const done = doneCount(view.counts);
    notes.push(
      `--fresh would archive the previous state (${names.join(', ')}; ${done} of ${view.units.size} units with an outcome) into ${path.relative(paths.root, paths.archive)}/<timestamp>/, then start over.`,
    );
  }
  if (notes.length === 0) notes.push('--fresh: no previous run state, nothing to archive.');
  return notes;
}

/** Units whose command is shown: enough to check the placeholders, not a wall of text. */
export const COMMANDS_SHOWN = 3;

/**
 * What the first units would start, resolved as their attempts will resolve it (the same
 * functions), or the first worker's command when a worker serves the units. A handler run
 * (no command) shows none.
 */
function commandsOf(
  exp: LoadedExperiment,
  paths: RunPaths,
  view: RunView,
  todo: readonly Unit[],
  requeue: readonly string[],
): DryRunCommand[] {
  const own = (pairs: readonly (readonly [string, string])[]) => Object.fromEntries(pairs);
  if (todo.length === 0) return [];
  if (exp.templates.worker) {
    const w = workerCommand(exp, paths, 0);
    return [{ worker: 0, argv: w.argv, cwd: w.cwd, env: own(w.own) }];
  }
  if (exp.templates.command.length === 0) return [];
  const results = new ResultFiles(exp, paths);
  const again = new Set(requeue);
  return todo.slice(0, COMMANDS_SHOWN).map((u) => {
    // The attempt it would be: a requeue starts the budget over.
    const attempt = again.has(u.id) ? 1 : (view.units.get(u.id)?.attempts ?? 0) + 1;
    const c = unitCommand(exp, paths, u, attempt, results);
    return { unit: u.id, argv: c.argv, cwd: c.cwd, env: own(c.own) };
  });
}

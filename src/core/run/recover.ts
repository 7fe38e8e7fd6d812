import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep, type Clock } from '../clock';
import { unitsByPlace } from './unitsByPlace';
import type { LoadedExperiment } from '../config/load';
import { adoptedFacts, judgeResult } from '../exec/outcome';
import { unitFolderName } from '../ids';
import type { AdoptRecord } from '../store/events';
import { UserError } from '../errors';
import type { RunPaths } from '../store/paths';
import { findRunProcesses, isAlive, killGroup } from '../store/process';
import { realDir } from '../store/safeRead';
import { ResultFiles } from '../exec/resultFiles';
import type { RunView } from '../model/view';

/**
 * Unit processes of a dead runner that still run (it was SIGKILLed; its children were not).
 * They are given `graceMs` to finish — what they write is then adopted — and killed after:
 * never two processes of one unit.
 */
export async function settleOrphans(paths: RunPaths, view: RunView, clock: Clock, graceMs: number): Promise<string | undefined> {
  const tag = paths.shard ? `${paths.shard.k}of${paths.shard.n}` : '-';
  const groups = new Map<number, () => boolean>();
  for (const p of findRunProcesses(paths.root, tag)) groups.set(p.pgid, () => isAlive(p.pid));
  // Only units with an attempt in flight have a pid: no walk over a million finished ones.
  for (const [i, { pid, pst }] of view.units.inFlight) {
    if (view.units.statusAt(i) === 'running' && pid !== undefined && isAlive(pid, pst)) groups.set(pid, () => isAlive(pid, pst));
  }
  if (groups.size === 0) return undefined;
  const deadline = clock.now() + graceMs;
  const alive = () => [...groups.values()].some((f) => f());
  while (alive() && clock.now() < deadline) await sleep(clock, 50);
  const left = [...groups.entries()].filter(([, f]) => f());
  for (const [pgid] of left) killGroup(pgid, 'SIGKILL');
  for (let i = 0; i < 100 && left.some(([, f]) => f()); i++) await sleep(clock, 20);
  return `Found ${groups.size} unit process group(s) left by the previous runner: ${groups.size - left.length} finished, ${left.length} killed after ${Math.round(graceMs / 1000)} s.`;
}

export interface AdoptOptions {
  /** Told of each result on disk that is not adopted (not finished, cut short), and why. */
  readonly notAdopted?: (unitId: string, why: string) => void;
  /**
   * The run's first look (no journal yet): results were found and not one has the pass field
   * is then a misspelt `result.passed`, refused. Later, a changed rule is drift, and such
   * results are just the broken ones left.
   */
  readonly firstRun?: boolean;
}

/**
 * Invariant 1: a result file on disk is always counted. Units the journal does not show as
 * finished but whose result is on disk (in the unit folder, or at `result.path` in the user's
 * layout) are adopted instead of run again. In the run folder only real folders and regular
 * files count: a symlink (units/, a unit folder, the result) would adopt a file outside it, and
 * a FIFO would block here forever. Those units run again, and their executor refuses the link
 * or sets the odd file aside. A result that is not one yet (cut short, marked not done) is
 * not adopted either.
 */
export function findAdoptable(exp: LoadedExperiment, paths: RunPaths, view: RunView, now: number, o: AdoptOptions = {}): AdoptRecord[] {
  const results = new ResultFiles(exp, paths);
  if (results.source.kind === 'exit') return [];
  const folders = results.ownLayout ? undefined : unitFolders(paths);
  if (folders?.size === 0) return [];
  const out: AdoptRecord[] = [];
  let withVerdict = 0;
  let example: string | undefined;
  const units = unitsByPlace(exp, view);
  for (let k = 0; k < units.count; k++) {
    const i = units.place(k);
    const s = i < 0 ? undefined : view.units.statusAt(i);
    if (!(s === 'pending' || s === 'running' || s === 'rate_limited')) continue;
    if (folders && !folders.has(unitFolderName(units.id(k)))) continue;
    const unit = units.unit(k);
    const read = results.read(unit);
    if (read.kind !== 'text') continue;
    const verdict = judgeResult(read.text, exp.config.result);
    if (verdict.status === 'rerun') {
      o.notAdopted?.(unit.id, verdict.why ?? 'not a result yet');
      continue;
    }
    if (verdict.status === 'error') example ??= read.file;
    else withVerdict++;
    const where = results.ownLayout ? path.relative(exp.dir, read.file) : 'result file';
    out.push({
      t: 'adopt',
      ts: now,
      u: unit.id,
      s: verdict.status,
      why: `${where} on disk, not in the journal${verdict.why ? `: ${verdict.why}` : ''}`,
      ...adoptedFacts(read.text, exp.config.result),
    });
  }
  if (o.firstRun && example !== undefined && withVerdict === 0 && exp.config.result.missing === undefined)
    throw misspeltVerdict(exp, out.length, example);
  return out;
}

/**
 * Results were found, and not one has the pass field: that is a misspelt `result.passed`
 * (or the wrong file), not a set of broken results. Adopted as errors they would be moved
 * aside and run again, every one: refused before any is adopted or run.
 */
function misspeltVerdict(exp: LoadedExperiment, n: number, example: string): UserError {
  const rule = exp.config.result.passed ?? 'passed';
  const [field, kind] = typeof rule === 'string' ? [rule, 'a boolean'] : [rule.field, 'a number in'];
  return new UserError(
    `None of the ${n} result(s) on disk has ${kind} "${field}" (for one, ${path.relative(exp.dir, example) || example}); is "result.passed" right?`,
    { file: path.relative(process.cwd(), exp.file) || exp.file, path: '$.result.passed' },
    ['Nothing was run. If these results really have no verdict, say what that means with "missing": "failed", "error" or "rerun".'],
  );
}

/** The unit folders present, from one listing (the entry types come with it: no stat per unit to skip links). */
function unitFolders(paths: RunPaths): Set<string> {
  if (realDir(paths.units).kind !== 'dir') return new Set();
  try {
    return new Set(
      fs
        .readdirSync(paths.units, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name),
    );
  } catch {
    return new Set();
  }
}

/** Says which results on disk were not adopted and why (not finished, cut short): they run again. */
export function notAdoptedNote(): { collect: (unitId: string, why: string) => void; note: () => string | undefined } {
  const seen: { unitId: string; why: string }[] = [];
  return {
    collect: (unitId, why) => void seen.push({ unitId, why }),
    note: () =>
      seen.length === 0
        ? undefined
        : `${seen.length} result(s) on disk are not finished or cut short, so not adopted: their units run again (${seen[0]!.unitId}: ${seen[0]!.why}${seen.length > 1 ? ', ...' : ''}).`,
  };
}

/** A resume's adoption: the records to journal, and what to tell the user about it. */
export function adoptFromDisk(
  exp: LoadedExperiment,
  paths: RunPaths,
  view: RunView,
  now: number,
): { adopted: AdoptRecord[]; notes: string[] } {
  const skipped = notAdoptedNote();
  const adopted = findAdoptable(exp, paths, view, now, { notAdopted: skipped.collect });
  const notes = [skipped.note()].filter((n) => n !== undefined);
  if (adopted.length > 0) notes.push(`Adopted ${adopted.length} result(s) found on disk that the journal missed (not run again).`);
  return { adopted, notes };
}

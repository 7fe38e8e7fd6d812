import * as path from 'node:path';
import fg from 'fast-glob';
import { UserError, jsonPath } from '../errors';
import { parseJsonc } from '../config/jsonc';
import { MAX_RESULT_BYTES, readRegularFile } from '../store/safeRead';

/**
 * A bridge for the checkpoint file of Scylla (github.com/HomericIntelligence/ProjectScylla),
 * the runner Resumable replaces. Its `checkpoint.json` says which runs are done; the
 * `run_result.json` files beside it are the truth, and this module only says where the two
 * disagree (the incident: 590 finished results on disk, a checkpoint saying none). Nothing
 * here writes; adopting the results is the experiment file's job (README, "Bring an existing
 * experiment").
 *
 * Formats, as Scylla's `src/scylla/e2e/checkpoint.py` (E2ECheckpoint) writes them:
 * - v2.0: `completed_runs`: tier → subtest → run number → "passed" | "failed" | "agent_complete"
 *   (agent_complete: the agent ran, the judge did not yet; not done).
 * - v3.0 / v3.1: `run_states`: tier → subtest → run number → a RunState value
 *   (`src/scylla/e2e/models.py`); `completed_runs` is kept beside it as a derived view and
 *   holds the verdict. A run is done from `run_finalized` on (run_result.json is saved there):
 *   run_finalized, report_written, checkpointed, worktree_cleaned, and v3.0's run_complete.
 *   `failed` and `rate_limited` are infrastructure failures that Scylla resets to pending on
 *   resume (resume_manager.py), so they are not done, whatever completed_runs says.
 * Scylla itself refuses v1.0 (run numbers as lists) and so does this reader.
 */

/** A run as `"<tier>/<subtest>/<run number>"`, the number without padding: `T0/00/1`. */
export type RunKey = string;

export type Verdict = 'passed' | 'failed';

export interface CheckpointRun {
  /** Whether the checkpoint counts the run as done (so Scylla would skip it on resume). */
  readonly done: boolean;
  /** Its verdict when the checkpoint gives one. */
  readonly verdict?: Verdict;
  /** What the checkpoint says, as it says it: "passed", "agent_complete", "worktree_cleaned"... */
  readonly said: string;
}

export interface ScyllaCheckpoint {
  readonly file: string;
  /** "2.0", "3.0", "3.1"... as the file says. */
  readonly version: string;
  readonly format: 'v2' | 'v3';
  readonly experimentId?: string;
  /** Every run the checkpoint lists, done or not. */
  readonly runs: ReadonlyMap<RunKey, CheckpointRun>;
}

/** What one run_result.json on disk says. */
export type DiskResult =
  | { readonly status: Verdict; readonly file: string }
  /** Its judges hit a usage or rate limit: not finished, to be run again. */
  | { readonly status: 'not-finished'; readonly file: string; readonly why: string }
  /** Not a result: cut short (not JSON), no boolean judge_passed, or not a regular file. */
  | { readonly status: 'unreadable'; readonly file: string; readonly why: string };

export interface ScyllaLayout {
  readonly dir: string;
  /** One result per run (completed/ first, then the flat layout, then in_progress/). */
  readonly runs: ReadonlyMap<RunKey, DiskResult>;
  /** Results of a run that another place already gave (the one kept is in `runs`). */
  readonly shadowed: readonly { readonly run: RunKey; readonly file: string; readonly kept: string }[];
  /** Which layouts were found: "flat" (`T0/00/run_01/`), "completed", "in_progress". */
  readonly layouts: readonly ('flat' | 'completed' | 'in_progress')[];
}

export type DisagreementKind = 'not-in-checkpoint' | 'no-result' | 'verdict-differs' | 'not-finished' | 'unreadable';

export interface Disagreement {
  readonly kind: DisagreementKind;
  readonly run: RunKey;
  /** The checkpoint's word on the run, if it lists it. */
  readonly checkpoint?: CheckpointRun;
  /** The result on disk, if there is one. */
  readonly disk?: DiskResult;
}

/** The order kinds are shown in, and what each means. */
export const DISAGREEMENT_KINDS: readonly { readonly kind: DisagreementKind; readonly title: string }[] = [
  { kind: 'not-in-checkpoint', title: 'finished on disk, not done in the checkpoint' },
  { kind: 'no-result', title: 'done in the checkpoint, no result on disk' },
  { kind: 'verdict-differs', title: 'verdicts differ; the file on disk counts' },
  { kind: 'not-finished', title: 'done in the checkpoint, but its judges hit a usage limit (not finished)' },
  { kind: 'unreadable', title: 'done in the checkpoint, but the result on disk is not a result' },
];

const V2_STATUSES = new Set(['passed', 'failed', 'agent_complete']);
/** RunState values from which run_result.json exists (models.py; run_complete is v3.0's name). */
const V3_DONE_STATES = new Set(['run_finalized', 'report_written', 'checkpointed', 'worktree_cleaned', 'run_complete']);
/** RunState values that are infrastructure failures: reset to pending on resume. */
const V3_RETRIED_STATES = new Set(['failed', 'rate_limited']);

/** Reads and validates a checkpoint.json; a malformed one is a UserError naming the JSON path. */
export function readScyllaCheckpoint(file: string): ScyllaCheckpoint {
  const r = readRegularFile(file, { maxBytes: MAX_RESULT_BYTES, what: 'a checkpoint' });
  if (r.kind === 'absent') throw new UserError('Expected a Scylla checkpoint.json here, found no such file', { file });
  if (r.kind === 'refused') throw new UserError(`Expected a Scylla checkpoint.json, but the file ${r.why}`, { file });
  return parseScyllaCheckpoint(r.text, file);
}

/** The checkpoint's text, validated. Pure. */
export function parseScyllaCheckpoint(text: string, file: string): ScyllaCheckpoint {
  const doc = parseJsonc(text, file);
  const fail = (segments: readonly (string | number)[], what: string): never => {
    throw new UserError(what, { file, line: doc.lineOf(segments), path: jsonPath(segments) });
  };
  const root = doc.value;
  if (!isObject(root)) return fail([], `Expected a Scylla checkpoint (a JSON object), got ${typeName(root)}`);
  const version = root.version;
  if (typeof version !== 'string')
    return fail(['version'], `Expected the checkpoint format version as a string ("2.0", "3.0" or "3.1"), got ${typeName(version)}`);
  const format = version === '2.0' ? 'v2' : /^3\.\d+$/.test(version) ? 'v3' : undefined;
  if (!format)
    return fail(
      ['version'],
      `Expected checkpoint format "2.0", "3.0" or "3.1" (what Scylla writes since v2), got ${JSON.stringify(version)}` +
        (version === '1.0' ? '; Scylla itself no longer reads v1.0' : ''),
    );

  const completed = readNested(root, 'completed_runs', fail, format === 'v3');
  const states = format === 'v3' ? readNested(root, 'run_states', fail, false) : new Map<RunKey, Leaf>();
  const runs = new Map<RunKey, CheckpointRun>();
  for (const leaf of completed.values())
    if (!V2_STATUSES.has(leaf.value))
      fail(leaf.segments, `Expected "passed", "failed" or "agent_complete", got ${JSON.stringify(leaf.value)}`);
  if (format === 'v2') {
    for (const [key, leaf] of completed) {
      const verdict = asVerdict(leaf.value);
      runs.set(key, verdict ? { done: true, verdict, said: leaf.value } : { done: false, said: leaf.value });
    }
  } else {
    for (const [key, leaf] of states) {
      const done = V3_DONE_STATES.has(leaf.value);
      const verdict = done ? asVerdict(completed.get(key)?.value) : undefined;
      runs.set(key, verdict ? { done, verdict, said: leaf.value } : { done, said: leaf.value });
    }
    // completed_runs is derived from run_states; a run only there is read as v2 reads it,
    // unless run_states says it failed or was rate limited.
    for (const [key, leaf] of completed) {
      if (runs.has(key)) continue;
      const verdict = asVerdict(leaf.value);
      runs.set(key, verdict ? { done: true, verdict, said: leaf.value } : { done: false, said: leaf.value });
    }
    for (const [key, run] of runs) if (V3_RETRIED_STATES.has(run.said)) runs.set(key, { done: false, said: run.said });
  }
  const experimentId = typeof root.experiment_id === 'string' && root.experiment_id ? root.experiment_id : undefined;
  return { file, version, format, ...(experimentId ? { experimentId } : {}), runs: sortedMap(runs) };
}

interface Leaf {
  readonly value: string;
  readonly segments: readonly string[];
}

/** tier → subtest → run number → string, as a map by run key. */
function readNested(
  root: Record<string, unknown>,
  field: string,
  fail: (segments: readonly (string | number)[], what: string) => never,
  optional: boolean,
): Map<RunKey, Leaf> {
  const out = new Map<RunKey, Leaf>();
  const tiers = root[field];
  if (tiers === undefined && optional) return out;
  if (!isObject(tiers)) return fail([field], `Expected an object (tier → subtest → run number → status), got ${typeName(tiers)}`);
  for (const [tier, subtests] of Object.entries(tiers)) {
    if (!isName(tier)) fail([field, tier], `Expected a tier name such as "T0", got ${JSON.stringify(tier)}`);
    if (!isObject(subtests)) fail([field, tier], `Expected an object (subtest → run number → status), got ${typeName(subtests)}`);
    for (const [subtest, runs] of Object.entries(subtests)) {
      if (!isName(subtest)) fail([field, tier, subtest], `Expected a subtest name such as "00", got ${JSON.stringify(subtest)}`);
      if (!isObject(runs)) fail([field, tier, subtest], `Expected an object (run number → status), got ${typeName(runs)}`);
      for (const [run, value] of Object.entries(runs)) {
        const segments = [field, tier, subtest, run];
        if (!/^\d{1,6}$/.test(run) || Number(run) < 1)
          fail(segments, `Expected a run number from 1 as the key, got ${JSON.stringify(run)}`);
        if (typeof value !== 'string') fail(segments, `Expected the run's status as a string, got ${typeName(value)}`);
        const key = runKey(tier, subtest, Number(run));
        if (out.has(key)) fail(segments, `Run ${runLabel(key)} is listed twice (as ${JSON.stringify(out.get(key)!.segments[3])} too)`);
        out.set(key, { value, segments });
      }
    }
  }
  return out;
}

/**
 * What a run_result.json's text says. Pure. `judge_passed` (a boolean) is the verdict, as
 * Scylla's own reconcile reads it. A result whose every judge is invalid and says it hit a
 * usage limit is not finished: Scylla's scripts/reset_rate_limited_runs.py resets such runs
 * (it looks for "usage limit"; "hit your limit" and "rate limit" are the other ways its
 * rate_limit.py says the same).
 */
export function judgeRunResult(text: string, file: string): DiskResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { status: 'unreadable', file, why: 'is not valid JSON (cut short?)' };
  }
  if (!isObject(data)) return { status: 'unreadable', file, why: `is ${typeName(data)}, not a JSON object` };
  const limit = judgesHitLimit(data.judges);
  if (limit) return { status: 'not-finished', file, why: limit };
  if (typeof data.judge_passed !== 'boolean')
    return { status: 'unreadable', file, why: `has no boolean judge_passed (got ${typeName(data.judge_passed)})` };
  return { status: data.judge_passed ? 'passed' : 'failed', file };
}

const LIMIT = /usage limit|hit your limit|rate limit/i;

function judgesHitLimit(judges: unknown): string | undefined {
  if (!Array.isArray(judges) || judges.length === 0) return undefined;
  const hit = judges.every((j) => isObject(j) && j.is_valid === false && typeof j.reasoning === 'string' && LIMIT.test(j.reasoning));
  if (!hit) return undefined;
  const first = (judges[0] as { reasoning: string }).reasoning;
  return `every judge (${judges.length}) hit a limit: ${JSON.stringify(first.length > 120 ? first.slice(0, 117) + '...' : first)}`;
}

/** The places a run can be, in the order a run found twice is taken from (Scylla reads completed/ first). */
const PLACES = [
  { layout: 'completed', prefix: 'completed/' },
  { layout: 'flat', prefix: '' },
  { layout: 'in_progress', prefix: 'in_progress/' },
] as const;

const RUN_RESULT = /^(?:(completed|in_progress)\/)?([^/]+)\/([^/]+)\/run_(\d{1,6})\/run_result\.json$/;

/**
 * Reads every `<tier>/<subtest>/run_<NN>/run_result.json` under `dir` (and under its
 * completed/ and in_progress/). Symbolic links are neither followed to folders nor read
 * (readRegularFile), so nothing outside `dir` is read; a FIFO or a link where a result
 * should be is reported as unreadable, not skipped.
 */
export async function scanScyllaLayout(dir: string): Promise<ScyllaLayout> {
  const found = await fg(
    PLACES.map((p) => `${p.prefix}T*/*/run_*/run_result.json`),
    { cwd: dir, onlyFiles: false, followSymbolicLinks: false, dot: false, unique: true },
  );
  const byPlace = new Map<string, { key: RunKey; file: string }[]>();
  for (const file of found) {
    const m = RUN_RESULT.exec(file);
    if (!m || Number(m[4]) < 1) continue;
    const layout = m[1] ?? 'flat';
    const list = byPlace.get(layout) ?? [];
    list.push({ key: runKey(m[2]!, m[3]!, Number(m[4])), file });
    byPlace.set(layout, list);
  }
  const runs = new Map<RunKey, DiskResult>();
  const shadowed: { run: RunKey; file: string; kept: string }[] = [];
  const layouts: ScyllaLayout['layouts'][number][] = [];
  for (const place of PLACES) {
    const list = byPlace.get(place.layout);
    if (!list) continue;
    layouts.push(place.layout);
    for (const { key, file } of list.sort((a, b) => a.file.localeCompare(b.file, 'en', { numeric: true }))) {
      const kept = runs.get(key);
      if (kept) {
        shadowed.push({ run: key, file, kept: kept.file });
        continue;
      }
      runs.set(key, readRunResult(dir, file));
    }
  }
  return { dir, runs: sortedMap(runs), shadowed, layouts };
}

function readRunResult(dir: string, file: string): DiskResult {
  const r = readRegularFile(path.join(dir, file), { maxBytes: MAX_RESULT_BYTES, what: 'a result' });
  if (r.kind === 'text') return judgeRunResult(r.text, file);
  return { status: 'unreadable', file, why: r.kind === 'absent' ? 'was gone when read' : r.why };
}

/**
 * Where the checkpoint and the files on disk disagree, in run order. Pure. The files are the
 * truth: a run is finished when its result on disk has a verdict, whatever the checkpoint says.
 * A run neither side counts as done (say, a result not finished and a checkpoint saying
 * agent_complete) is no disagreement.
 */
export function compareCheckpoint(
  checkpointRuns: ReadonlyMap<RunKey, CheckpointRun>,
  diskRuns: ReadonlyMap<RunKey, DiskResult>,
): Disagreement[] {
  const out: Disagreement[] = [];
  const keys = sortKeys(new Set([...checkpointRuns.keys(), ...diskRuns.keys()]));
  for (const run of keys) {
    const cp = checkpointRuns.get(run);
    const disk = diskRuns.get(run);
    const both = { ...(cp ? { checkpoint: cp } : {}), ...(disk ? { disk } : {}) };
    const finished = disk?.status === 'passed' || disk?.status === 'failed';
    if (finished) {
      if (!cp?.done) out.push({ kind: 'not-in-checkpoint', run, ...both });
      else if (cp.verdict !== undefined && cp.verdict !== disk.status) out.push({ kind: 'verdict-differs', run, ...both });
      continue;
    }
    if (!cp?.done) continue;
    if (!disk) out.push({ kind: 'no-result', run, ...both });
    else out.push({ kind: disk.status === 'not-finished' ? 'not-finished' : 'unreadable', run, ...both });
  }
  return out;
}

export function runKey(tier: string, subtest: string, run: number): RunKey {
  return `${tier}/${subtest}/${run}`;
}

/** `T0/00/1` → `T0/00/run_01`, as the run's folder is named. */
export function runLabel(key: RunKey): string {
  const i = key.lastIndexOf('/');
  return `${key.slice(0, i)}/run_${key.slice(i + 1).padStart(2, '0')}`;
}

function sortKeys(keys: Iterable<RunKey>): RunKey[] {
  return [...keys].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function sortedMap<V>(m: Map<RunKey, V>): Map<RunKey, V> {
  return new Map(sortKeys(m.keys()).map((k) => [k, m.get(k)!]));
}

function asVerdict(s: string | undefined): Verdict | undefined {
  return s === 'passed' || s === 'failed' ? s : undefined;
}

/** A tier or subtest name: one path segment, so run keys and folders stay unambiguous. */
function isName(s: string): boolean {
  return s.length > 0 && s.length <= 255 && s !== '.' && s !== '..' && !/[/\\\0\n]/.test(s);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `${typeof v === 'string' ? 'a string' : `a ${typeof v}`} (${JSON.stringify(v)})`;
}

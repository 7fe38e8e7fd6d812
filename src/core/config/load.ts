import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { UserError, jsonPath, type UserErrorLocation } from '../errors';
import { parseJsonc } from './jsonc';
import { loadItems, loadItemsFileSync, type Item } from './items';
import { checkItemFields, checkRefs, itemRefs, paddedItemRefs, parseTemplate, RESULT_PATH_BUILTINS, type Template } from './placeholders';
import { checkResultPaths, resultPathTexts } from './resultRule';
import { experimentSchema, type Experiment, type ExperimentInput } from './schema';
import { schemaError } from './schemaErrors';
import { expandUnits, type Unit } from './units';
import { canonicalJson, hashOf, itemsDigest, resultKey, type ResultKey } from './hash';
import type { ItemsDigest, ItemsSource } from './itemsSource';
import { LazyUnits } from './lazyUnits';

/** An experiment file read, validated and expanded: everything a run needs to start. */
export interface LoadedExperiment {
  /** Absolute path of the experiment file. */
  readonly file: string;
  readonly dir: string;
  readonly config: Experiment;
  readonly items: readonly Item[];
  readonly units: readonly Unit[];
  readonly templates: RunTemplates;
  readonly key: ResultKey;
  /** Full sha256 of the result key; the run folder uses its first 8 characters. */
  readonly hash: string;
  /** The dataset file's fingerprint, when the items came from one (what a run keeps to skip hashing them again). */
  readonly itemsSource?: ItemsSource;
  /**
   * Loaded with `lazyItems` from a dataset the run indexed: its units by number, each item read
   * when its unit is asked for, while `items` and `units` are not touched (`materialized` false).
   */
  readonly lazy?: { readonly units: LazyUnits; materialized(): boolean };
}

export interface RunTemplates {
  /** `run.command` (empty with a worker). */
  readonly command: readonly Template[];
  /** `run.worker`, when units go to a long-lived worker. */
  readonly worker?: readonly Template[];
  readonly env: readonly (readonly [string, Template])[];
  readonly cwd: Template;
  /** `result.path`: its candidates, in order (empty without one). */
  readonly resultPath: readonly Template[];
}

export interface LoadOptions {
  /**
   * Refuse an experiment with neither run.command nor run.worker (true): nothing would say
   * how to run a unit. False where a library handler runs them, or only the state is read.
   */
  readonly requireRun?: boolean;
  /**
   * The digest of a dataset file's items when this very file was hashed before (a run
   * folder's fingerprint, run/itemsFingerprint.ts): its items are not hashed again.
   */
  readonly knownItems?: (source: ItemsSource, config: Experiment, experimentDir: string) => ItemsDigest | undefined;
  /**
   * For readers (`status`): when `knownItems` knows the dataset file by its stat, its items are
   * not read at all until `items` or `units` is asked for (then they are, synchronously).
   */
  readonly lazyItems?: boolean;
}

export async function loadExperiment(file: string, options: LoadOptions = {}): Promise<LoadedExperiment> {
  const abs = path.resolve(file);
  const shown = path.relative(process.cwd(), abs) || abs;
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new UserError(
      `Expected a readable experiment file, got ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`,
      { file: shown },
    );
  }
  return loadExperimentText(text, abs, options);
}

export async function loadExperimentText(text: string, absFile: string, options: LoadOptions = {}): Promise<LoadedExperiment> {
  const shown = path.relative(process.cwd(), absFile) || absFile;
  const doc = parseJsonc(text, shown);
  return loadValue(doc.value, absFile, shown, doc.lineOf, options);
}

/** What a message calls an experiment given as an object: it has no file or lines. */
export const INLINE_EXPERIMENT = '(inline experiment)';

/**
 * An experiment given as an object (the library's `new Run({ experiment: { name, items, … } })`).
 * Its relative paths (items.file, items.glob, run.cwd, result.path, runRoot) are taken from
 * `baseDir`, as a file's are from its folder; `file` is `<baseDir>/(inline experiment)`.
 */
export async function loadExperimentObject(
  value: ExperimentInput,
  baseDir: string = process.cwd(),
  options: LoadOptions = {},
): Promise<LoadedExperiment> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UserError(
      `Expected the experiment as a path to an *.experiment.json or an object with name, items and run, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
    );
  return loadValue(value, path.join(path.resolve(baseDir), INLINE_EXPERIMENT), INLINE_EXPERIMENT, () => undefined, options);
}

async function loadValue(
  value: unknown,
  absFile: string,
  shown: string,
  lineOf: (p: readonly (string | number)[]) => number | undefined,
  options: LoadOptions,
): Promise<LoadedExperiment> {
  const doc = { value, lineOf };
  const parsed = experimentSchema.safeParse(doc.value);
  if (!parsed.success) throw schemaError(parsed.error, shown, doc.lineOf, doc.value);
  const config = parsed.data;
  const dir = path.dirname(absFile);
  const at = (p: (string | number)[]) => ({ file: shown, line: doc.lineOf(p), path: jsonPath(p) });
  if (options.requireRun !== false) checkRunnable(config, at(['run']));

  const templates: RunTemplates = {
    command: (config.run.command ?? []).map((s) => parseTemplate(s)),
    worker: config.run.worker?.map((s) => parseTemplate(s)),
    env: Object.entries(config.run.env).map(([k, v]) => [k, parseTemplate(v)] as const),
    cwd: parseTemplate(config.run.cwd),
    resultPath: resultPathTexts(config.result).map((s) => parseTemplate(s)),
  };
  const m = config.matrix;
  templates.command.forEach((t, i) => checkRefs(t, m, at(['run', 'command', i])));
  templates.env.forEach(([k, t]) => checkRefs(t, m, at(['run', 'env', k])));
  checkRefs(templates.cwd, m, at(['run', 'cwd']));
  const resultPathAt = (i: number) => at(typeof config.result.path === 'string' ? ['result', 'path'] : ['result', 'path', i]);
  templates.resultPath.forEach((t, i) => checkRefs(t, m, resultPathAt(i), RESULT_PATH_BUILTINS));
  if (templates.worker) checkWorkerTemplates(templates, config, at);
  config.rateLimit.preflight?.forEach((s, i) => {
    if (parseTemplate(s).some((p) => typeof p !== 'string' && !['runDir', 'experimentDir'].includes(p.ref))) {
      throw new UserError(
        'Expected only ${runDir} and ${experimentDir} in the preflight command (it runs once, for no unit)',
        at(['rateLimit', 'preflight', i]),
      );
    }
  });

  const unitsOf = (items: readonly Item[]): Unit[] => {
    const placed: [Template, string][] = [
      ...templates.command.map((t, i): [Template, string] => [t, jsonPath(['run', 'command', i])]),
      ...(templates.worker ?? []).map((t, i): [Template, string] => [t, jsonPath(['run', 'worker', i])]),
      ...templates.env.map(([k, t]): [Template, string] => [t, jsonPath(['run', 'env', k])]),
      [templates.cwd, jsonPath(['run', 'cwd'])],
      ...templates.resultPath.map((t, i): [Template, string] => [t, resultPathAt(i).path]),
    ];
    const all = placed.map(([t]) => t);
    const usedAt = new Map<string, string>();
    for (const [t, where] of placed) for (const ref of itemRefs([t])) if (!usedAt.has(ref)) usedAt.set(ref, where);
    checkItemFields(items, itemRefs(all), paddedItemRefs(all), usedAt);
    const units = expandUnits(items, config.matrix);
    checkResultPaths(templates.resultPath, units, config.seed, resultPathAt);
    return units;
  };
  const ctx = { baseDir: dir, experimentFile: shown, lineOf: doc.lineOf };
  const lazy = options.lazyItems ? await knownByStat(config, dir, options) : undefined;
  if (lazy) {
    // The dataset is the very file a run hashed: its digest is known, its items are read only if asked for.
    const key = resultKey(config, undefined, lazy);
    let made: { items: Item[]; units: Unit[] } | undefined;
    const make = () => {
      if (made) return made;
      const items = loadItemsFileSync(config.items, ctx);
      // Read whole after all: the fingerprint it was trusted by is checked against its items.
      if (itemsDigest(items).digest !== key.items.digest) throw changedUnderStat(config.items.file!, dir);
      made = { items, units: unitsOf(items) };
      return made;
    };
    const index = /\.(jsonl|ndjson)$/i.test(config.items.file!) ? lazy.index?.() : undefined;
    const units =
      index && index.offsets.length === lazy.count
        ? new LazyUnits(path.resolve(dir, config.items.file!), index, config.items.id ?? 'id', config.matrix)
        : undefined;
    return {
      file: absFile,
      dir,
      config,
      templates,
      key,
      hash: hashOf(key),
      ...(units ? { lazy: { units, materialized: () => made !== undefined } } : {}),
      get items() {
        return make().items;
      },
      get units() {
        return make().units;
      },
    };
  }
  let itemsSource: ItemsSource | undefined;
  const items = await loadItems(config.items, { ...ctx, onSource: (s) => (itemsSource = s) });
  const units = unitsOf(items);
  const known = itemsSource && options.knownItems?.(itemsSource, config, dir);
  const key = resultKey(config, items, known);
  return { file: absFile, dir, config, items, units, templates, key, hash: hashOf(key), itemsSource };
}

function changedUnderStat(file: string, dir: string): UserError {
  const shown = path.relative(process.cwd(), path.resolve(dir, file)) || file;
  return new UserError(
    `${shown} changed since the run hashed its items, but its size, mtime, ctime and inode did not, so it was taken as unchanged; refusing to run units of a changed dataset as if it were the same`,
    { file: shown },
    [`Change its mtime (touch ${shown}) and run again: it is then hashed whole and compared with the run's items.`],
  );
}

/** The digest of the dataset file's items when a run's fingerprint of it holds by its stat alone (no byte read). */
async function knownByStat(config: Experiment, dir: string, options: LoadOptions): Promise<ItemsDigest | undefined> {
  const spec = config.items;
  if (spec.file === undefined || !options.knownItems) return undefined;
  const file = path.resolve(dir, spec.file);
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  const source: ItemsSource = {
    file,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    ino: st.ino,
    sha256: '',
    spec: canonicalJson(spec),
  };
  return options.knownItems(source, config, dir);
}

const RUN_PLACES = ['runDir', 'experimentDir'];

/** A worker serves every unit: what starts it can name the run's places, never one unit's values. */
function checkWorkerTemplates(
  templates: RunTemplates,
  config: Experiment,
  at: (p: (string | number)[]) => { file: string; line: number | undefined; path: string },
): void {
  const unitRef = (t: Template) => t.find((p): p is { ref: string } => typeof p !== 'string' && !RUN_PLACES.includes(p.ref));
  const check = (t: Template, where: (string | number)[], what: string) => {
    const r = unitRef(t);
    if (r)
      throw new UserError(
        `Expected only \${runDir} and \${experimentDir} in ${what}: a worker serves every unit, so \${${r.ref}} has no one value here (a unit's values come in its protocol message)`,
        at(where),
      );
  };
  templates.worker!.forEach((t, i) => check(t, ['run', 'worker', i], 'run.worker'));
  templates.env.forEach(([k, t]) => check(t, ['run', 'env', k], 'run.env with a worker'));
  check(templates.cwd, ['run', 'cwd'], 'run.cwd with a worker');
  if (config.result.from === 'exit')
    throw new UserError(
      'Expected no result.from "exit" with run.worker: a worker does not exit per unit; it answers each with a result such as {"passed": true}',
      at(['result', 'from']),
    );
}

/**
 * Without a library handler a unit runs as run.command or on run.worker: an experiment with
 * neither is refused before anything runs (the schema cannot tell: a handler needs neither).
 */
export function checkRunnable(config: Experiment, where: UserErrorLocation): void {
  if (config.run.command === undefined && config.run.worker === undefined)
    throw new UserError(
      'Expected run.command (the argv of a process per unit, e.g. ["python3", "eval.py", "${item.id}"]) or run.worker (a long-lived worker), got neither',
      where,
      ['(a library handler, new Run({ experiment, handler }), needs neither)'],
    );
}

/** What the library's `Run` takes as its experiment. */
export type ExperimentSource = string | LoadedExperiment | ExperimentInput;

/**
 * A path is read, an object is taken as an experiment (relative to `baseDir`), one already
 * loaded is used as it is; each must say how to run a unit unless a handler does.
 */
export async function resolveExperiment(
  source: ExperimentSource,
  options: {
    readonly handler: boolean;
    readonly baseDir?: string;
    readonly knownItems?: LoadOptions['knownItems'];
    readonly lazyItems?: boolean;
  },
): Promise<LoadedExperiment> {
  const requireRun = !options.handler;
  const { knownItems, lazyItems } = options;
  if (typeof source === 'string') return loadExperiment(source, { requireRun, knownItems, lazyItems });
  if (isLoaded(source)) {
    if (requireRun) checkRunnable(source.config, { file: path.relative(process.cwd(), source.file) || source.file, path: '$.run' });
    return source;
  }
  return loadExperimentObject(source, options.baseDir, { requireRun, knownItems, lazyItems });
}

function isLoaded(source: unknown): source is LoadedExperiment {
  if (typeof source !== 'object' || source === null) return false;
  return 'templates' in source && 'units' in source && 'hash' in source && 'config' in source;
}

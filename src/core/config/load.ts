import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { z } from 'zod';
import { UserError, jsonPath } from '../errors';
import { parseJsonc } from './jsonc';
import { loadItems, type Item } from './items';
import { checkItemFields, checkRefs, itemRefs, paddedItemRefs, parseTemplate, RESULT_PATH_BUILTINS, type Template } from './placeholders';
import { checkResultPaths, resultPathTexts } from './resultRule';
import { experimentSchema, type Experiment } from './schema';
import { expandUnits, type Unit } from './units';
import { hashOf, resultKey, type ResultKey } from './hash';

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

export async function loadExperiment(file: string): Promise<LoadedExperiment> {
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
  return loadExperimentText(text, abs);
}

export async function loadExperimentText(text: string, absFile: string): Promise<LoadedExperiment> {
  const shown = path.relative(process.cwd(), absFile) || absFile;
  const doc = parseJsonc(text, shown);
  const parsed = experimentSchema.safeParse(doc.value);
  if (!parsed.success) throw schemaError(parsed.error, shown, doc.lineOf);
  const config = parsed.data;
  const dir = path.dirname(absFile);
  const at = (p: (string | number)[]) => ({ file: shown, line: doc.lineOf(p), path: jsonPath(p) });

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

  const items = await loadItems(config.items, { baseDir: dir, experimentFile: shown, lineOf: doc.lineOf });
  const all = [
    ...templates.command,
    ...(templates.worker ?? []),
    ...templates.env.map(([, t]) => t),
    templates.cwd,
    ...templates.resultPath,
  ];
  checkItemFields(items, itemRefs(all), paddedItemRefs(all));
  const units = expandUnits(items, config.matrix);
  checkResultPaths(templates.resultPath, units, config.seed, resultPathAt);
  const key = resultKey(config, items);
  return { file: absFile, dir, config, items, units, templates, key, hash: hashOf(key) };
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

function schemaError(error: z.ZodError, file: string, lineOf: (p: (string | number)[]) => number | undefined): UserError {
  const issues = error.issues.map((issue) => {
    let p = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    if (issue.code === 'unrecognized_keys') p = [...p, issue.keys[0]!];
    const message =
      issue.code === 'unrecognized_keys'
        ? `Unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')}; expected one of the documented keys (see schema/experiment.schema.json)`
        : issue.message.replace(/^Invalid input: expected/, 'Expected');
    return { where: { file, line: lineOf(p), path: jsonPath(p) }, message };
  });
  const [first, ...rest] = issues;
  return new UserError(
    first!.message,
    first!.where,
    rest.map((r) => `${r.where.file}:${r.where.line ?? '?'} ${r.where.path}: ${r.message}`),
  );
}

import * as path from 'node:path';
import { UserError, type UserErrorLocation } from '../errors';
import { unitSeed } from '../ids';
import { itemField, parseTemplate, render, stringify, type Template } from './placeholders';
import type { Experiment } from './schema';
import type { Unit } from './units';

/** The name of a result kept in the unit folder: the default file, and where printed results are stored. */
export const STORED_RESULT = 'result.json';

/**
 * Where a unit's outcome comes from (README, "Result rules"):
 * - auto: no rule written. `${unitDir}/result.json` decides if the command wrote it, else exit 0 passes.
 * - file: a file the command writes in its unit folder; missing after exit 0 is an error.
 * - path: a file in the user's own layout, the first candidate that exists.
 * - exit: the exit code is the verdict. stdout: the last JSON object line of the output.
 */
export type ResultSource =
  | { readonly kind: 'auto' }
  | { readonly kind: 'file'; readonly name: string }
  | { readonly kind: 'path' }
  | { readonly kind: 'exit' }
  | { readonly kind: 'stdout' };

export function resultSource(r: Experiment['result']): ResultSource {
  if (r.from === 'exit') return { kind: 'exit' };
  if (r.from === 'stdout') return { kind: 'stdout' };
  if (r.path !== undefined) return { kind: 'path' };
  if (r.file !== undefined) return { kind: 'file', name: r.file };
  return r.from === 'file' ? { kind: 'file', name: STORED_RESULT } : { kind: 'auto' };
}

/** The result path's templates as written (one, or a list of candidates). */
export function resultPathTexts(r: Experiment['result']): readonly string[] {
  return r.path === undefined ? [] : typeof r.path === 'string' ? [r.path] : r.path;
}

/** The result path's templates, parsed. */
export function resultTemplates(config: Pick<Experiment, 'result'>): Template[] {
  return resultPathTexts(config.result).map((t) => parseTemplate(t));
}

/** The values a unit gives its templates; undefined for a placeholder that is not the unit's (runDir, attempt...). */
export function unitValue(unit: Unit, seed: number, ref: string): string | undefined {
  switch (ref) {
    case 'unitId':
      return unit.id;
    case 'seed':
      return String(unitSeed(seed, unit.id));
    case 'repeat':
      return String(unit.repeat ?? 1);
  }
  if (ref.startsWith('item.')) return stringify(itemField(unit.item, ref.slice(5)));
  const v = unit.cell[ref];
  return v === undefined ? undefined : String(v);
}

/** A unit's result path candidates, relative to the experiment's folder, or why one leads out of it. */
export function renderResultPaths(
  templates: readonly Template[],
  unit: Unit,
  seed: number,
): { readonly paths: string[] } | { readonly index: number; readonly rendered: string; readonly why: string } {
  const paths: string[] = [];
  for (let i = 0; i < templates.length; i++) {
    const rendered = render(templates[i]!, (ref) => unitValue(unit, seed, ref) ?? '');
    const why = escapeProblem(rendered);
    if (why) return { index: i, rendered, why };
    paths.push(path.posix.normalize(rendered));
  }
  return { paths };
}

/** Why a (rendered) result path does not stay inside `folder` (lexically; links are checked on disk). */
export function escapeProblem(rendered: string, folder = "the experiment's folder"): string | undefined {
  if (rendered === '') return 'it is empty';
  if (rendered.includes('\u0000')) return 'it contains a NUL character';
  if (path.posix.isAbsolute(rendered) || /^[A-Za-z]:[\\/]/.test(rendered)) return 'it is absolute';
  const n = path.posix.normalize(rendered);
  if (n === '..' || n.startsWith('../')) return `it leads out of ${folder} (a ".." segment)`;
  if (n === '.' || n.endsWith('/')) return 'it names a folder, not a file';
  return undefined;
}

/**
 * Refuses, before anything runs, a result path that any unit would render outside the
 * experiment's folder (a "..", an absolute path, an item field that holds either).
 */
export function checkResultPaths(
  templates: readonly Template[],
  units: readonly Unit[],
  seed: number,
  at: (i: number) => UserErrorLocation,
): void {
  if (templates.length === 0) return;
  for (const unit of units) {
    const r = renderResultPaths(templates, unit, seed);
    if ('why' in r) {
      throw new UserError(
        `Expected the result path of unit ${JSON.stringify(unit.id)} to stay inside the experiment's folder, got ${JSON.stringify(r.rendered)}: ${r.why}`,
        at(r.index),
        ["Results may live anywhere below the experiment file's folder; nothing outside it is read, moved or written."],
      );
    }
  }
}

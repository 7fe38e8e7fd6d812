import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedExperiment } from '../config/load';
import { UserError } from '../errors';
import { readFrozen } from '../model/frozen';
import { growthOf } from '../model/growth';

export interface OtherRun {
  readonly dir: string;
  readonly hash: string;
}

/** Live run folders of the same experiment name made from another config. */
export function otherRuns(exp: LoadedExperiment, runDir: string): OtherRun[] {
  const root = path.dirname(runDir);
  const re = new RegExp(`^${exp.config.name.replace(/[.]/g, '\\.')}-([0-9a-f]{8})$`);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return [];
  }
  return names
    .filter((n) => re.test(n) && path.join(root, n) !== runDir && fs.existsSync(path.join(root, n, 'experiment.json')))
    .map((n) => ({ dir: path.join(root, n), hash: re.exec(n)![1]! }));
}

/** The refusal of invariant 5 (docs/architecture.md): what changed, field by field and item by item, and the ways forward. */
export function driftError(exp: LoadedExperiment, other: OtherRun): UserError {
  const frozen = readFrozen(path.join(other.dir, 'experiment.json'));
  const lines: string[] = [];
  if (frozen) {
    const g = growthOf(frozen, exp);
    if (g.kind === 'drift') {
      for (const c of g.fields) {
        lines.push(`  ${inFile(c.path)}: ${c.before} → ${c.after}`);
        // Unit ids name their repeat only when the matrix has one: a run can raise it, not gain it.
        if (c.path === '$.matrix.repeat' && c.before === '(absent)')
          lines.push(
            '    A run started without "repeat" cannot gain one: every unit id would change (q1 → q1/r1). Start runs you may repeat later with "repeat": 1.',
          );
        if (c.path === '$.matrix.repeat' && c.after === '(absent)')
          lines.push('    Removing "repeat" changes every unit id (q1/r1 → q1): keep "repeat": 1 to keep the run.');
      }
      if (g.items.length)
        lines.push(
          `  items changed (${g.items.length}): ${g.items
            .slice(0, 5)
            .map((i) => `${JSON.stringify(i.id)} (${i.fields.join(', ')})`)
            .join(', ')}${g.items.length > 5 ? ', …' : ''}`,
        );
    }
  }
  const shown = path.relative(process.cwd(), exp.file) || exp.file;
  return new UserError(
    `The experiment changed in what its units do since run ${path.basename(other.dir)} was started; refusing to mix results of two configs.`,
    { file: shown },
    [
      ...lines,
      'Ways forward:',
      `  resumable run ${shown} --fresh   (archives the old run into the new one's archive/, nothing is deleted)`,
      '  or give the experiment a new "name" to keep both runs side by side.',
      'Adding or removing items or matrix values, or raising or lowering "repeat", continues the same run; a change to what existing units do does not.',
      'Runtime knobs (concurrency, timeouts, retries, rate-limit waits) may change without this.',
    ],
  );
}

/** A result key's path as the experiment file spells it (the key keeps the run's fields flat). */
function inFile(keyPath: string): string {
  return keyPath.replace(/^\$\.(command|worker|cwd|env)\b/, '$.run.$1');
}

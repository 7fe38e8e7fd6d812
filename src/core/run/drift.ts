import * as fs from 'node:fs';
import * as path from 'node:path';
import { diffResultKeys } from '../config/hash';
import type { LoadedExperiment } from '../config/load';
import { UserError } from '../errors';
import { readFrozen } from '../model/frozen';

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

/** The refusal of invariant 5 (docs/architecture.md): what changed, field by field, and the two ways forward. */
export function driftError(exp: LoadedExperiment, other: OtherRun): UserError {
  const frozen = readFrozen(path.join(other.dir, 'experiment.json'));
  const lines: string[] = [];
  if (frozen) {
    for (const c of diffResultKeys(frozen.key, exp.key)) lines.push(`  ${inFile(c.path)}: ${c.before} → ${c.after}`);
    const itemLines = itemDiff(frozen.items, exp.items);
    if (itemLines) lines.push(`  items: ${itemLines}`);
  }
  return new UserError(
    `The experiment changed in fields that change results since run ${path.basename(other.dir)} was started; refusing to mix results of two configs.`,
    { file: path.relative(process.cwd(), exp.file) || exp.file },
    [
      ...lines,
      'Ways forward:',
      `  resumable run ${path.relative(process.cwd(), exp.file)} --fresh   (archives the old run into the new one's archive/, nothing is deleted)`,
      '  or give the experiment a new "name" to keep both runs side by side.',
      'Runtime knobs (concurrency, timeouts, retries, rate-limit waits) may change without this.',
    ],
  );
}

function itemDiff(
  before: readonly { id: string; fields: unknown }[],
  after: readonly { id: string; fields: unknown }[],
): string | undefined {
  const old = new Map(before.map((i) => [i.id, JSON.stringify(i.fields)]));
  const now = new Map(after.map((i) => [i.id, JSON.stringify(i.fields)]));
  const added = [...now.keys()].filter((k) => !old.has(k));
  const removed = [...old.keys()].filter((k) => !now.has(k));
  const changed = [...now.keys()].filter((k) => old.has(k) && old.get(k) !== now.get(k));
  if (!added.length && !removed.length && !changed.length) return undefined;
  const ex = (l: string[]) =>
    l.length
      ? ` (${l
          .slice(0, 3)
          .map((s) => JSON.stringify(s))
          .join(', ')}${l.length > 3 ? ', ...' : ''})`
      : '';
  return `${added.length} added${ex(added)}, ${removed.length} removed${ex(removed)}, ${changed.length} changed${ex(changed)}`;
}

/** A result key's path as the experiment file spells it (the key keeps the run's fields flat). */
function inFile(keyPath: string): string {
  return keyPath.replace(/^\$\.(command|cwd|env)\b/, '$.run.$1').replace(/^\$\.items\.(count|digest)$/, '$.items (its rows)');
}

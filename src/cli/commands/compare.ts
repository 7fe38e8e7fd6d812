import * as path from 'node:path';
import { UserError } from '../../core/errors';
import { compareRuns, CompareError, type Comparison, type GroupDelta, type UnitChange } from '../../core/status/compare';
import { RunFollower } from '../../core/status/report';
import { wilson } from '../../core/status/wilson';
import type { CompareArgs } from '../resultsArgs';
import { runFolderArg } from '../runFolderArg';
import { formatMetric, formatRate } from '../format';
import { out } from '../stdio';

const LIST = 10;

/** `resumable compare A B`: unit by unit, what changed from A to B. Exit 0 whether or not they differ. */
export async function compareCommand(c: CompareArgs): Promise<number> {
  const sides = [];
  for (const target of [c.a, c.b]) {
    const dir = await runFolderArg(target, 'compare');
    const f = RunFollower.open(dir);
    await f.poll();
    sides.push({ label: path.relative(process.cwd(), dir) || dir, units: f.units, view: f.view });
  }
  let cmp: Comparison;
  try {
    cmp = compareRuns(sides[0]!, sides[1]!, c.match);
  } catch (e) {
    if (e instanceof CompareError) throw new UserError(e.message);
    throw e;
  }
  if (c.json) {
    out(JSON.stringify(cmp, null, 2) + '\n');
    return 0;
  }
  out(renderComparison(cmp));
  return 0;
}

export function renderComparison(c: Comparison): string {
  const lines: string[] = [];
  const how = c.matchBy === 'id' ? 'unit id' : 'item (and repeat)';
  lines.push(`A: ${c.a}`, `B: ${c.b}`);
  lines.push(
    `Matched ${c.matched} unit${c.matched === 1 ? '' : 's'} by ${how}${c.onlyA.length ? `; ${c.onlyA.length} only in A` : ''}${c.onlyB.length ? `; ${c.onlyB.length} only in B` : ''}.`,
  );
  if (c.matched === 0 && c.matchBy === 'id') lines.push('  No unit id in common: two experiments over the same items? Try --match item.');
  const section = (title: string, list: readonly UnitChange[]) => {
    if (list.length === 0) return;
    lines.push(`${title} (${list.length}):`);
    for (const u of list.slice(0, LIST))
      lines.push(`  ${u.b === u.a ? u.b : `${u.a} → ${u.b}`}  ${u.before} → ${u.after}${u.why ? `  (${firstLine(u.why)})` : ''}`);
    if (list.length > LIST) lines.push(`  … and ${list.length - LIST} more (--json lists them all)`);
  };
  section('Regressions, passed → failed or error', c.regressions);
  section('Fixes, failed or error → passed', c.fixes);
  section(
    'New errors',
    c.newErrors.filter((u) => u.before !== 'passed'),
  );
  if (!c.regressions.length && !c.fixes.length && !c.newErrors.length) lines.push('No regressions, fixes or new errors.');
  if (c.otherChanges)
    lines.push(
      `${c.otherChanges} other change${c.otherChanges === 1 ? '' : 's'} (an outcome in one, none yet in the other; failed ↔ error).`,
    );
  if (c.groups.length > 1 || (c.groups[0] && c.groups[0].group !== '')) {
    lines.push('Pass rate per group (matched units with a verdict; 95% interval):');
    const w = Math.max(...c.groups.map((g) => g.group.length), 5);
    for (const g of c.groups) {
      lines.push(
        `  ${(g.group || '(all)').padEnd(w)}  A ${rate(g.passedA, g.verdictsA)}  B ${rate(g.passedB, g.verdictsB)}${points(g)}${metricText(g)}`,
      );
    }
  } else if (c.groups[0]) {
    const g = c.groups[0];
    lines.push(`Pass rate: A ${rate(g.passedA, g.verdictsA)}  B ${rate(g.passedB, g.verdictsB)}${metricText(g)}`);
  }
  return lines.join('\n') + '\n';
}

/** "  +18 pts": the change of the pass rate (not of the count: the two may have verdicts for different numbers of units). */
function points(g: GroupDelta): string {
  if (g.verdictsA === 0 || g.verdictsB === 0) return '';
  const d = Math.round((g.passedB / g.verdictsB - g.passedA / g.verdictsA) * 100);
  return `  ${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d)} pts`;
}

/** " · score 0.5 → 0.6": each metric's mean in A and in B. */
function metricText(g: GroupDelta): string {
  const show = (x: number | null) => (x === null ? '-' : formatMetric(x));
  return Object.entries(g.metrics)
    .map(([k, m]) => ` · ${k} ${show(m.a)} → ${show(m.b)}`)
    .join('');
}

function rate(passed: number, total: number): string {
  const w = wilson(passed, total);
  if (!w) return '-';
  return `${passed}/${total} ${formatRate(w)}`;
}

function firstLine(s: string): string {
  const l = s.split('\n')[0]!;
  return l.length > 100 ? l.slice(0, 97) + '...' : l;
}

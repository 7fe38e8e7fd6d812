import * as path from 'node:path';
import { systemClock } from '../../core/clock';
import { mergeRun, type MergeOutcome } from '../../core/shard/merge';
import type { Command } from '../args';
import { runFolderArg } from '../runFolderArg';
import { out, err } from '../stdio';

const LIST = 10;
const some = (ids: readonly string[]) => ids.slice(0, LIST).join(', ') + (ids.length > LIST ? `, … (${ids.length - LIST} more)` : '');

/** `resumable merge`: exit 0 when merged (or a dry run found it complete), 1 when refused. */
export async function mergeCommand(c: Extract<Command, { cmd: 'merge' }>): Promise<number> {
  const dir = await runFolderArg(c.dir, 'merge');
  const r = await mergeRun(dir, { clock: systemClock, leaveOut: c.leaveOut, allowIncomplete: c.allowIncomplete, dryRun: c.dryRun });
  const rel = (p: string) => path.relative(process.cwd(), p) || p;
  const { plan } = r;
  out(`Journals: ${r.merged.join(', ') || 'none'}${c.leaveOut.length ? ` (left out: shard ${c.leaveOut.join(', ')} of ${r.n})` : ''}\n`);
  out(`Units with an outcome, by unit id: ${plan.done} of ${r.total}\n`);
  for (const n of r.notes) out(`  note: ${n}\n`);
  if (plan.missing.length) out(`  missing (${plan.missing.length}): ${some(plan.missing)}\n`);
  if (plan.leftOut.length) out(`  in shards left out, not done yet (${plan.leftOut.length}): ${some(plan.leftOut)}\n`);
  if (plan.duplicated.length)
    out(
      `  duplicated (${plan.duplicated.length}): ${plan.duplicated
        .slice(0, LIST)
        .map((d) => `${d.id} in ${d.in.join(' and ')}`)
        .join('; ')}\n`,
    );
  if (plan.misplaced.length)
    out(
      `  in another shard's journal (${plan.misplaced.length}): ${plan.misplaced
        .slice(0, LIST)
        .map((m) => `${m.id} in ${m.in}, belongs to ${m.belongsTo}`)
        .join('; ')}\n`,
    );
  if (plan.unknown.length) out(`  not in the config, kept as they are (${plan.unknown.length}): ${some(plan.unknown)}\n`);
  if (r.written) {
    out(`✔ Merged into ${rel(path.join(dir, 'journal.jsonl'))}; the shard journals are in ${rel(r.archive!)}/\n`);
    if (plan.missing.length) out('  The missing units run on the next `resumable run` of the experiment.\n');
    return 0;
  }
  if (c.dryRun) {
    out(
      `Dry run: nothing written. ${complete(r) ? 'Complete: merge would write one journal.' : 'Incomplete: merge would refuse without --allow-incomplete.'}\n`,
    );
    return 0;
  }
  err('resumable: not merged: the shards are not complete (see above); nothing was changed.\n');
  err(
    `  Run the shards that are missing units again (a shard resumes: \`resumable run <file> --shard k/${r.n}\`), or merge anyway with --allow-incomplete (missing units run on the next resume).\n`,
  );
  return 1;
}

function complete(r: MergeOutcome): boolean {
  return r.plan.missing.length === 0 && r.plan.duplicated.length === 0 && r.plan.misplaced.length === 0;
}

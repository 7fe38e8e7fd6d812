import * as path from 'node:path';
import { systemClock } from '../../core/clock';
import { repairRun } from '../../core/repair/repair';
import { runFolderArg } from '../runFolderArg';
import { out } from '../stdio';

/** `target`: an experiment file or its run folder. */
export async function repairCommand(target: string, dryRun: boolean): Promise<number> {
  const dir = await runFolderArg(target, 'repair');
  const preview = await repairRun(dir, { dryRun: true, clock: systemClock });
  out(`Repair of ${path.relative(process.cwd(), dir) || dir}: ${preview.summary}\n`);
  if (preview.plan.dropped.length)
    out(
      `  damaged journal lines left out: ${preview.plan.dropped.slice(0, 10).join(', ')}${preview.plan.dropped.length > 10 ? ', ...' : ''}\n`,
    );
  if (preview.plan.droppedTornTail) out('  torn last line left out\n');
  if (preview.plan.adopted.length)
    out(`  adopted: ${preview.plan.adopted.slice(0, 5).join(', ')}${preview.plan.adopted.length > 5 ? ', ...' : ''}\n`);
  if (!preview.plan.changed) {
    out('Nothing to repair.\n');
    return 0;
  }
  if (dryRun) {
    out('Dry run: nothing written. Run without --dry-run to apply (the current journal is backed up first).\n');
    return 0;
  }
  const done = await repairRun(dir, { clock: systemClock });
  out(done.written ? `Repaired (${done.summary}). Backup of the previous journal and state: ${done.backup}\n` : 'Nothing to repair.\n');
  return 0;
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DISAGREEMENT_KINDS,
  compareCheckpoint,
  readScyllaCheckpoint,
  runLabel,
  scanScyllaLayout,
  type CheckpointRun,
  type Disagreement,
  type DiskResult,
  type ScyllaLayout,
} from '../../core/bridge/scyllaCheckpoint';
import { out } from '../stdio';

/** Runs shown per kind of disagreement; the rest are counted. */
const SHOWN_PER_KIND = 10;

/**
 * `resumable checkpoint <checkpoint.json> [--json]`: where a Scylla checkpoint disagrees
 * with the run_result.json files beside it. A report, read-only: exit 0 whether they agree
 * or not (the files are the truth and adoption goes by them); 1 only for bad input (no
 * such file, a malformed checkpoint: the message names the JSON path). A folder stands for
 * the checkpoint.json in it.
 */
export async function checkpointCommand(file: string, json: boolean): Promise<number> {
  const checkpointFile = isFolder(file) ? path.join(file, 'checkpoint.json') : file;
  const checkpoint = readScyllaCheckpoint(checkpointFile);
  const dir = path.dirname(checkpointFile);
  const disk = await scanScyllaLayout(dir);
  const disagreements = compareCheckpoint(checkpoint.runs, disk.runs);
  const listed = checkpoint.runs.size;
  const done = [...checkpoint.runs.values()].filter((r) => r.done).length;
  const d = diskCounts(disk);
  const next = nextStep(checkpointFile, disk, d.passed + d.failed);

  if (json) {
    const counts = Object.fromEntries(DISAGREEMENT_KINDS.map(({ kind }) => [kind, disagreements.filter((x) => x.kind === kind).length]));
    out(
      JSON.stringify(
        {
          checkpoint: {
            file: checkpointFile,
            version: checkpoint.version,
            format: checkpoint.format,
            experimentId: checkpoint.experimentId ?? null,
            listed,
            done,
          },
          disk: { dir, layouts: disk.layouts, results: disk.runs.size, ...d, shadowed: disk.shadowed },
          agree: disagreements.length === 0,
          counts,
          disagreements: disagreements.map((x) => ({
            kind: x.kind,
            run: x.run,
            folder: runLabel(x.run),
            checkpoint: x.checkpoint ?? null,
            disk: x.disk ?? null,
          })),
          next,
        },
        null,
        2,
      ) + '\n',
    );
    return 0;
  }

  const experiment = checkpoint.experimentId ? `, experiment ${checkpoint.experimentId}` : '';
  out(`Scylla checkpoint ${checkpointFile} (v${checkpoint.version}${experiment}) against the run_result.json files beside it.\n`);
  const onDisk = [`${d.passed} passed`, `${d.failed} failed`];
  if (d.notFinished) onDisk.push(`${d.notFinished} not finished`);
  if (d.unreadable) onDisk.push(`${d.unreadable} unreadable`);
  out(
    `checkpoint lists ${listed} run${s(listed)} (${done} done), disk has ${disk.runs.size} result${s(disk.runs.size)} ` +
      `(${onDisk.join(', ')}); ${disagreements.length} disagree${disagreements.length ? ':' : '.'}\n`,
  );
  for (const { kind, title } of DISAGREEMENT_KINDS) {
    const these = disagreements.filter((x) => x.kind === kind);
    if (!these.length) continue;
    out(`  ${title} (${these.length}):\n`);
    for (const x of these.slice(0, SHOWN_PER_KIND)) out(`    ${runLabel(x.run).padEnd(20)}  ${describe(x)}\n`);
    if (these.length > SHOWN_PER_KIND) out(`    ... and ${these.length - SHOWN_PER_KIND} more (--json lists them all)\n`);
  }
  if (disk.shadowed.length) {
    out(`  found twice on disk (${disk.shadowed.length}), the first place is read:\n`);
    for (const x of disk.shadowed.slice(0, SHOWN_PER_KIND)) out(`    ${runLabel(x.run).padEnd(20)}  ${x.kept}, not ${x.file}\n`);
    if (disk.shadowed.length > SHOWN_PER_KIND) out(`    ... and ${disk.shadowed.length - SHOWN_PER_KIND} more\n`);
  }
  if (disagreements.length === 0 && (listed > 0 || disk.runs.size > 0)) out('The checkpoint and the files on disk agree.\n');
  out(`${next}\n`);
  return 0;
}

function diskCounts(disk: ScyllaLayout): { passed: number; failed: number; notFinished: number; unreadable: number } {
  const c = { passed: 0, failed: 0, notFinished: 0, unreadable: 0 };
  for (const r of disk.runs.values()) {
    if (r.status === 'passed') c.passed++;
    else if (r.status === 'failed') c.failed++;
    else if (r.status === 'not-finished') c.notFinished++;
    else c.unreadable++;
  }
  return c;
}

function describe(x: Disagreement): string {
  const cp = checkpointWord(x.checkpoint);
  switch (x.kind) {
    case 'not-in-checkpoint':
      return `${x.disk!.status} on disk (${x.disk!.file}); checkpoint: ${cp}`;
    case 'no-result':
      return `checkpoint: ${cp}; no run_result.json on disk`;
    case 'verdict-differs':
      return `${x.disk!.status} on disk (${x.disk!.file}); checkpoint: ${cp}`;
    case 'not-finished':
    case 'unreadable':
      return `checkpoint: ${cp}; ${x.disk!.file} ${why(x.disk!)}`;
  }
}

function checkpointWord(r: CheckpointRun | undefined): string {
  if (!r) return 'not listed';
  if (r.verdict && r.said !== r.verdict) return `${r.said} (${r.verdict})`;
  return r.done || r.said === r.verdict ? r.said : `${r.said} (not done)`;
}

function why(r: DiskResult): string {
  return 'why' in r ? r.why : r.status;
}

/** What to do next: the files are adopted by an experiment file, never through this checkpoint. */
function nextStep(checkpointFile: string, disk: ScyllaLayout, finished: number): string {
  const moved = disk.layouts.includes('completed') || disk.layouts.includes('in_progress');
  return [
    `Next: the files on disk are what counts (${finished} finished result${s(finished)}); the checkpoint is not read to adopt them.`,
    `  Write the experiment file of README "Bring an existing experiment" in ${path.dirname(checkpointFile)}`,
    moved
      ? `  (its result path as a list: "completed/\${item.id}/run_result.json", then "in_progress/\${item.id}/run_result.json"), then:`
      : `  (items globbed from T*/*/run_*/, result path \${item.tier}/\${item.subtest}/run_\${item.run:02}/run_result.json), then:`,
    `  resumable run <experiment> --dry-run     says how many results it adopts; runs and writes nothing`,
  ].join('\n');
}

function isFolder(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function s(n: number): string {
  return n === 1 ? '' : 's';
}

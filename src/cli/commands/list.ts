import * as path from 'node:path';
import fg from 'fast-glob';
import { systemClock } from '../../core/clock';
import { readRunReport } from '../../core/status/report';
import { doneCount } from '../../core/run/view';

/** Experiment files under the current folder, and the runs made from them. */
export async function listCommand(json: boolean): Promise<number> {
  const files = (await fg('**/*.experiment.json', { ignore: ['**/node_modules/**', '**/.resumable/**'], deep: 8 })).sort();
  const runs = (await fg('**/.resumable/*/experiment.json', { dot: true, ignore: ['**/node_modules/**'], deep: 8 })).map((f) => path.dirname(f)).sort();
  const reports = [];
  for (const r of runs) reports.push(await readRunReport(path.resolve(r), systemClock));
  if (json) {
    process.stdout.write(JSON.stringify({ experiments: files, runs: reports.map((r) => ({ runDir: r.runDir, name: r.name, status: r.status, done: doneCount(r.counts), total: r.total })) }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(files.length ? `Experiments:\n${files.map((f) => `  ${f}`).join('\n')}\n` : 'No *.experiment.json files under this folder.\n');
  if (reports.length) {
    process.stdout.write('Runs:\n');
    for (const r of reports) process.stdout.write(`  ${path.relative(process.cwd(), r.runDir).padEnd(40)}  ${r.status.padEnd(17)}  ${doneCount(r.counts)}/${r.total}\n`);
  }
  return 0;
}

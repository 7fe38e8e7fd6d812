import * as path from 'node:path';
import fg from 'fast-glob';
import { doneCount } from '../../core/model/view';
import { readReports } from '../reports';
import { out } from '../stdio';

/** Experiment files under the current folder, and the runs made from them. */
export async function listCommand(json: boolean): Promise<number> {
  const files = (await fg('**/*.experiment.json', { ignore: ['**/node_modules/**', '**/.resumable/**'], deep: 8 })).sort();
  const runs = (await fg('**/.resumable/*/experiment.json', { dot: true, ignore: ['**/node_modules/**'], deep: 8 }))
    .map((f) => path.dirname(f))
    .sort();
  const { reports, failed } = await readReports(
    runs.map((r) => path.resolve(r)),
    false,
  );
  const code = failed > 0 ? 1 : 0;
  if (json) {
    out(
      JSON.stringify(
        {
          experiments: files,
          runs: reports.map((r) => ({ runDir: r.runDir, name: r.name, status: r.status, done: doneCount(r.counts), total: r.total })),
        },
        null,
        2,
      ) + '\n',
    );
    return code;
  }
  out(files.length ? `Experiments:\n${files.map((f) => `  ${f}`).join('\n')}\n` : 'No *.experiment.json files under this folder.\n');
  if (reports.length) {
    out('Runs:\n');
    for (const r of reports)
      out(`  ${path.relative(process.cwd(), r.runDir).padEnd(40)}  ${r.status.padEnd(17)}  ${doneCount(r.counts)}/${r.total}\n`);
  }
  return code;
}

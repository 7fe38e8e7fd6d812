// `resumable results --format csv` of a large run: its peak memory beside `status` of the same
// run (both hold the run's state; an export that also held its rows would grow past it), and its
// time beside a plain parse of the journal. Each figure in its own process.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fmt, inChild, root, table, tmp } from './lib.mjs';
import { finishedRun } from './fixtures.mjs';

const CLI = path.join(root, 'dist', 'cli.js');

export async function child(kind, { n, dir }) {
  if (kind === 'fixture') {
    const d = tmp('results');
    const { runDir, journal } = await finishedRun(d, n, 0);
    return { dir: d, runDir, journal };
  }
  if (kind === 'parse') {
    const t0 = performance.now();
    let lines = 0;
    for (const line of fs.readFileSync(path.join(dir, 'journal.jsonl'), 'utf8').split('\n')) {
      if (!line) continue;
      JSON.parse(line);
      lines++;
    }
    return { ms: performance.now() - t0, lines };
  }
  // The CLI itself, in this process (its peak memory is this process's): `results` or `status`.
  const args = kind === 'export' ? ['results', dir, '--format', 'csv'] : ['status', dir, '--json'];
  const write = process.stdout.write;
  let bytes = 0;
  process.stdout.write = (chunk) => ((bytes += Buffer.byteLength(chunk)), true);
  process.argv = [process.execPath, CLI, ...args];
  const t0 = performance.now();
  createRequire(import.meta.url)(CLI);
  await new Promise((r) => process.once('beforeExit', r));
  const ms = performance.now() - t0;
  process.stdout.write = write;
  if (process.exitCode) throw new Error(`${args.join(' ')} exited ${process.exitCode}`);
  return { ms, bytes };
}

export function run({ quick, log }) {
  const sizes = quick ? [2000] : [100_000, 1_000_000];
  const r = [];
  for (const n of sizes) {
    const f = inChild('results', 'fixture', { n });
    try {
      const exp = inChild('results', 'export', { dir: f.runDir });
      const st = inChild('results', 'status', { dir: f.runDir });
      const parse = inChild('results', 'parse', { dir: f.runDir });
      const rows = exp.bytes;
      r.push({ n, exportMs: exp.ms, exportMB: exp.peakRssMB, statusMs: st.ms, statusMB: st.peakRssMB, parseMs: parse.ms, csvBytes: rows });
      log(
        `results: ${n} units: export ${fmt.ms(exp.ms)} ${fmt.mb(exp.peakRssMB)}, status ${fmt.ms(st.ms)} ${fmt.mb(st.peakRssMB)}, parse ${fmt.ms(parse.ms)}`,
      );
    } finally {
      fs.rmSync(f.dir, { recursive: true, force: true });
    }
  }
  const big = r[r.length - 1];
  const ratio = big.exportMB / big.statusMB;
  const md = [
    '## Results export',
    '',
    '`resumable results <run folder> --format csv` of a finished run (every unit passed; no result fields asked, so no result file is read), run in its own process with its output counted and dropped. The memory baseline is `resumable status --json` of the same run, which holds the same run state; the time baseline is a plain `JSON.parse` of every journal line.',
    '',
    table(
      ['units', 'export', 'export peak RSS', 'status peak RSS', 'export / status RSS', 'export / journal parse', 'CSV size'],
      r.map((x) => [
        x.n.toLocaleString('en-US'),
        fmt.ms(x.exportMs),
        fmt.mb(x.exportMB),
        fmt.mb(x.statusMB),
        fmt.ratio(x.exportMB / x.statusMB),
        fmt.ratio(x.exportMs / x.parseMs),
        fmt.mb(x.csvBytes / 1e6),
      ]),
    ),
    '',
    `At ${big.n.toLocaleString('en-US')} units the export's peak memory is ${fmt.ratio(ratio)} that of \`status\` (goal: ≤ 1.25×, the rows streamed, not held — ${ratio <= 1.25 ? 'met' : 'missed'}).`,
  ].join('\n');
  return { md, results: r, ratio };
}

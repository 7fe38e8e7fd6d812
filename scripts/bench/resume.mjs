// Resume of a big run: time until the first new unit is dispatched, and peak memory, vs the
// floor (stream the same journal and build a Map of unit → status).
import * as fs from 'node:fs';
import { finishedRun } from './fixtures.mjs';
import { core, fmt, inChild, pair, table, tmp } from './lib.mjs';

export async function child(kind, { dir, file, journal, n, left }) {
  if (kind === 'setup') {
    const d = tmp('resume');
    const r = await finishedRun(d, n, left);
    return { dir: d, file: r.file, journal: r.journal };
  }
  if (kind === 'engine') {
    const { Run } = await core();
    let first;
    const t0 = performance.now();
    const run = new Run({
      experiment: file,
      concurrency: 1,
      handler: async () => {
        first ??= performance.now() - t0;
        run.stop();
        return { passed: true };
      },
    });
    await run.run();
    if (first === undefined) throw new Error('no unit was dispatched');
    return { ms: first };
  }
  if (kind === 'floor') {
    const t0 = performance.now();
    const map = new Map();
    let rest = '';
    for await (const chunk of fs.createReadStream(journal, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop();
      for (const l of lines) {
        const r = JSON.parse(l);
        if (r.u !== undefined) map.set(r.u, r.s ?? 'running');
      }
    }
    const ms = performance.now() - t0;
    return { ms, units: map.size };
  }
  if (kind === 'cleanup') fs.rmSync(dir, { recursive: true, force: true });
  return {};
}

export function run({ quick, log }) {
  const sizes = quick ? [2000] : [250_000, 1_000_000];
  const rows = [];
  const results = [];
  for (const n of sizes) {
    const left = 200;
    const setup = inChild('resume', 'setup', { n, left });
    try {
      const reps = quick || n < 1_000_000 ? 1 : 3;
      const p = pair(
        reps,
        () => inChild('resume', 'engine', setup),
        () => inChild('resume', 'floor', setup),
        (r) => r,
      );
      const e = { ms: p.engineRuns.map((r) => r.ms), rss: p.engineRuns.map((r) => r.peakRssMB) };
      const b = { ms: p.baselineRuns.map((r) => r.ms), rss: p.baselineRuns.map((r) => r.peakRssMB) };
      const med = (xs) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
      const r = {
        n,
        engineMs: med(e.ms),
        floorMs: med(b.ms),
        engineRss: med(e.rss),
        floorRss: med(b.rss),
        journalMB: fs.statSync(setup.journal).size / 2 ** 20,
      };
      r.ratio = r.engineMs / r.floorMs;
      results.push(r);
      log(
        `resume: ${n} units: engine ${fmt.ms(r.engineMs)} / ${fmt.mb(r.engineRss)}, floor ${fmt.ms(r.floorMs)} / ${fmt.mb(r.floorRss)} (${fmt.ratio(r.ratio)})`,
      );
      rows.push([
        n.toLocaleString('en-US'),
        `${r.journalMB.toFixed(0)} MB`,
        fmt.ms(r.engineMs),
        fmt.ms(r.floorMs),
        fmt.ratio(r.ratio),
        fmt.mb(r.engineRss),
        fmt.mb(r.floorRss),
        `${((r.engineRss - r.floorRss) / (n / 1e6)).toFixed(0)} MB per 1M units`,
        r.ratio <= 1.5 ? 'met' : 'missed',
      ]);
    } finally {
      inChild('resume', 'cleanup', setup);
    }
  }
  const md = [
    '## Resume of a big run',
    '',
    `A run whose journal has every unit but the last ${200} finished (2 lines per unit, made by a real run then extended). Engine: \`new Run(...).run()\` from the call until the first new unit is handed to the handler — it loads and validates the experiment file and its items, checks the frozen config and its hash, takes the lock, replays the journal into the run's view, looks for orphaned processes and result files to adopt, and plans. Floor: stream the same journal and build a Map of unit → status. Peak RSS (VmHWM) of each process. Medians of ${quick ? 1 : 3} runs at 1M (1 run at 250k).`,
    '',
    table(
      [
        'units',
        'journal',
        'engine: first dispatch',
        'floor: Map built',
        'engine / floor (goal ≤ 1.5×)',
        'engine peak RSS',
        'floor peak RSS',
        'engine − floor RSS',
        'goal',
      ],
      rows,
    ),
  ].join('\n');
  return { md, results };
}

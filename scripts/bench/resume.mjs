// Resume of a big run: time until the first new unit is dispatched, and peak memory, vs a plain
// parse of the same journal into a Map; then `status` of that run, and what the editor's
// registry holds for it and takes to show 1,000 new journal lines.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { finishedRun } from './fixtures.mjs';
import { core, fmt, inChild, median, root, table, tmp } from './lib.mjs';

export async function child(kind, { dir, file, journal, runDir, n, left }) {
  if (kind === 'setup') {
    const d = tmp('resume');
    const r = await finishedRun(d, n, left);
    // A dataset written a moment before a run is known by its bytes until 2 s have passed
    // (src/core/config/itemsSource.ts, RACY_MS): the runs below are of a dataset made earlier, as a resume's is.
    const items = path.join(d, 'items.jsonl');
    const changed = () => Math.max(fs.statSync(items).mtimeMs, fs.statSync(items).ctimeMs);
    while (Date.now() - changed() <= 2100) await new Promise((res) => setTimeout(res, 50));
    return { dir: d, file: r.file, journal: r.journal, runDir: r.runDir };
  }
  if (kind === 'engine') {
    const { Run } = await core();
    let first;
    const notes = [];
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
    run.onEvent((e) => e.type === 'note' && notes.push(e.message));
    await run.run();
    if (first === undefined) throw new Error('no unit was dispatched');
    return { ms: first, fromSnapshot: !notes.some((m) => /snapshot/.test(m)) && fs.existsSync(path.join(runDir, 'snapshot.bin')) };
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
  if (kind === 'status') {
    const t0 = performance.now();
    const out = execFileSync(process.execPath, [path.join(root, 'dist', 'cli.js'), 'status', file, '--json'], { maxBuffer: 1 << 30 });
    const ms = performance.now() - t0;
    const r = JSON.parse(out);
    if (r.total !== n) throw new Error(`status says ${r.total} units, not ${n}`);
    return { ms };
  }
  if (kind === 'registry') {
    // What the extension keeps per run (src/extension/runs.ts): a RunFollower, polled and reported on each batch of events.
    const { RunFollower, systemClock } = await core();
    globalThis.gc?.();
    const before = process.memoryUsage();
    const f = RunFollower.open(runDir);
    await f.poll();
    f.report(systemClock, { unknownBy: 'cell' });
    globalThis.gc?.();
    const held = process.memoryUsage();
    const refresh = [];
    for (let rep = 0; rep < 5; rep++) {
      const add = [];
      for (let i = 0; i < 500; i++) {
        const u = `u${String(1 + rep * 500 + i).padStart(7, '0')}`;
        add.push(`{"t":"start","ts":3,"u":"${u}","a":${rep + 2}}`, `{"t":"end","ts":4,"u":"${u}","a":${rep + 2},"s":"passed","d":3}`);
      }
      fs.appendFileSync(journal, add.join('\n') + '\n');
      const t0 = performance.now();
      if ((await f.poll()) <= 0) throw new Error('the follower read nothing');
      f.report(systemClock, { unknownBy: 'cell' });
      refresh.push(performance.now() - t0);
    }
    const heapMB = (held.heapUsed + held.external + held.arrayBuffers - before.heapUsed - before.external - before.arrayBuffers) / 2 ** 20;
    return { heapMB, rssMB: held.rss / 2 ** 20, refreshMs: median(refresh) };
  }
  if (kind === 'cleanup') fs.rmSync(dir, { recursive: true, force: true });
  return {};
}

export function run({ quick, log }) {
  const sizes = quick ? [2000] : [50_000, 1_000_000];
  const reps = quick ? 1 : 3;
  const rows = [];
  const extraRows = [];
  const results = [];
  for (const n of sizes) {
    const left = 200;
    const setup = inChild('resume', 'setup', { n, left });
    try {
      // The first resume reads the whole journal (no snapshot covers it yet) and leaves one; the next ones read it.
      const replay = inChild('resume', 'engine', setup);
      const engine = [];
      const floor = [];
      for (let i = 0; i < reps; i++) {
        engine.push(inChild('resume', 'engine', setup));
        floor.push(inChild('resume', 'floor', setup));
      }
      if (!engine.every((r) => r.fromSnapshot)) throw new Error('a resume did not read the unit snapshot');
      const status = Array.from({ length: reps }, () => inChild('resume', 'status', { ...setup, n }));
      const registry = inChild('resume', 'registry', setup, ['--expose-gc']);
      const r = {
        n,
        replayMs: replay.ms,
        replayRss: replay.peakRssMB,
        engineMs: median(engine.map((x) => x.ms)),
        engineRss: median(engine.map((x) => x.peakRssMB)),
        floorMs: median(floor.map((x) => x.ms)),
        floorRss: median(floor.map((x) => x.peakRssMB)),
        statusMs: median(status.map((x) => x.ms)),
        registryMB: registry.heapMB,
        refreshMs: registry.refreshMs,
        journalMB: fs.statSync(setup.journal).size / 2 ** 20,
      };
      r.ratio = r.engineMs / r.floorMs;
      const timeGoal = n >= 1_000_000 ? 1500 : 200;
      r.met = r.engineMs <= timeGoal && r.ratio <= 0.5 && (n < 1_000_000 || r.engineRss <= 300);
      results.push(r);
      log(
        `resume: ${n} units: engine ${fmt.ms(r.engineMs)} / ${fmt.mb(r.engineRss)} (replay ${fmt.ms(r.replayMs)}), floor ${fmt.ms(r.floorMs)} (${fmt.ratio(r.ratio)}); status ${fmt.ms(r.statusMs)}; registry ${fmt.mb(r.registryMB)}, refresh ${fmt.ms(r.refreshMs)}`,
      );
      rows.push([
        n.toLocaleString('en-US'),
        `${r.journalMB.toFixed(0)} MB`,
        fmt.ms(r.engineMs),
        fmt.ms(r.replayMs),
        fmt.ms(r.floorMs),
        fmt.ratio(r.ratio),
        fmt.mb(r.engineRss),
        fmt.mb(r.floorRss),
        r.met ? 'met' : 'missed',
      ]);
      extraRows.push([
        n.toLocaleString('en-US'),
        `${fmt.ms(r.statusMs)} (${n >= 1_000_000 ? (r.statusMs <= 1000 ? 'met' : 'missed') : 'no goal'})`,
        `${fmt.mb(r.registryMB)} (${n >= 1_000_000 ? (r.registryMB <= 200 ? 'met' : 'missed') : 'no goal'})`,
        `${fmt.ms(r.refreshMs)} (${r.refreshMs < 50 ? 'met' : 'missed'})`,
      ]);
    } finally {
      inChild('resume', 'cleanup', setup);
    }
  }
  const md = [
    '## Resume of a big run',
    '',
    `A run whose journal has every unit but the last 200 finished (2 lines per unit, made by a real run then extended). Engine: \`new Run(...).run()\` from the call until the first new unit is handed to the handler — it loads the experiment file, finds its items file unchanged by its fingerprint (no item hashed again), checks the frozen config's head and hash, takes the lock, reads the unit snapshot and the journal after it, looks for orphaned processes and result files to adopt, and plans. The first resume of each size reads the whole journal (no snapshot covered it yet) and leaves a snapshot; the engine column is the median of the ${reps} resumes after it. Floor: stream the same journal and build a Map of unit → status (a plain parse of the journal). Peak RSS (VmHWM) of each process. Goals: ≤ 0.2 s at 50k and ≤ 1.5 s at 1M, both ≤ 0.5× the floor, ≤ 300 MB peak at 1M.`,
    '',
    table(
      [
        'units',
        'journal',
        'engine: first dispatch',
        'first resume (whole journal)',
        'floor: journal parsed',
        'engine / floor (goal ≤ 0.5×)',
        'engine peak RSS',
        'floor peak RSS',
        'goal',
      ],
      rows,
    ),
    '',
    `The same runs read by \`resumable status <file> --json\` (its own process, median of ${reps}; goal ≤ 1 s at 1M), and by the editor's registry: one \`RunFollower\` as \`src/extension/runs.ts\` keeps it, the heap it holds after a report (after a GC; goal ≤ 200 MB at 1M), and one refresh after 1,000 new journal lines (poll + report, median of 5; goal < 50 ms).`,
    '',
    table(['units', '`status` of the run', 'registry memory', 'tree refresh after 1,000 lines'], extraRows),
  ].join('\n');
  return { md, results };
}

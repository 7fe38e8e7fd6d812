// Bookkeeping per unit: the engine with an in-process no-op handler, vs the naive design
// (rewrite a whole JSON checkpoint atomically after every unit) and vs the raw floor
// (group-commit append of the same start/end records).
import * as fs from 'node:fs';
import * as path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { GroupCommitLog } from './groupCommit.mjs';
import { core, fmt, inChild, pair, table, tmp, writeExperiment } from './lib.mjs';

export async function child(kind, { n, c }) {
  const dir = tmp('book');
  try {
    const { file, ids } = writeExperiment(dir, n);
    // Loaded before the clock starts: the floor loads nothing either.
    const { Run } = await core();
    const t0 = performance.now();
    if (kind === 'engine') {
      const summary = await new Run({ experiment: file, handler: async () => ({ passed: true }), concurrency: c }).run();
      if (summary.counts.passed !== n) throw new Error(`engine: ${summary.counts.passed} of ${n} passed`);
    } else if (kind === 'floor') {
      const log = new GroupCommitLog(path.join(dir, 'journal.jsonl'));
      let next = 0;
      const worker = async () => {
        while (next < n) {
          const u = ids[next++];
          log.append({ t: 'start', ts: Date.now(), u, a: 1 });
          await log.append({ t: 'end', ts: Date.now(), u, a: 1, s: 'passed', d: 0 });
        }
      };
      await Promise.all(Array.from({ length: c }, worker));
      log.close();
    } else if (kind === 'naive') {
      // What hand-rolled scripts do: one JSON checkpoint, rewritten safely after every unit.
      const state = {};
      for (const u of ids) {
        state[u] = { status: 'passed', attempts: 1, ts: Date.now() };
        await writeFileAtomic(path.join(dir, 'checkpoint.json'), JSON.stringify(state), { fsync: true });
      }
    }
    return { ms: performance.now() - t0 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function run({ quick, log }) {
  const sizes = quick ? [200] : [1000, 10_000, 100_000];
  const naiveSizes = quick ? [200] : [1000, 10_000];
  const concs = [1, 8, 64];
  const rows = [];
  const results = [];
  const naive = new Map();
  for (const n of naiveSizes) {
    const ms = inChild('bookkeeping', 'naive', { n, c: 1 }).ms;
    naive.set(n, ms);
    log(`bookkeeping: naive ${n} units: ${fmt.ms(ms)}`);
  }
  for (const n of sizes) {
    for (const c of concs) {
      const reps = quick ? 1 : 3;
      const p = pair(
        reps,
        () => inChild('bookkeeping', 'engine', { n, c }),
        () => inChild('bookkeeping', 'floor', { n, c }),
        (r) => r.ms,
      );
      const engineRate = (n / p.engine) * 1000;
      const floorRate = (n / p.baseline) * 1000;
      const ofFloor = engineRate / floorRate;
      const vsNaive = naive.has(n) ? naive.get(n) / p.engine : undefined;
      results.push({ n, c, engineMs: p.engine, floorMs: p.baseline, naiveMs: naive.get(n) ?? null, ofFloor, vsNaive: vsNaive ?? null });
      log(
        `bookkeeping: ${n} units, concurrency ${c}: engine ${fmt.rate(engineRate)}, floor ${fmt.rate(floorRate)} (${fmt.pct(ofFloor)})${vsNaive ? `, ${fmt.ratio(vsNaive)} the naive design` : ''}`,
      );
      rows.push([
        n.toLocaleString('en-US'),
        c,
        `${fmt.ms(p.engine)} (${fmt.rate(engineRate)})`,
        `${fmt.ms(p.baseline)} (${fmt.rate(floorRate)})`,
        fmt.pct(ofFloor),
        naive.has(n) ? fmt.ms(naive.get(n)) : '—',
        vsNaive ? fmt.ratio(vsNaive) : '—',
        ofFloor >= 0.5 && (n !== 10_000 || (vsNaive ?? 0) >= 50) ? 'met' : 'missed',
      ]);
    }
  }
  const md = [
    '## Bookkeeping per unit',
    '',
    `In-process no-op handler, so the figure is the engine's own cost per unit (journal start + end with group commit, snapshots, scheduling). Floor: a leader-style group-commit log appending the same two records per unit, each unit waiting for its end record to be durable, with the same number in flight. Naive: one JSON checkpoint rewritten with write-file-atomic (fsync) after every unit, sequentially, measured once at ${naiveSizes.map((n) => n.toLocaleString('en-US')).join(' and ')} units only (it grows quadratically: 100k would take hours). Medians of ${quick ? 1 : 3} runs, each in its own process.`,
    '',
    table(
      ['units', 'concurrency', 'engine', 'floor', 'engine / floor (goal ≥ 50%)', 'naive', 'engine vs naive (goal ≥ 50× at 10k)', 'goal'],
      rows,
    ),
  ].join('\n');
  return { md, results };
}

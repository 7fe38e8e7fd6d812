// Dispatch of many tiny process units: the engine (process executor, journal, logs) vs a raw
// loop that spawns the same command with the same concurrency.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { core, fmt, inChild, pair, table, tmp, writeExperiment } from './lib.mjs';

const UNIT = ['sh', '-c', 'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"'];

export async function child(kind, { n, c }) {
  const dir = tmp('dispatch');
  try {
    const { Run } = await core();
    const { file } = writeExperiment(dir, n, { run: { command: UNIT } });
    const t0 = performance.now();
    if (kind === 'engine') {
      const s = await new Run({ experiment: file, concurrency: c }).run();
      if (s.counts.passed !== n) throw new Error(`engine: ${JSON.stringify(s.counts)}`);
      return { ms: performance.now() - t0 };
    }
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const u = path.join(dir, `u${next++}`);
        fs.mkdirSync(u);
        await new Promise((resolve, reject) => {
          const p = spawn(UNIT[0], UNIT.slice(1), { env: { ...process.env, RESUMABLE_UNIT_DIR: u }, stdio: 'ignore' });
          p.on('error', reject);
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
        });
      }
    };
    await Promise.all(Array.from({ length: c }, worker));
    return { ms: performance.now() - t0 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function run({ quick, log }) {
  const n = quick ? 100 : 2000;
  const rows = [];
  const results = [];
  for (const c of [2, 8]) {
    const reps = quick ? 1 : 3;
    const p = pair(reps, () => inChild('dispatch', 'engine', { n, c }), () => inChild('dispatch', 'raw', { n, c }), (r) => r.ms);
    const share = p.baseline / p.engine;
    results.push({ n, c, engineMs: p.engine, rawMs: p.baseline, share });
    log(`dispatch: ${n} process units at ${c}: engine ${fmt.ms(p.engine)}, raw loop ${fmt.ms(p.baseline)} (${fmt.pct(share)} of raw speed)`);
    rows.push([n.toLocaleString('en-US'), c, `${fmt.ms(p.engine)} (${fmt.rate((n / p.engine) * 1000)})`, `${fmt.ms(p.baseline)} (${fmt.rate((n / p.baseline) * 1000)})`, fmt.pct(share), share >= 0.9 ? 'met' : 'missed']);
  }
  const md = [
    '## Dispatch of process units',
    '',
    `Each unit is \`${UNIT.join(' ')}\` (writes its result). Engine: the process executor — its own process group, output.log, environment, timeout watch, result judged, start and end journaled. Raw loop: \`child_process.spawn\` of the same command with the same concurrency, a folder per unit, waiting for exit. Medians of ${quick ? 1 : 3} runs.`,
    '',
    table(['units', 'concurrency', 'engine', 'raw loop', 'engine speed / raw (goal ≥ 90%)', 'goal'], rows),
  ].join('\n');
  return { md, results };
}

// Repair over many result files: the engine's repair (dry run: scan, read, judge, plan) vs
// the floor of the same reading: fast-glob + readFileSync + JSON.parse of the same tree.
import * as fs from 'node:fs';
import * as path from 'node:path';
import fg from 'fast-glob';
import { finishedRun } from './fixtures.mjs';
import { core, fmt, inChild, pair, table, tmp } from './lib.mjs';

export async function child(kind, { dir, runDir, n }) {
  if (kind === 'setup') {
    const { unitFolderName } = await core();
    const d = tmp('repair');
    // A run that lost its journal's outcomes: every unit's result is only in its folder.
    const r = await finishedRun(d, n, n - 1);
    for (const id of r.ids) {
      const u = path.join(r.runDir, 'units', unitFolderName(id));
      fs.mkdirSync(u, { recursive: true });
      fs.writeFileSync(path.join(u, 'result.json'), `{"passed": true, "unit": "${id}"}\n`);
    }
    return { dir: d, runDir: r.runDir };
  }
  if (kind === 'engine') {
    const { repairRun, systemClock } = await core();
    const t0 = performance.now();
    const out = await repairRun(runDir, { dryRun: true, clock: systemClock });
    return { ms: performance.now() - t0, summary: out.summary };
  }
  if (kind === 'floor') {
    const t0 = performance.now();
    const units = path.join(runDir, 'units');
    let passed = 0;
    for (const f of await fg('*/result.json', { cwd: units, onlyFiles: true }))
      if (JSON.parse(fs.readFileSync(path.join(units, f), 'utf8')).passed) passed++;
    return { ms: performance.now() - t0, passed };
  }
  if (kind === 'cleanup') fs.rmSync(dir, { recursive: true, force: true });
  return {};
}

export function run({ quick, log }) {
  const n = quick ? 500 : 100_000;
  const setup = inChild('repair', 'setup', { n });
  try {
    // Warm the page cache once each, as "warm" figures mean.
    inChild('repair', 'engine', setup);
    inChild('repair', 'floor', setup);
    const reps = quick ? 1 : 3;
    const p = pair(
      reps,
      () => inChild('repair', 'engine', setup),
      () => inChild('repair', 'floor', setup),
      (r) => r.ms,
    );
    const ratio = p.engine / p.baseline;
    log(`repair: ${n} result files: engine ${fmt.ms(p.engine)}, floor ${fmt.ms(p.baseline)} (${fmt.ratio(ratio)})`);
    const md = [
      '## Repair over many result files',
      '',
      `${n.toLocaleString('en-US')} unit folders each with a result.json that the journal does not know. Engine: \`repairRun(dir, { dryRun: true })\` — reads the journal and the frozen config, lists \`units/\` once, reads and judges the result file of every unit the journal has not finished (it knows their paths, so it reads no other folder), and plans the adoption (the diff \`resumable repair --dry-run\` prints). Floor: fast-glob + readFileSync + JSON.parse of the same tree. Warm page cache (one untimed run of each first), medians of ${reps} runs.`,
      '',
      table(
        ['result files', 'engine', 'floor', 'engine / floor (goal ≤ 1.3×)', 'goal'],
        [[n.toLocaleString('en-US'), fmt.ms(p.engine), fmt.ms(p.baseline), fmt.ratio(ratio), ratio <= 1.3 ? 'met' : 'missed']],
      ),
    ].join('\n');
    return { md, results: [{ n, engineMs: p.engine, floorMs: p.baseline, ratio }] };
  } finally {
    inChild('repair', 'cleanup', setup);
  }
}

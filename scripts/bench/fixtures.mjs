// Run folders for the resume, repair and tail benchmarks, made the way a real run makes them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { core, writeExperiment } from './lib.mjs';

/**
 * An experiment of `n` units whose run folder exists (frozen config, journal header) and
 * whose journal says every unit but the last `left` passed.
 */
export async function finishedRun(dir, n, left) {
  const { Run, systemClock } = await core();
  const { file, ids } = writeExperiment(dir, n);
  // One real run, stopped at its first unit, makes the run folder exactly as the engine does.
  const run = new Run({ experiment: file, concurrency: 1, handler: async () => (run.stop(), { passed: true }) });
  const summary = await run.run();
  const journal = path.join(summary.runDir, 'journal.jsonl');
  const fd = fs.openSync(journal, 'a');
  const ts = systemClock.now();
  let chunk = [];
  for (let i = 1; i < n - left; i++) {
    chunk.push(`{"t":"start","ts":${ts},"u":"${ids[i]}","a":1}`, `{"t":"end","ts":${ts},"u":"${ids[i]}","a":1,"s":"passed","d":3}`);
    if (chunk.length >= 20_000) {
      fs.writeSync(fd, chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) fs.writeSync(fd, chunk.join('\n') + '\n');
  fs.closeSync(fd);
  return { file, ids, runDir: summary.runDir, journal };
}

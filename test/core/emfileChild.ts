// Runs a ProcessExecutor with every file descriptor of this process taken, then with one
// left, then with all back, and prints what each attempt ended with (one JSON line).
// Usage: node --import tsx emfileChild.ts <experiment file> <run folder>   (under a low ulimit -n)
import * as fs from 'node:fs';
import { systemClock } from '../../src/core/clock';
import { loadExperiment } from '../../src/core/config/load';
import { ProcessExecutor } from '../../src/core/exec/processExecutor';
import type { AttemptResult } from '../../src/core/exec/attempt';
import { RunPaths } from '../../src/core/store/paths';

async function main(): Promise<void> {
  const [file, runDir] = process.argv.slice(2) as [string, string];
  const exp = await loadExperiment(file);
  const paths = new RunPaths(runDir);
  fs.mkdirSync(paths.units, { recursive: true });
  const executor = new ProcessExecutor(exp, paths, systemClock);
  const unit = exp.units[0]!;
  let attempt = 0;
  const run = (): Promise<AttemptResult> => executor.start(unit, ++attempt, () => undefined).done;
  const fds = () => fs.readdirSync('/proc/self/fd').length;

  // A first start sets up what every later one shares (libuv's SIGCHLD pipe), while fds are free.
  const warm = await run();
  const base = fds();
  const held: number[] = [];
  try {
    for (;;) held.push(fs.openSync('/dev/null', 'r'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EMFILE') throw e;
  }
  const noneFree = await run();
  // One free: the unit's log gets it, spawn then finds none for its own pipe.
  fs.closeSync(held.pop()!);
  const oneFree = await run();
  // Still exactly one free: the failed start closed its log.
  held.push(fs.openSync('/dev/null', 'r'));
  let secondOpen = 'opened';
  try {
    fs.closeSync(fs.openSync('/dev/null', 'r'));
  } catch (e) {
    secondOpen = (e as NodeJS.ErrnoException).code ?? 'error';
  }
  for (const fd of held) fs.closeSync(fd);
  const after = await run();
  process.stdout.write(JSON.stringify({ warm, noneFree, oneFree, secondOpen, after, leaked: fds() - base }) + '\n');
}

main().catch((e: Error) => {
  process.stderr.write(`emfileChild: ${e.stack}\n`);
  process.exit(3);
});

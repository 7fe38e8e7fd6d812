// `npm run demo`: runs examples/quickstart end to end as a user would in a terminal —
// live progress, a rate-limit pause with its countdown, one Ctrl+C, a resume, the summary.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const example = path.join(root, 'examples', 'quickstart');
const cli = path.join(root, 'dist', 'cli.js');
const file = path.join('examples', 'quickstart', 'quickstart.experiment.json');
const say = (s) => process.stderr.write(`\n\x1b[1m▶ demo: ${s}\x1b[0m\n`);

// The demo is a sandbox: start from nothing each time.
rmSync(path.join(example, '.resumable'), { recursive: true, force: true });
rmSync(path.join(example, '.demo-api'), { recursive: true, force: true });
// Ctrl+C during the demo goes to the CLI (same process group); the driver just waits.
process.on('SIGINT', () => {});

function cliRun(args, { interruptAfterMs } = {}) {
  return new Promise((resolve) => {
    say(`$ resumable ${args.join(' ')}`);
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: 'inherit' });
    let timer;
    if (interruptAfterMs) {
      timer = setTimeout(() => {
        say('pressing Ctrl+C (SIGINT) — units in flight finish, nothing is lost');
        child.kill('SIGINT');
      }, interruptAfterMs);
    }
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

const t0 = Date.now();
say('300 units (150 questions × 2 models) against a flaky, rate-limited fake API');
const first = await cliRun(['run', file], { interruptAfterMs: 3500 });
say(`the run exited with ${first} (130 = interrupted). Resuming: finished units are skipped.`);
const second = await cliRun(['run', file]);
say(`exit code ${second}. Where it stands:`);
await cliRun(['status', file]);
say(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s. Try: node dist/cli.js status ${file} --json`);
process.exit(first === 130 && second === 0 ? 0 : 1);

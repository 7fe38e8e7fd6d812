// A runner process for the torture tests: the engine through the library, with a handler
// that behaves like a process unit (its own folder, runs.log evidence, result written by
// temp + rename) but in-process, so thousands of units run in a fraction of a second.
// Usage: node libRunner.cjs <experiment file> <concurrency>
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Run, unitFolderName } = require(process.env.RESUMABLE_CORE || path.resolve(__dirname, '../../dist/core.js'));

const [file, concurrency] = process.argv.slice(2);
let runDir;
// TORTURE_STOP_AFTER=N: stop (as a first Ctrl+C does) once N units started: a session that ends part way.
let started = 0;
const stopAfter = Number(process.env.TORTURE_STOP_AFTER || 0);
const run = new Run({
  experiment: file,
  concurrency: Number(concurrency || 16),
  handler: async ({ unit }) => {
    if (stopAfter && ++started === stopAfter) run.stop();
    if (process.env.TORTURE_STARTS) {
      // The crash model's units: evidence outside the run folder, no result files to adopt.
      fs.appendFileSync(process.env.TORTURE_STARTS, `${unit.id}\n`);
      await new Promise((r) => setTimeout(r, 2));
      return { passed: true };
    }
    const dir = path.join(runDir, 'units', unitFolderName(unit.id));
    fs.mkdirSync(dir, { recursive: true });
    fs.appendFileSync(path.join(dir, 'runs.log'), 'start\n');
    await new Promise((r) => setImmediate(r));
    fs.writeFileSync(path.join(dir, 'result.tmp'), '{"passed": true}\n');
    fs.renameSync(path.join(dir, 'result.tmp'), path.join(dir, 'result.json'));
    fs.appendFileSync(path.join(dir, 'runs.log'), 'done\n');
    return { passed: true };
  },
});
run.onEvent((e) => {
  if (e.type === 'start') runDir = e.runDir;
  if (e.type === 'note' && process.env.TORTURE_NOTES) process.stderr.write(`${e.message}\n`);
});
run.run().then(
  (s) => {
    if (s.message) process.stderr.write(`${s.message}\n`);
    process.exit(s.exitCode);
  },
  (e) => {
    process.stderr.write(`resumable: ${e && e.message}\n`);
    // Like the CLI: a user's mistake or the system refusing (disk full, I/O error) is exit 1; anything else is a crash.
    process.exit(e && (e.name === 'UserError' || /^E[A-Z]+$/.test(String(e.code))) ? 1 : 3);
  },
);

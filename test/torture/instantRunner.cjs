// A library runner whose handler returns at once (no I/O, no timer): the fastest units there
// are. Before the scheduler yielded to the event loop, such a run never let the journal,
// the snapshot timer or a signal handler in until every unit was done.
// Usage: node instantRunner.cjs <experiment file> <concurrency>
'use strict';
const path = require('node:path');
const { Run } = require(process.env.RESUMABLE_CORE || path.resolve(__dirname, '../../dist/core.js'));

const [file, concurrency] = process.argv.slice(2);
const run = new Run({ experiment: file, concurrency: Number(concurrency || 4), handler: async () => ({ passed: true }) });
process.on('SIGINT', () => run.stop());
run.run().then(
  (s) => process.exit(s.exitCode),
  (e) => {
    process.stderr.write(`resumable: ${e && e.message}\n`);
    process.exit(3);
  },
);

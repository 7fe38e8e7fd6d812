// A library runner whose handler returns results that cannot go into a journal line: a
// circular object, a BigInt, 100k nested arrays, 2 MiB of JSON; and throws values that are
// not errors. Usage: node poisonRunner.cjs <experiment file> [--retry-errors]
// Prints the summary as JSON on stdout and exits with its exit code.
'use strict';
const path = require('node:path');
const { Run } = require(process.env.RESUMABLE_CORE || path.resolve(__dirname, '../../dist/core.js'));

const poison = {
  circular: () => {
    const o = { passed: true };
    o.self = o;
    return o;
  },
  bigint: () => ({ passed: true, tokens: 10n }),
  deep: () => {
    let a = [];
    for (let i = 0; i < 100_000; i++) a = [a];
    return { passed: true, a };
  },
  huge: () => ({ passed: true, blob: 'x'.repeat(2 * 1024 * 1024) }),
  'throws-bigint': () => {
    throw { message: 10n };
  },
  'throws-bare': () => {
    throw Object.create(null);
  },
};

const [file, flag] = process.argv.slice(2);
const run = new Run({
  experiment: file,
  retryErrors: flag === '--retry-errors',
  handler: async ({ unit }) => {
    await new Promise((r) => setImmediate(r));
    const make = poison[unit.item.id];
    return make ? make() : { passed: true, answer: 42 };
  },
});
run.run().then(
  (s) => {
    process.stdout.write(JSON.stringify(s) + '\n');
    process.exit(s.exitCode);
  },
  (e) => {
    process.stderr.write(`resumable: ${e && e.stack}\n`);
    process.exit(3);
  },
);

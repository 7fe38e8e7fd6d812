// A library runner (process units) that reports how many file descriptors it holds before
// and after the run, to catch descriptors a failed unit start leaves open.
// Usage: node fdRunner.cjs <experiment file>  → one JSON line on stdout.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Run } = require(path.resolve(__dirname, '../../dist/core.js'));

const fds = () => fs.readdirSync('/proc/self/fd').length;
const before = fds();
new Run({ experiment: process.argv[2] }).run().then(
  (s) => {
    process.stdout.write(JSON.stringify({ before, after: fds(), status: s.status, counts: s.counts }) + '\n');
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`fdRunner: ${e && e.stack}\n`);
    process.exit(3);
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliSync } from '../helpers/cli';

const good = { name: 'e', items: { file: 'items.jsonl' }, run: { command: ['sh', '-c', 'true'] } };
const cases: [string, Record<string, string>, RegExp][] = [
  [
    'unknown key',
    { 'e.experiment.json': JSON.stringify({ ...good, concurrancy: 2 }, null, 2) },
    /e\.experiment\.json:\d+ \$\.concurrancy: Unknown key "concurrancy"/,
  ],
  ['duplicate ids', { 'items.jsonl': '{"id":"a"}\n{"id":"a"}\n' }, /items\.jsonl:2: Duplicate item id "a" \(first at line 1\)/],
  [
    'missing dataset',
    { 'e.experiment.json': JSON.stringify({ ...good, items: { file: 'nope.jsonl' } }) },
    /e\.experiment\.json:1 \$\.items\.file: Expected a readable dataset at nope\.jsonl, got no such file/,
  ],
  [
    'bad regex',
    { 'e.experiment.json': JSON.stringify({ ...good, rateLimit: { patterns: ['[unclosed'] } }) },
    /\$\.rateLimit\.patterns\[0\]: Expected a valid regular expression/,
  ],
  [
    'unknown placeholder',
    { 'e.experiment.json': JSON.stringify({ ...good, run: { command: ['x', '${itme.id}'] } }) },
    /\$\.run\.command\[1\]: Unknown placeholder \$\{itme\.id\}/,
  ],
  [
    'id with ../',
    { 'items.jsonl': '{"id":"ok"}\n{"id":"../../../etc/passwd"}\n' },
    /items\.jsonl:2: Item id "\.\.\/\.\.\/\.\.\/etc\/passwd" has a "\.\." path segment/,
  ],
  ['id with NUL', { 'items.jsonl': '{"id":"a\\u0000b"}\n' }, /items\.jsonl:1: Item id "a\\u0000b" contains a control character/],
  [
    'not an experiment',
    { 'e.experiment.json': '{"name": "e", ' },
    /e\.experiment\.json:1: Expected valid JSON \(comments and trailing commas are fine\): a key in double quotes expected at column 15 \(the end of the file\)/,
  ],
];

for (const [label, files, expected] of cases) {
  test(`bad experiment file (${label}): exit 1, file and path named, nothing written`, () => {
    const dir = tmpDir();
    writeFiles(dir, { 'e.experiment.json': JSON.stringify(good, null, 2), 'items.jsonl': '{"id":"a"}\n', ...files });
    const r = cliSync(['run', 'e.experiment.json'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, expected);
    assert.match(r.stderr, /^resumable: /);
    assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, 'no stack trace for a user mistake');
    assert.equal(fs.existsSync(path.join(dir, '.resumable')), false, 'nothing written');
  });
}

test('bad flags: a clear message and exit 1', () => {
  const dir = tmpDir();
  for (const [args, re] of [
    [['run'], /Expected an experiment file/],
    [['run', 'x.experiment.json', '--concurrency', '0'], /Expected --concurrency ≥ 1 \(an integer\), got "0"/],
    [['run', 'x.experiment.json', '--frsh'], /Unknown option '--frsh'/],
    [['status', '--fresh'], /Option --fresh does not apply to `resumable status`/],
    [['launch'], /Unknown command "launch"/],
    [['run', 'missing.experiment.json'], /missing\.experiment\.json: Expected a readable experiment file, got no such file/],
  ] as const) {
    const r = cliSync([...args], dir);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('--help documents every command, flag and exit code', () => {
  const r = cliSync(['--help'], tmpDir());
  assert.equal(r.code, 0);
  for (const s of [
    '--fresh',
    '--retry-errors',
    '--retry-failed',
    '--concurrency',
    '--dry-run',
    '--json',
    'status',
    'repair',
    'list',
    '130',
    'rate limit',
  ]) {
    assert.ok(r.stdout.includes(s), `help mentions ${s}`);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliSync } from '../helpers/cli';
import { SYNOPSIS } from '../../src/cli/help';

const cwd = tmpDir();
const version = (JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;

function ok(args: string[]): string {
  const r = cliSync(args, cwd);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function refused(args: string[]): string {
  const r = cliSync(args, cwd);
  assert.equal(r.code, 1, `${args.join(' ')} exits 1`);
  assert.equal(r.stdout, '');
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, 'no stack trace');
  return r.stderr;
}

test('`run --help` prints the run page with every flag, not the whole manual; `help run` and `run -h` print the same', () => {
  const page = ok(['run', '--help']);
  assert.match(page, /^resumable run <file\.experiment\.json> \[options\]/);
  for (const flag of ['--fresh', '--retry-errors', '--retry-failed', '--dry-run', '--json', '--concurrency N', '--shard k/N'])
    assert.ok(page.includes(flag), `documents ${flag}`);
  assert.match(page, /--fail-on error,failed\s+exit 1 when the finished run has units with these outcomes \(for CI\)/);
  assert.match(page, /--limit N\s+run at most N of the units that would run: a smoke test/);
  assert.match(page, /--only key=value\s+only units whose matrix value or item field matches/);
  assert.match(page, /--unit <id>\s+only this unit/);
  assert.match(page, /--verbose\s+with --dry-run: the unit ids by reason/);
  assert.doesNotMatch(page, /checkpoint|--leave-out|--by <key>/, "other commands' options are not on it");
  assert.equal(ok(['help', 'run']), page);
  assert.equal(ok(['run', '-h']), page);
  // Asked for help, the page comes even when the rest of the line is wrong.
  assert.equal(ok(['run', '--frsh', '--help']), page);
});

test("each command's --help is its own page", () => {
  const status = ok(['status', '--help']);
  assert.match(status, /^resumable status /);
  assert.match(status, /--by <key>/);
  assert.doesNotMatch(status, /--fresh/);
  assert.match(ok(['repair', '--help']), /^resumable repair <file\.experiment\.json \| run folder> \[--dry-run\]/);
  assert.match(ok(['merge', '--help']), /^resumable merge <file\.experiment\.json \| run folder>[\s\S]*--leave-out/);
  assert.match(ok(['slurm', '--help']), /--shards N[\s\S]*--throttle M/);
  assert.match(ok(['help', 'checkpoint']), /^resumable checkpoint /);
});

test('the overview lists every command and points at `<command> --help`', () => {
  const page = ok(['--help']);
  assert.equal(ok([]), page);
  assert.equal(ok(['help']), page);
  for (const c of ['run', 'status', 'repair', 'merge', 'slurm', 'list', 'checkpoint', 'schema', 'help', 'version'])
    assert.match(page, new RegExp(`^  resumable ${c}\\b`, 'm'), `a synopsis of ${c}`);
  for (const c of ['run', 'status', 'repair', 'merge', 'slurm', 'list', 'checkpoint', 'schema'])
    assert.match(page, new RegExp(`^  ${c} {2,}\\S`, 'm'), `what ${c} does`);
  assert.match(page, /`resumable run --help`/);
  assert.match(page, /^ {2}3 +a spend limit/m);
});

test('-V, --version, -v and `version` print the version', () => {
  for (const a of ['-V', '--version', '-v', 'version']) assert.equal(ok([a]), `${version}\n`, a);
});

test('a mistyped flag says which one was meant', () => {
  assert.match(refused(['run', 'x.experiment.json', '--retry-error']), /Unknown option '--retry-error'; did you mean `--retry-errors`\?/);
  assert.match(refused(['run', 'x.experiment.json', '--concurency', '4']), /Unknown option '--concurency'; did you mean `--concurrency`\?/);
  assert.match(refused(['run', 'x.experiment.json', '--concurency=4']), /did you mean `--concurrency`\?/);
  assert.match(refused(['status', '--jsno']), /Unknown option '--jsno'; did you mean `--json`\?/);
  // A flag of another command is named with its command.
  assert.match(refused(['status', '--frsh']), /`--fresh` is an option of `resumable run`, not of `resumable status`/);
  // Nothing near: the flags the command takes.
  assert.match(refused(['repair', '--zzzzzz']), /Unknown option '--zzzzzz'; `resumable repair` takes --dry-run/);
  // The messages that were there stay.
  assert.match(refused(['status', '--fresh']), /Option --fresh does not apply to `resumable status`; see `resumable status --help`/);
});

test('a mistyped command says which one was meant; an experiment file given as the command says to run it', () => {
  assert.match(refused(['rnu', 'x.experiment.json']), /Unknown command "rnu"; did you mean `resumable run`\?/);
  assert.match(refused(['stauts']), /did you mean `resumable status`\?/);
  assert.match(refused(['help', 'rnu']), /Unknown command "rnu"; did you mean `resumable run`\?/);
  assert.match(refused(['e.experiment.json']), /Unknown command "e\.experiment\.json"; did you mean `resumable run e\.experiment\.json`\?/);
  assert.match(refused(['constructor']), /Unknown command "constructor"/);
  assert.match(refused(['help', 'toString']), /Unknown command "toString"/);
  const far = refused(['launch']);
  assert.match(far, /Unknown command "launch"; expected one of run, status/);
  assert.doesNotMatch(far, /did you mean/);
});

test('repair and merge ask for a run folder or its experiment file', () => {
  assert.match(
    refused(['repair']),
    /Expected a run folder \(\.resumable\/<name>-<hash>\) or its experiment file; see `resumable repair --help`/,
  );
  assert.match(refused(['merge']), /Expected a run folder .* or its experiment file/);
});

test("the README's CLI block is the help's synopsis", () => {
  const readme = fs.readFileSync(path.join(__dirname, '../../README.md'), 'utf8');
  const block = /## The CLI\n\n```\n([\s\S]*?)\n```/.exec(readme);
  assert.ok(block, 'README has a CLI block');
  assert.equal(block[1], SYNOPSIS);
});

test('a flag that needs a value, followed by another flag, says so in one line', () => {
  const r = cliSync(['run', 'x.experiment.json', '--unit', '--dry-run'], process.cwd());
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    'resumable: Expected a value after --unit, got the next option instead (write --unit=<value> for a value that starts with "-"); see `resumable run --help`\n',
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliSync } from '../helpers/cli';

/** `resumable run` on an experiment file (pretty-printed, so each key has its own line): what it says on stderr. */
function refusal(experiment: unknown, items = '{"id":"q1","question":"2+2","answer":"4"}\n'): string {
  const dir = tmpDir();
  writeFiles(dir, { 'items.jsonl': items, 'e.experiment.json': JSON.stringify(experiment, null, 2) });
  const r = cliSync(['run', 'e.experiment.json'], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at |internal error|TypeError/, 'no stack trace');
  assert.ok(!fs.existsSync(path.join(dir, '.resumable')), 'nothing was written');
  return r.stderr;
}

const good = { name: 'e', items: { file: 'items.jsonl' }, run: { command: ['sh', '-c', 'true'] } };

test('an unknown key says the key that was meant, with file, line and JSON path; each unknown key is named', () => {
  const said = refusal({ ...good, concurency: 4, retries: { maxAtempts: 2 } });
  // Line 13: the pretty-printed file's "concurency" key.
  assert.match(said, /^resumable: e\.experiment\.json:13 \$\.concurency: Unknown key "concurency"; did you mean "concurrency"\?/);
  assert.match(said, /e\.experiment\.json:15 \$\.retries\.maxAtempts: Unknown key "maxAtempts"; did you mean "maxAttempts"\?/);
});

test('an unknown key with nothing near lists the keys that fit there', () => {
  const said = refusal({ ...good, run: { ...good.run, zzzzzz: 1 } });
  assert.match(said, /\$\.run\.zzzzzz: Unknown key "zzzzzz"; expected one of "command", "worker", .*"timeoutSeconds"/);
  assert.doesNotMatch(said, /did you mean/);
});

test('a missing field of an item lists the fields it has and the one that was meant, and where the placeholder is', () => {
  const said = refusal({ ...good, run: { command: ['python3', 'eval.py', '${item.questoin}'] } });
  assert.match(
    said,
    /items\.jsonl:1: Item "q1" has no field "questoin", which \$\{item\.questoin\} in \$\.run\.command\[2\] needs; did you mean \$\{item\.question\}\? \(its fields are "id", "question", "answer"\)/,
  );
  const nested = refusal({ ...good, run: { command: ['x', '${item.meta.lnag}'] } }, '{"id":"q1","meta":{"lang":"en","tier":1}}\n');
  assert.match(nested, /has no field "meta\.lnag".*did you mean \$\{item\.meta\.lang\}\? \("meta" has "meta\.lang", "meta\.tier"\)/);
  const far = refusal({ ...good, run: { command: ['x', '${item.zzzzzz}'] } });
  assert.match(far, /has no field "zzzzzz", which .* needs; its fields are "id", "question", "answer"/);
});

test('a command given as one string says which argv array to write', () => {
  const said = refusal({ ...good, run: { command: 'python3 eval.py --id 3' } });
  assert.match(
    said,
    /e\.experiment\.json:7 \$\.run\.command: Expected an argv array \(no shell is used\), got a string: write \["python3", "eval\.py", "--id", "3"\], or \["sh", "-c", "python3 eval\.py --id 3"\] for a shell line/,
  );
  const shell = refusal({ ...good, run: { command: 'python3 eval.py | tee out.txt' } });
  assert.match(shell, /got a string: for a shell line write \["sh", "-c", "python3 eval\.py \| tee out\.txt"\]/);
  assert.match(refusal({ ...good, rateLimit: { preflight: 'python3 ping.py' } }), /\$\.rateLimit\.preflight: Expected an argv array/);
});

test('a missing name says it is required and what it is for', () => {
  const { name: _, ...nameless } = good;
  assert.match(
    refusal(nameless),
    /^resumable: e\.experiment\.json:1 \$\.name: Missing required key "name"\. The experiment's name: letters, digits/,
  );
});

test('without run.command or run.worker the CLI says one is needed', () => {
  const { run: _, ...runless } = good;
  assert.match(
    refusal(runless),
    /e\.experiment\.json:1 \$\.run: Expected run\.command \(the argv of a process per unit, .*\) or run\.worker \(a long-lived worker\), got neither/,
  );
  assert.match(refusal({ ...good, run: { cwd: '.' } }), /e\.experiment\.json:6 \$\.run: Expected run\.command .* got neither/);
});

test('a mistyped placeholder says which one was meant', () => {
  const said = refusal({ ...good, matrix: { model: ['a', 'b'] }, run: { command: ['x', '${itme.id}', '${mdoel}'] } });
  assert.match(
    said,
    /e\.experiment\.json:\d+ \$\.run\.command\[1\]: Unknown placeholder \$\{itme\.id\} \(did you mean \$\{item\.id\}\?\); expected one of/,
  );
  const model = refusal({ ...good, matrix: { model: ['a', 'b'] }, run: { command: ['x', '${mdoel}'] } });
  assert.match(model, /\$\.run\.command\[1\]: Unknown placeholder \$\{mdoel\} \(did you mean \$\{model\}\?\)/);
});

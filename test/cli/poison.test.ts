import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { journalRecords, runDirOf } from '../helpers/cli';

const RUNNER = path.join(__dirname, 'poisonRunner.cjs');
const POISON: Record<string, RegExp> = {
  circular: /the handler's result cannot be saved as JSON: .*circular/i,
  bigint: /the handler's result cannot be saved as JSON: .*BigInt/,
  deep: /the handler's result cannot be saved as JSON: it is nested (too deeply|more than 1000 levels deep)/,
  huge: /the handler's result is 2(\.0)? MiB of JSON, over the 1 MiB cap/,
  'throws-bigint': /^10$/,
  'throws-bare': /cannot be shown as text|\[object/,
};

function runLib(dir: string, file: string, ...flags: string[]) {
  const r = spawnSync(process.execPath, [RUNNER, file, ...flags], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test(
  "a handler result that cannot go into the journal is that unit's error, with why; the run completes and resumes without a crash",
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const ids = [...Object.keys(POISON), 'ok-1', 'ok-2', 'ok-3'];
    writeFiles(dir, {
      'e.experiment.json': JSON.stringify({
        name: 'poison',
        items: { values: ids },
        run: { command: ['true'] },
        retries: { maxAttempts: 2, backoffSeconds: [0, 0] },
        graceSeconds: 1,
      }),
    });
    const file = path.join(dir, 'e.experiment.json');

    const first = runLib(dir, file);
    assert.equal(first.code, 0, `exit ${first.code} ${first.signal}: ${first.stderr}`);
    assert.equal(JSON.parse(first.stdout).status, 'completed');
    const runDir = runDirOf(dir);
    const last = new Map<string, Record<string, unknown>>();
    for (const r of journalRecords(runDir)) if (r.t === 'end') last.set(String(r.u), r);
    for (const [id, why] of Object.entries(POISON)) {
      const end = last.get(id)!;
      assert.equal(end.s, 'error', `${id}: ${JSON.stringify(end).slice(0, 300)}`);
      assert.match(String(end.why), why, id);
      assert.equal(end.a, 2, `${id} is retried like any error`);
      assert.equal(end.r, undefined, `${id}: nothing of the result is kept`);
    }
    for (const id of ['ok-1', 'ok-2', 'ok-3'])
      assert.deepEqual([last.get(id)!.s, last.get(id)!.r], ['passed', { passed: true, answer: 42 }], id);

    const resume = runLib(dir, file);
    assert.equal(resume.code, 0, resume.stderr);
    // With the poison units run again, still no crash: each is an error again.
    const retried = runLib(dir, file, '--retry-errors');
    assert.equal(retried.code, 0, retried.stderr);
    const summary = JSON.parse(retried.stdout);
    assert.deepEqual([summary.counts.error, summary.counts.passed], [Object.keys(POISON).length, 3]);
    assert.equal(journalRecords(runDir).at(-1)!.status, 'completed');
  },
);

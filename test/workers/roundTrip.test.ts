import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliSync, journalRecords, runDirOf } from '../helpers/cli';
import { findResultFile } from '../../src/core/exec/resultFiles';
import { linesOf, PY_PRELUDE, workerExperiment } from './helpers';

test(
  'a Python worker loads once and runs many units: results judged, kept on disk, the protocol message complete',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = workerExperiment(dir, {
      n: 40,
      python:
        PY_PRELUDE +
        `
def handle(u):
    ran(u)
    print("thinking about", u.id)  # must reach the unit's log, not the protocol
    return {"passed": u.item["x"] % 4 != 0, "score": u.item["x"] / 10, "seen": u.raw, "dirExists": os.path.isdir(u.unit_dir)}
serve(handle)
`,
      extra: { matrix: { model: ['a', 'b'] }, seed: 7 },
    });
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    const runDir = runDirOf(dir);
    const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.deepEqual([status.counts.passed, status.counts.failed, status.counts.error], [60, 20, 0]);
    // Loaded once per worker (concurrency 2: two workers), not once per unit.
    const loads = linesOf(path.join(dir, 'loads.log'));
    assert.ok(loads.length >= 1 && loads.length <= 2, `loads: ${loads.length}`);
    assert.equal(linesOf(path.join(dir, 'runs.log')).length, 80);

    const result = JSON.parse(fs.readFileSync(findResultFile(runDir, 'q005/b')!, 'utf8'));
    assert.equal(result.passed, true);
    assert.equal(result.dirExists, true);
    assert.equal(result.seen.type, 'unit');
    assert.equal(result.seen.id, 'q005/b');
    assert.equal(result.seen.itemId, 'q005');
    assert.deepEqual(result.seen.item, { id: 'q005', x: 5 });
    assert.deepEqual(result.seen.matrix, { model: 'b' });
    assert.equal(result.seen.attempt, 1);
    assert.equal(typeof result.seen.seed, 'number');
    assert.equal(result.seen.deadline, null);
    assert.equal(result.seen.resultFile, findResultFile(runDir, 'q005/b'));
    // A print inside the handler went to the unit's log (one unit at a time on its worker).
    const log = fs.readFileSync(path.join(path.dirname(findResultFile(runDir, 'q005/b')!), 'output.log'), 'utf8');
    assert.match(log, /thinking about q005\/b/);
    // The runner is the only journal writer: one start and one end per unit.
    const recs = journalRecords(runDir);
    assert.equal(recs.filter((x) => x.t === 'start').length, 80);
    assert.equal(recs.filter((x) => x.t === 'end').length, 80);
    // A resume runs nothing: every result is counted.
    const again = cliSync(['run', file], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(linesOf(path.join(dir, 'runs.log')).length, 80);
  },
);

test(
  'errors and rate limits from the worker: an error is retried, RateLimitError pauses the run and costs no attempt',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = workerExperiment(dir, {
      n: 6,
      python:
        PY_PRELUDE +
        `
def handle(u):
    ran(u)
    if u.id == "q001" and u.attempt == 1:
        raise ValueError("bad input for q001")
    if u.id == "q002" and not os.path.exists(os.path.join(HERE, "limited")):
        open(os.path.join(HERE, "limited"), "w").close()
        raise RateLimitError("slow down", retry_after=1)
    return {"passed": True, "usage": {"costUSD": 0.01, "tokens": 10}}
serve(handle)
`,
    });
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    const recs = journalRecords(runDirOf(dir));
    const q1 = recs.filter((x) => x.t === 'end' && x.u === 'q001');
    assert.deepEqual(
      q1.map((x) => [x.a, x.s]),
      [
        [1, 'error'],
        [2, 'passed'],
      ],
    );
    assert.match(String(q1[0]!.why), /ValueError: bad input for q001/);
    const q2 = recs.filter((x) => x.t === 'end' && x.u === 'q002');
    assert.equal(q2[0]!.s, 'rate_limited');
    assert.equal(q2.at(-1)!.s, 'passed');
    assert.ok(
      recs.some((x) => x.t === 'pause'),
      'the rate limit paused the run',
    );
    const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.equal(status.counts.passed, 6);
    assert.equal(status.spend.tokens, 60);
    // The traceback is in the unit's log.
    const log = fs.readFileSync(path.join(path.dirname(findResultFile(runDirOf(dir), 'q001')!), 'output.log'), 'utf8');
    assert.match(log, /Traceback|ValueError/);
  },
);

test('bad experiment files for workers are refused with the key and what was expected', () => {
  const dir = tmpDir();
  const file = workerExperiment(dir, { n: 1, python: 'pass\n', run: { worker: ['python3', 'worker.py', '${item.id}'] } });
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /\$\.run\.worker\[2\]: Expected only \$\{runDir\} and \$\{experimentDir\}/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  const both = workerExperiment(dir, { n: 1, python: 'pass\n', run: { command: ['true'] } });
  const r2 = cliSync(['run', both], dir);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /\$\.run\.worker: Expected run\.command or run\.worker, not both/);
});

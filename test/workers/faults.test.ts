import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliSync, journalRecords, runDirOf } from '../helpers/cli';
import { linesOf, PY_PRELUDE, workerExperiment } from './helpers';

const ends = (dir: string, id: string) => journalRecords(runDirOf(dir)).filter((x) => x.t === 'end' && x.u === id);

test(
  'a worker that crashes mid-unit: the unit is an error and retried, the worker restarted, the others unharmed',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = workerExperiment(dir, {
      n: 12,
      python:
        PY_PRELUDE +
        `
def handle(u):
    ran(u)
    if u.id == "q003" and u.attempt == 1:
        sys.stderr.write("segfault coming\\n"); sys.stderr.flush()
        os._exit(3)
    return True
serve(handle)
`,
    });
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    const q3 = ends(dir, 'q003');
    assert.deepEqual(
      q3.map((x) => x.s),
      ['error', 'passed'],
    );
    assert.match(String(q3[0]!.why), /exited with code 3 while this unit ran/);
    assert.match(String(q3[0]!.why), /segfault coming/);
    assert.ok(linesOf(path.join(dir, 'loads.log')).length >= 2, 'a new worker took its place');
    const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.equal(status.counts.passed, 12);
  },
);

test(
  'a unit that hangs past its timeout: its worker is killed, the unit beside it is cut short (said so) and retried',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = workerExperiment(dir, {
      n: 2,
      python:
        PY_PRELUDE +
        `
import asyncio
async def handle(u):
    ran(u)
    if u.attempt == 1:
        if u.id == "q000":
            await asyncio.sleep(120)
        # q001 waits until q000 is surely stuck: both are on the one worker.
        await asyncio.sleep(120)
    return True
serve(handle)
`,
      run: { timeoutSeconds: 1.5, perWorker: 2 },
    });
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    const q0 = ends(dir, 'q000');
    const q1 = ends(dir, 'q001');
    assert.equal(q0[0]!.s, 'error');
    assert.equal(q0[0]!.why, 'timed out');
    assert.equal(q0.at(-1)!.s, 'passed');
    // One worker (concurrency 2, perWorker 2): whichever timed out first took the other down.
    const whys = [q0[0]!.why, q1[0]!.why].join(' | ');
    assert.equal(q1[0]!.s, 'error');
    assert.match(whys, /timed out/);
    assert.equal(q1.at(-1)!.s, 'passed');
    const log = fs.readFileSync(path.join(runDirOf(dir), 'workers', 'worker-1.log'), 'utf8');
    assert.match(log, /timed out after 1.5 s; killing worker 1/);
  },
);

test(
  'a worker that prints garbage or an oversized line on stdout: that unit is an error with the line shown, not a crash',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    // A hand-written worker (no helper): it owns its stdout and breaks the protocol on purpose.
    const file = workerExperiment(dir, {
      n: 4,
      python: `
import sys, json
print("banner printed at import")  # before ready: kept in the log, not an error
print(json.dumps({"type": "ready", "protocol": 1}), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m["id"] == "q001":
        print("Traceback: not json at all", flush=True)
    elif m["id"] == "q002":
        sys.stdout.write("x" * (9 * 1024 * 1024) + "\\n"); sys.stdout.flush()
    else:
        print(json.dumps({"type": "result", "id": m["id"], "result": {"passed": True}}), flush=True)
`,
      extra: { concurrency: 1, retries: { maxAttempts: 2, backoffSeconds: [0, 0] } },
    });
    const r = cliSync(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    const q1 = ends(dir, 'q001');
    assert.deepEqual(
      q1.map((x) => x.s),
      ['error', 'error'],
    );
    assert.match(String(q1[0]!.why), /printed "Traceback: not json at all" on stdout: not JSON/);
    assert.match(String(ends(dir, 'q002')[0]!.why), /a line of 9437184 bytes on stdout .*over the 8 MiB/);
    assert.equal(ends(dir, 'q000')[0]!.s, 'passed');
    assert.equal(ends(dir, 'q003')[0]!.s, 'passed');
    const log = fs.readFileSync(path.join(runDirOf(dir), 'workers', 'worker-1.log'), 'utf8');
    assert.match(log, /\[stdout before ready\] banner printed at import/);
    // Said on the console once, with what to do and where the log is (not only in the log).
    assert.equal(r.stderr.match(/Worker \d: the worker printed .* on stdout/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /debug output goes to stderr.*Worker log: \.resumable\/w-[0-9a-f]{8}\/workers\/worker-\d\.log/);
  },
);

test("a worker that exits at start: the run stops with the worker's own words, no unit charged an attempt", { timeout: 120_000 }, () => {
  const dir = tmpDir();
  const file = workerExperiment(dir, {
    n: 10,
    python: `import sys\nsys.stderr.write("ModuleNotFoundError: No module named 'torch'\\n")\nsys.exit(1)\n`,
  });
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /The worker could not start 5 times in a row: the worker exited with code 1 before it was ready/);
  assert.match(r.stderr, /No module named 'torch'/);
  assert.match(r.stderr, /worker log: \.resumable\/w-[0-9a-f]{8}\/workers\/worker-\d\.log/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  const recs = journalRecords(runDirOf(dir));
  assert.deepEqual(
    recs.filter((x) => x.t === 'end' && x.s !== 'interrupted'),
    [],
    'no attempt was charged',
  );
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.equal(status.counts.pending, 10);
});

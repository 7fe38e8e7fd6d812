import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { FIXTURES, copyFixture } from '../helpers/layout';
import { UserError } from '../../src/core/errors';
import {
  compareCheckpoint,
  judgeRunResult,
  parseScyllaCheckpoint,
  readScyllaCheckpoint,
  runLabel,
  scanScyllaLayout,
  type DisagreementKind,
} from '../../src/core/bridge/scyllaCheckpoint';

/** The real Scylla experiment folder, read where it is (read-only; ../shared/fixtures/README.md). */
const FIXTURE = path.join(FIXTURES, 'scylla-dryrun');
const RUNS = ['T0/00/1', 'T1/01/1', 'T2/01/1', 'T3/01/1', 'T4/01/1', 'T5/01/1', 'T6/01/1'];

/** A writable copy of the fixture in a temp folder. */
function copy(): string {
  return copyFixture('scylla-dryrun', tmpDir('resumable-scylla-'));
}

/** What JSON.parse gives: each test edits the parsed file in place. */
type Parsed = ReturnType<typeof JSON.parse>;

function editJson(file: string, edit: (data: Parsed) => void): void {
  const data = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(data);
  fs.writeFileSync(file, JSON.stringify(data, null, 2));
}

async function disagreements(dir: string): Promise<{ kind: DisagreementKind; run: string }[]> {
  const cp = readScyllaCheckpoint(path.join(dir, 'checkpoint.json'));
  const disk = await scanScyllaLayout(dir);
  return compareCheckpoint(cp.runs, disk.runs).map((d) => ({ kind: d.kind, run: d.run }));
}

/** The command's output, run in a child (it prints through stdout). */
function command(args: [string, boolean]): { code: number | null; stdout: string; stderr: string } {
  const mod = path.resolve(__dirname, '../../src/cli/commands/checkpoint.ts');
  const script = `require(${JSON.stringify(mod)}).checkpointCommand(${JSON.stringify(args[0])}, ${args[1]}).then((c) => { process.exitCode = c; }, (e) => { process.stderr.write(String(e && e.message) + '\\n'); process.exitCode = 1; });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the real fixture: its v2.0 checkpoint and its 7 run_result.json files agree, read where they are', async () => {
  const cp = readScyllaCheckpoint(path.join(FIXTURE, 'checkpoint.json'));
  assert.equal(cp.version, '2.0');
  assert.equal(cp.format, 'v2');
  assert.equal(cp.experimentId, 'test-001');
  assert.deepEqual([...cp.runs.keys()], RUNS);
  for (const r of cp.runs.values()) assert.deepEqual(r, { done: true, verdict: 'passed', said: 'passed' });

  const disk = await scanScyllaLayout(FIXTURE);
  assert.deepEqual(disk.layouts, ['flat']);
  assert.deepEqual([...disk.runs.keys()], RUNS);
  assert.deepEqual(disk.runs.get('T0/00/1'), { status: 'passed', file: 'T0/00/run_01/run_result.json' });
  // Each as its own judge_passed says.
  for (const [key, r] of disk.runs) {
    const raw = JSON.parse(fs.readFileSync(path.join(FIXTURE, runLabel(key), 'run_result.json'), 'utf8'));
    assert.equal(r.status, raw.judge_passed ? 'passed' : 'failed', key);
  }
  assert.deepEqual(compareCheckpoint(cp.runs, disk.runs), []);
});

test('the incident: a checkpoint with completed_runs {} beside 7 finished results: all 7 are missing from it', async () => {
  const dir = copy();
  editJson(path.join(dir, 'checkpoint.json'), (c) => (c.completed_runs = {}));
  assert.deepEqual(
    await disagreements(dir),
    RUNS.map((run) => ({ kind: 'not-in-checkpoint', run })),
  );
});

test('a run the checkpoint lists whose folder is gone, and one whose result file is gone, have no result', async () => {
  const dir = copy();
  fs.rmSync(path.join(dir, 'T3/01/run_01'), { recursive: true });
  fs.rmSync(path.join(dir, 'T5/01/run_01/run_result.json'));
  editJson(path.join(dir, 'checkpoint.json'), (c) => (c.completed_runs.T0['00']['2'] = 'failed'));
  assert.deepEqual(await disagreements(dir), [
    { kind: 'no-result', run: 'T0/00/2' },
    { kind: 'no-result', run: 'T3/01/1' },
    { kind: 'no-result', run: 'T5/01/1' },
  ]);
});

test('a verdict that differs: the file on disk says failed, the checkpoint passed', async () => {
  const dir = copy();
  editJson(path.join(dir, 'T2/01/run_01/run_result.json'), (r) => (r.judge_passed = false));
  const cp = readScyllaCheckpoint(path.join(dir, 'checkpoint.json'));
  const found = compareCheckpoint(cp.runs, (await scanScyllaLayout(dir)).runs);
  assert.deepEqual(found, [
    {
      kind: 'verdict-differs',
      run: 'T2/01/1',
      checkpoint: { done: true, verdict: 'passed', said: 'passed' },
      disk: { status: 'failed', file: 'T2/01/run_01/run_result.json' },
    },
  ]);
});

test('a result whose judges all hit a usage limit is not finished: a disagreement when the checkpoint says done, none when it does not', async () => {
  const dir = copy();
  editJson(path.join(dir, 'T4/01/run_01/run_result.json'), (r) => {
    r.judge_passed = false;
    for (const j of r.judges)
      Object.assign(j, { is_valid: false, passed: false, reasoning: "Judge failed: You've hit your weekly usage limit" });
  });
  // One judge of three hitting the limit leaves a consensus of the other two: finished.
  editJson(path.join(dir, 'T6/01/run_01/run_result.json'), (r) => {
    Object.assign(r.judges[0], { is_valid: false, reasoning: 'Judge failed: usage limit' });
  });
  const disk = await scanScyllaLayout(dir);
  assert.equal(disk.runs.get('T4/01/1')?.status, 'not-finished');
  assert.equal(disk.runs.get('T6/01/1')?.status, 'passed');
  assert.deepEqual(await disagreements(dir), [{ kind: 'not-finished', run: 'T4/01/1' }]);
  editJson(path.join(dir, 'checkpoint.json'), (c) => (c.completed_runs.T4['01']['1'] = 'agent_complete'));
  assert.deepEqual(await disagreements(dir), [], 'neither side counts it as done');
});

test('results that are not results: cut short, without judge_passed, a FIFO, a symlink (never followed)', async () => {
  const dir = copy();
  const outside = path.join(path.dirname(dir), 'outside.json');
  fs.writeFileSync(outside, JSON.stringify({ judge_passed: true }));
  fs.writeFileSync(path.join(dir, 'T0/00/run_01/run_result.json'), '{"run_number": 1, "judge_pas');
  editJson(path.join(dir, 'T1/01/run_01/run_result.json'), (r) => delete r.judge_passed);
  fs.rmSync(path.join(dir, 'T2/01/run_01/run_result.json'));
  execFileSync('mkfifo', [path.join(dir, 'T2/01/run_01/run_result.json')]);
  fs.rmSync(path.join(dir, 'T3/01/run_01/run_result.json'));
  fs.symlinkSync(outside, path.join(dir, 'T3/01/run_01/run_result.json'));
  const disk = await scanScyllaLayout(dir);
  const why = (k: string) => {
    const r = disk.runs.get(k)!;
    return r.status === 'unreadable' ? r.why : r.status;
  };
  assert.equal(why('T0/00/1'), 'is not valid JSON (cut short?)');
  assert.equal(why('T1/01/1'), 'has no boolean judge_passed (got nothing)');
  assert.equal(why('T2/01/1'), 'is a FIFO (named pipe), not a regular file');
  assert.equal(why('T3/01/1'), 'is a symbolic link; not followed');
  assert.deepEqual(
    (await disagreements(dir)).map((d) => d.kind),
    ['unreadable', 'unreadable', 'unreadable', 'unreadable'],
  );
});

test('a malformed checkpoint is a UserError naming the file, the line and the JSON path', () => {
  const file = path.join(tmpDir(), 'checkpoint.json');
  const refused = (text: string, where: RegExp) => {
    fs.writeFileSync(file, text);
    assert.throws(
      () => readScyllaCheckpoint(file),
      (e: unknown) => e instanceof UserError && e.where.file === file && where.test(e.message),
    );
  };
  const v2 = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'checkpoint.json'), 'utf8'));
  v2.completed_runs.T0['00']['1'] = 'done';
  refused(
    JSON.stringify(v2, null, 2),
    /:\d+ \$\.completed_runs\.T0\["00"\]\["1"\]: Expected "passed", "failed" or "agent_complete", got "done"$/,
  );
  v2.completed_runs.T0['00'] = { one: 'passed' };
  refused(JSON.stringify(v2), /\$\.completed_runs\.T0\["00"\]\.one: Expected a run number from 1 as the key, got "one"/);
  v2.completed_runs.T0 = ['00'];
  refused(JSON.stringify(v2), /\$\.completed_runs\.T0: Expected an object \(subtest → run number → status\), got an array/);
  refused(
    JSON.stringify({ version: '1.0', completed_runs: { T0: { '00': [1] } } }),
    /\$\.version: Expected checkpoint format .*got "1\.0"/,
  );
  refused(JSON.stringify({ completed_runs: {} }), /\$\.version: Expected the checkpoint format version as a string/);
  refused(JSON.stringify({ version: '3.1', completed_runs: {} }), /\$\.run_states: Expected an object/);
  refused('{"version": "2.0", "completed_runs": {', /checkpoint\.json:1: Expected valid JSON/);
  refused('[]', /\$: Expected a Scylla checkpoint \(a JSON object\), got an array/);
  fs.rmSync(file);
  assert.throws(() => readScyllaCheckpoint(file), /checkpoint\.json: Expected a Scylla checkpoint\.json here, found no such file/);
  execFileSync('mkfifo', [file]);
  assert.throws(() => readScyllaCheckpoint(file), /is a FIFO \(named pipe\), not a regular file/);
});

test('v3 (run_states, as Scylla writes since 3.0) in the completed/ and in_progress/ layout', async () => {
  const dir = copy();
  // The newer layout: finished runs under completed/, one still under in_progress/.
  for (const t of ['T0/00', 'T1/01', 'T2/01', 'T3/01', 'T4/01', 'T5/01']) {
    fs.mkdirSync(path.join(dir, 'completed', t), { recursive: true });
    fs.renameSync(path.join(dir, t, 'run_01'), path.join(dir, 'completed', t, 'run_01'));
  }
  fs.mkdirSync(path.join(dir, 'in_progress/T6/01'), { recursive: true });
  fs.renameSync(path.join(dir, 'T6/01/run_01'), path.join(dir, 'in_progress/T6/01/run_01'));
  fs.rmSync(path.join(dir, 'in_progress/T6/01/run_01/run_result.json'));
  editJson(path.join(dir, 'checkpoint.json'), (c) => {
    c.version = '3.1';
    c.experiment_state = 'tiers_running';
    c.run_states = {
      T0: { '00': { '1': 'worktree_cleaned' } },
      T1: { '01': { '1': 'report_written' } },
      T2: { '01': { '1': 'judge_complete' } }, // judged, run_result.json not saved yet: not done
      T3: { '01': { '1': 'failed' } }, // an infrastructure failure: reset on resume, not done
      T4: { '01': { '1': 'worktree_cleaned' } },
      T5: { '01': { '1': 'rate_limited' } },
      T6: { '01': { '1': 'agent_complete' } },
    };
    c.completed_runs = {
      T0: { '00': { '1': 'passed' } },
      T1: { '01': { '1': 'failed' } },
      T3: { '01': { '1': 'failed' } },
      T6: { '01': { '1': 'agent_complete' } },
    };
  });
  const cp = readScyllaCheckpoint(path.join(dir, 'checkpoint.json'));
  assert.equal(cp.format, 'v3');
  assert.deepEqual(cp.runs.get('T0/00/1'), { done: true, verdict: 'passed', said: 'worktree_cleaned' });
  assert.deepEqual(cp.runs.get('T3/01/1'), { done: false, said: 'failed' });
  assert.deepEqual(cp.runs.get('T4/01/1'), { done: true, said: 'worktree_cleaned' });
  const disk = await scanScyllaLayout(dir);
  assert.deepEqual(disk.layouts, ['completed']);
  assert.equal(disk.runs.get('T0/00/1')?.file, 'completed/T0/00/run_01/run_result.json');
  assert.deepEqual(await disagreements(dir), [
    { kind: 'verdict-differs', run: 'T1/01/1' },
    { kind: 'not-in-checkpoint', run: 'T2/01/1' },
    { kind: 'not-in-checkpoint', run: 'T3/01/1' },
    { kind: 'not-in-checkpoint', run: 'T5/01/1' },
  ]);
});

test('a run found both under completed/ and in the flat layout is read from completed/, and the other copy is reported', async () => {
  const dir = copy();
  fs.mkdirSync(path.join(dir, 'completed/T0/00'), { recursive: true });
  fs.cpSync(path.join(dir, 'T0/00/run_01'), path.join(dir, 'completed/T0/00/run_01'), { recursive: true });
  editJson(path.join(dir, 'T0/00/run_01/run_result.json'), (r) => (r.judge_passed = false));
  const disk = await scanScyllaLayout(dir);
  assert.deepEqual(disk.layouts, ['completed', 'flat']);
  assert.deepEqual(disk.runs.get('T0/00/1'), { status: 'passed', file: 'completed/T0/00/run_01/run_result.json' });
  assert.deepEqual(disk.shadowed, [
    { run: 'T0/00/1', file: 'T0/00/run_01/run_result.json', kept: 'completed/T0/00/run_01/run_result.json' },
  ]);
});

test('judgeRunResult and parseScyllaCheckpoint are pure: text in, verdict or data out', () => {
  assert.deepEqual(judgeRunResult('{"judge_passed": true}', 'r.json'), { status: 'passed', file: 'r.json' });
  assert.deepEqual(judgeRunResult('[1]', 'r.json'), { status: 'unreadable', file: 'r.json', why: 'is an array, not a JSON object' });
  const cp = parseScyllaCheckpoint('{"version": "2.0", "completed_runs": {"T0": {"00-empty": {"03": "agent_complete"}}}}', 'c.json');
  assert.deepEqual([...cp.runs], [['T0/00-empty/3', { done: false, said: 'agent_complete' }]]);
  assert.equal(runLabel('T0/00-empty/3'), 'T0/00-empty/run_03');
});

test('the command: a summary line, disagreements grouped by kind, at most 10 shown per kind, exit 0; JSON with --json', () => {
  const dir = copy();
  // The incident at scale: 590 finished results, a checkpoint saying none.
  const sample = fs.readFileSync(path.join(dir, 'T0/00/run_01/run_result.json'), 'utf8');
  for (let sub = 2; sub <= 60; sub++)
    for (let run = 1; run <= 10; run++) {
      const runDir = path.join(dir, 'T0', String(sub).padStart(2, '0'), `run_${String(run).padStart(2, '0')}`);
      fs.mkdirSync(runDir, { recursive: true });
      fs.writeFileSync(path.join(runDir, 'run_result.json'), sample);
    }
  // 7 + 590 = 597 on disk; keep 7 in the checkpoint but say one of them failed.
  editJson(path.join(dir, 'checkpoint.json'), (c) => (c.completed_runs.T1['01']['1'] = 'failed'));
  const r = command([path.join(dir, 'checkpoint.json'), false]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^checkpoint lists 7 runs \(7 done\), disk has 597 results \(597 passed, 0 failed\); 591 disagree:$/m);
  assert.match(r.stdout, /^ {2}finished on disk, not done in the checkpoint \(590\):$/m);
  assert.match(r.stdout, /^ {4}T0\/02\/run_01 +passed on disk \(T0\/02\/run_01\/run_result\.json\); checkpoint: not listed$/m);
  assert.match(r.stdout, /^ {4}\.\.\. and 580 more \(--json lists them all\)$/m);
  assert.match(r.stdout, /^ {2}verdicts differ; the file on disk counts \(1\):$/m);
  assert.match(r.stdout, /^ {4}T1\/01\/run_01 +passed on disk \(T1\/01\/run_01\/run_result\.json\); checkpoint: failed$/m);
  assert.equal(r.stdout.match(/^ {4}T0\//gm)?.length, 10);
  assert.match(r.stdout, /resumable run <experiment> --dry-run/);

  const j = command([dir, true]);
  assert.equal(j.code, 0, j.stderr);
  const report = JSON.parse(j.stdout);
  assert.equal(report.agree, false);
  assert.equal(report.disk.results, 597);
  assert.equal(report.counts['not-in-checkpoint'], 590);
  assert.equal(report.disagreements.length, 591);
  assert.deepEqual(report.disagreements[0], {
    kind: 'not-in-checkpoint',
    run: 'T0/02/1',
    folder: 'T0/02/run_01',
    checkpoint: null,
    disk: { status: 'passed', file: 'T0/02/run_01/run_result.json' },
  });

  const agreeing = command([path.join(FIXTURE, 'checkpoint.json'), false]);
  assert.equal(agreeing.code, 0);
  assert.match(
    agreeing.stdout,
    /checkpoint lists 7 runs \(7 done\), disk has 7 results \(7 passed, 0 failed\); 0 disagree\.\nThe checkpoint and the files on disk agree\./,
  );
});

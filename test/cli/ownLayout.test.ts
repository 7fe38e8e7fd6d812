import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, runDirOf } from '../helpers/cli';
import { copyFixture, layOutHaikuRuns, treeHashes } from '../helpers/layout';
import { journalSoFar, waitUntil } from '../helpers/wait';

/** A command that must never run: it leaves a mark where the test looks. */
const MUST_NOT_RUN = ['sh', '-c', 'mkdir -p "$0/started" && touch "$0/started/$$"', '${experimentDir}'];

function writeExperiment(dir: string, spec: Record<string, unknown>): string {
  const file = path.join(dir, 'experiment.json');
  fs.writeFileSync(file, JSON.stringify({ name: 'layout', run: { command: MUST_NOT_RUN }, ...spec }, null, 2));
  return file;
}

function finals(runDir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of journalRecords(runDir)) if (r.t === 'adopt' || r.t === 'end') out.set(r.u as string, r.s as string);
  return out;
}

test('the real Scylla folder: the README experiment adopts its 7 results, runs nothing, and each is judged as its judge_passed', () => {
  const dir = copyFixture('scylla-dryrun', tmpDir());
  const before = treeHashes(dir);
  const file = writeExperiment(dir, {
    name: 'scylla-dryrun',
    items: { glob: 'T*/*/run_*/', capture: '^(?<tier>T\\d+)/(?<subtest>\\d+)/run_(?<run>\\d+)$' },
    result: { path: '${item.tier}/${item.subtest}/run_${item.run:02}/run_result.json', passed: 'judge_passed' },
  });
  before.set('experiment.json', treeHashes(dir).get('experiment.json')!);

  const notYet = cliSync(['status', file], dir);
  assert.match(notYet.stdout, /Not started yet.*\n.*7 of 7 unit\(s\) have a result on disk/);
  const dry = cliSync(['run', file, '--dry-run'], dir);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout + dry.stderr, /would run 0, skip 7, adopt 7 result/);

  const run = cliSync(['run', file], dir);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(fs.existsSync(path.join(dir, 'started')), false, 'no unit process started');
  const got = finals(runDirOf(dir));
  assert.equal(got.size, 7);
  for (const [id, s] of got) {
    const judged = (JSON.parse(fs.readFileSync(path.join(dir, id, 'run_result.json'), 'utf8')) as { judge_passed: boolean }).judge_passed;
    assert.equal(s, judged ? 'passed' : 'failed', id);
  }
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout) as { status: string; counts: Record<string, number> };
  assert.equal(status.status, 'completed');
  assert.equal(status.counts.passed, 7);
  assert.deepEqual(treeHashes(dir), before, "the user's files are byte-identical");
});

test('the seed incident at scale: 1,080 real results on disk and an empty checkpoint: adopt 1,080, run none, 1,043/37; repair rebuilds a lost journal, twice the same', () => {
  const dir = tmpDir();
  const runs = layOutHaikuRuns(dir);
  assert.equal(runs.length, 1080);
  fs.writeFileSync(path.join(dir, 'checkpoint.json'), JSON.stringify({ version: '2.0', completed_runs: {} }));
  const file = writeExperiment(dir, {
    name: 'haiku',
    items: { glob: '*/T*/*/run_*/', capture: '^(?<experiment>[^/]+)/(?<tier>T\\d+)/(?<subtest>\\d+)/run_(?<run>\\d+)$' },
    result: { path: '${item.path}/run_result.json', passed: 'judge_passed' },
    concurrency: 16,
  });
  const before = treeHashes(dir);

  const dry = cliSync(['run', file, '--dry-run'], dir);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout + dry.stderr, /would run 0, skip 1080, adopt 1080 result/);
  const run = cliSync(['run', file], dir);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(fs.existsSync(path.join(dir, 'started')), false, 'no unit process started');

  const runDir = runDirOf(dir);
  const expected = new Map(
    runs.map((r) => [`${r.experiment}/${r.tier}/${r.subtest}/run_${String(r.run).padStart(2, '0')}`, r.passed ? 'passed' : 'failed']),
  );
  assert.deepEqual(new Map([...finals(runDir)].sort()), new Map([...expected].sort()));
  const counts = (JSON.parse(cliSync(['status', file, '--json'], dir).stdout) as { counts: Record<string, number> }).counts;
  assert.deepEqual([counts.passed, counts.failed, counts.error], [1043, 37, 0]);

  // The journal is lost (the incident's checkpoint): repair reads the user's layout again.
  fs.renameSync(path.join(runDir, 'journal.jsonl'), path.join(dir, 'lost-journal.jsonl'));
  const first = cliSync(['repair', runDir], dir);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout + first.stderr, /\+1080 adopted/);
  assert.deepEqual(new Map([...finals(runDir)].sort()), new Map([...expected].sort()));
  const journal = fs.readFileSync(path.join(runDir, 'journal.jsonl'));
  const second = cliSync(['repair', runDir], dir);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stdout + second.stderr, /\+0 adopted/);
  assert.deepEqual(fs.readFileSync(path.join(runDir, 'journal.jsonl')), journal, 'a second repair changes nothing');
  before.set('lost-journal.jsonl', treeHashes(dir).get('lost-journal.jsonl')!);
  assert.deepEqual(treeHashes(dir), before, "the user's files are byte-identical after run and repair");
});

/** A unit that writes its verdict where the layout wants it, logging each start and finish beside it. */
const LAYOUT_UNIT = [
  'mkdir -p "$(dirname "$RESUMABLE_RESULT_FILE")"',
  'echo start >> "$(dirname "$RESUMABLE_RESULT_FILE")/runs.log"',
  'sleep "${UNIT_SLEEP:-0}"',
  'printf \'{"passed": %s, "unit": "%s"}\\n\' "$VERDICT" "$RESUMABLE_UNIT_ID" > "$RESUMABLE_RESULT_FILE.tmp"',
  'mv "$RESUMABLE_RESULT_FILE.tmp" "$RESUMABLE_RESULT_FILE"',
  'echo done >> "$(dirname "$RESUMABLE_RESULT_FILE")/runs.log"',
].join('\n');

function layoutExperiment(dir: string, n: number, extra: Record<string, unknown> = {}): string {
  writeFiles(dir, {
    'unit.sh': LAYOUT_UNIT,
    'keep/notes.txt': "the user's own file\n",
    'items.csv':
      'id,verdict\n' +
      Array.from({ length: n }, (_, i) => `q${String(i).padStart(4, '0')},${i % 3 === 0 ? 'false' : 'true'}`).join('\n') +
      '\n',
  });
  return writeExperiment(dir, {
    items: { file: 'items.csv' },
    matrix: { repeat: 2 },
    run: { command: ['sh', 'unit.sh'], env: { VERDICT: '${item.verdict}' } },
    result: { path: 'results/${item.id}/run_${repeat:02}/result.json' },
    graceSeconds: 5,
    ...extra,
  });
}

test('a new run in a user layout: results appear at the template path; a retry moves the stale result into archive/ and says so', () => {
  const dir = tmpDir();
  const file = layoutExperiment(dir, 6);
  const first = cliSync(['run', file], dir);
  assert.equal(first.code, 0, first.stderr);
  for (const id of ['q0000', 'q0005'])
    for (const r of ['01', '02']) assert.ok(fs.existsSync(path.join(dir, 'results', id, `run_${r}`, 'result.json')), `${id} run_${r}`);
  const runDir = runDirOf(dir);
  assert.equal([...finals(runDir).values()].filter((s) => s === 'failed').length, 4);
  const before = treeHashes(dir);

  const retry = cliSync(['run', file, '--retry-failed'], dir);
  assert.equal(retry.code, 0, retry.stderr);
  const archived = fs
    .readdirSync(path.join(runDir, 'archive', 'results'), { recursive: true })
    .filter((f) => String(f).endsWith('result.json'));
  assert.equal(archived.length, 4, archived.join());
  const log = fs
    .readdirSync(path.join(runDir, 'units'))
    .map((u) => fs.readFileSync(path.join(runDir, 'units', u, 'output.log'), 'utf8'))
    .join('\n');
  assert.equal(log.match(/\[resumable\] moved the earlier result results\/q\d+\/run_0\d\/result\.json to archive\/results\//g)?.length, 4);
  // Only the retried units' results and logs changed; everything else is byte-identical.
  const after = treeHashes(dir);
  const changed = [...after.keys()].filter((k) => after.get(k) !== before.get(k)).sort();
  assert.deepEqual(
    changed.filter((k) => !/^results\/q000[03]\/run_0[12]\/(result\.json|runs\.log)$/.test(k)),
    [],
  );
  assert.equal(after.get('keep/notes.txt'), before.get('keep/notes.txt'));
});

test('SIGKILL the runner again and again over a user-layout run: nothing lost, nothing run twice', { timeout: 240_000 }, async () => {
  const dir = tmpDir();
  const file = layoutExperiment(dir, 60, {
    concurrency: 8,
    run: { command: ['sh', 'unit.sh'], env: { VERDICT: '${item.verdict}', UNIT_SLEEP: '0.1' } },
  });
  let kills = 0;
  for (let round = 0; round < 40; round++) {
    const { child, done } = cliStart(['run', file], dir);
    const journal = path.join(dir, '.resumable');
    let exited = false;
    void done.then(() => (exited = true));
    // Kill after a few more units end (an event, at a varying point), or let it finish.
    const target = 3 + (round % 5);
    const ends = () => {
      try {
        return journalSoFar(path.join(runDirOf(dir), 'journal.jsonl')).filter((r) => r.t === 'end' || r.t === 'adopt').length;
      } catch {
        return 0;
      }
    };
    const start = ends();
    await waitUntil('units ending', () => exited || ends() >= start + target, 60_000);
    if (!exited) {
      child.kill('SIGKILL');
      kills++;
    }
    const r = await done;
    if (r.code === 0) break;
    assert.equal(r.signal, 'SIGKILL', r.stderr);
    assert.ok(fs.existsSync(journal));
  }
  const final = cliSync(['run', file], dir);
  assert.equal(final.code, 0, final.stderr);
  assert.ok(kills >= 5, `expected at least 5 kills, got ${kills}`);
  const runDir = runDirOf(dir);
  const got = finals(runDir);
  assert.equal(got.size, 120);
  for (let i = 0; i < 60; i++) {
    const id = `q${String(i).padStart(4, '0')}`;
    for (const r of ['01', '02']) {
      const runs = fs
        .readFileSync(path.join(dir, 'results', id, `run_${r}`, 'runs.log'), 'utf8')
        .trim()
        .split('\n');
      const firstDone = runs.indexOf('done');
      assert.ok(
        firstDone !== -1 && runs.lastIndexOf('start') < firstDone,
        `${id}/r${Number(r)} ran again after its result was written: ${runs.join()}`,
      );
      assert.equal(got.get(`${id}/r${Number(r)}`), i % 3 === 0 ? 'failed' : 'passed');
    }
  }
  // A finished result is never moved aside for a re-run.
  const archive = path.join(runDir, 'archive', 'results');
  for (const f of fs.existsSync(archive) ? fs.readdirSync(archive, { recursive: true }) : []) {
    if (!String(f).endsWith('result.json')) continue;
    const text = fs.readFileSync(path.join(archive, String(f)), 'utf8');
    assert.doesNotMatch(text, /"passed"/, `a finished result was archived: ${String(f)}`);
  }
});

test('moving the experiment folder: the run is found, resumes, and nothing is run again', async () => {
  const root = tmpDir();
  const dir = path.join(root, 'before');
  fs.mkdirSync(dir);
  const file = layoutExperiment(dir, 20, {
    concurrency: 2,
    run: { command: ['sh', 'unit.sh'], env: { VERDICT: '${item.verdict}', UNIT_SLEEP: '0.05' } },
  });
  const { child, done } = cliStart(['run', file], dir);
  await waitUntil(
    '10 units ended',
    () => journalSoFar(path.join(runDirOf(dir), 'journal.jsonl')).filter((r) => r.t === 'end').length >= 10,
  );
  child.kill('SIGINT');
  assert.equal((await done).code, 130);
  const moved = path.join(root, 'after');
  fs.renameSync(dir, moved);
  const movedFile = path.join(moved, 'experiment.json');

  const status = cliSync(['status', movedFile, '--json'], moved);
  assert.equal(status.code, 0, status.stderr);
  const report = JSON.parse(status.stdout) as { status: string; done: number };
  assert.equal(report.status, 'interrupted');
  assert.ok(report.done >= 10);
  const dry = cliSync(['run', movedFile, '--dry-run'], moved);
  assert.match(dry.stdout + dry.stderr, new RegExp(`would run ${40 - report.done}, skip ${report.done}`));
  const again = cliSync(['run', movedFile], moved);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(fs.readdirSync(path.join(moved, '.resumable')), [path.basename(runDirOf(moved))], 'the same run folder, no new one');
  for (const id of fs.readdirSync(path.join(moved, 'results')))
    for (const r of ['run_01', 'run_02']) {
      const runs = fs
        .readFileSync(path.join(moved, 'results', id, r, 'runs.log'), 'utf8')
        .trim()
        .split('\n');
      assert.equal(runs.filter((l) => l === 'done').length, 1, `${id}/${r}: ${runs.join()}`);
    }
});

test('units without a result file: from "exit" and from "stdout" (kept in the unit folder); no rule: exit 0 passes', () => {
  const dir = tmpDir();
  const base = {
    items: { values: ['ok', 'bad'] },
    run: { command: ['sh', '-c', 'echo "{\\"passed\\": $([ "$0" = ok ] && echo true || echo false)}"; [ "$0" = ok ]', '${item.id}'] },
  };
  const cases: [string, Record<string, unknown>, Record<string, string>][] = [
    ['exit', { result: { from: 'exit' } }, { ok: 'passed', bad: 'failed' }],
    [
      'stdout',
      {
        result: { from: 'stdout' },
        run: { command: ['sh', '-c', 'echo noise; echo "{\\"passed\\": $([ "$0" = ok ] && echo true || echo false)}"', '${item.id}'] },
      },
      { ok: 'passed', bad: 'failed' },
    ],
    [
      'norule',
      { run: { command: ['sh', '-c', '[ "$0" = ok ]', '${item.id}'] }, retries: { maxAttempts: 1 } },
      { ok: 'passed', bad: 'error' },
    ],
  ];
  for (const [name, extra, expected] of cases) {
    const d = path.join(dir, name);
    fs.mkdirSync(d);
    const file = writeExperiment(d, { ...base, name, ...extra });
    const r = cliSync(['run', file], d);
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.deepEqual(Object.fromEntries(finals(runDirOf(d))), expected, name);
    if (name === 'stdout') {
      const kept = fs
        .readdirSync(path.join(runDirOf(d), 'units'))
        .map((u) => fs.readFileSync(path.join(runDirOf(d), 'units', u, 'result.json'), 'utf8').trim());
      assert.deepEqual(kept.sort(), ['{"passed": false}', '{"passed": true}']);
    }
  }
});

test('escapes are refused before anything runs, and nothing outside the run folder changes', () => {
  const dir = tmpDir();
  const outside = tmpDir();
  writeFiles(outside, { 'run_result.json': '{"judge_passed": true}\n' });
  writeFiles(dir, { 'T0/00/run_01/run_result.json': '{"judge_passed": true}\n', 'items.csv': 'id,sub\na,../../x\n' });
  fs.symlinkSync(outside, path.join(dir, 'linked'));
  const beforeIn = treeHashes(dir);
  const beforeOut = treeHashes(outside);
  const rel = path.relative(dir, path.join(outside, 'run_result.json'));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ items: { values: ['a'] }, result: { file: `../../../../${rel}` } }, /\$\.result\.file: .*"\.\." segment/],
    [{ items: { values: ['a'] }, result: { path: rel } }, /\$\.result\.path: .*leads out/],
    [{ items: { values: ['a'] }, result: { path: path.join(outside, 'run_result.json') } }, /\$\.result\.path: .*absolute/],
    [{ items: { values: ['a'] }, result: { path: 'linked/run_result.json' } }, /\$\.result\.path: .*symbolic link/],
    [{ items: { file: 'items.csv' }, result: { path: 'T0/${item.sub}/run_result.json' } }, /\$\.result\.path: .*unit "a".*leads out/],
  ];
  for (const [spec, expected] of cases) {
    const file = writeExperiment(dir, spec);
    for (const args of [
      ['run', file],
      ['run', file, '--dry-run'],
    ]) {
      const r = cliSync(args, dir);
      assert.equal(r.code, 1, `${JSON.stringify(spec)}: ${r.stderr}`);
      assert.match(r.stderr, expected);
      assert.doesNotMatch(r.stderr, /internal error|\n\s+at /, 'no stack trace');
    }
    assert.equal(fs.existsSync(path.join(dir, '.resumable')), false, 'nothing was written');
  }
  fs.rmSync(path.join(dir, 'experiment.json'));
  assert.deepEqual(treeHashes(dir), beforeIn);
  assert.deepEqual(treeHashes(outside), beforeOut);
  assert.equal(fs.existsSync(path.join(dir, 'started')), false);
});

test('a link out planted while the run goes on: the unit it would lead out of ends error, and the file outside stays as it was', () => {
  const dir = tmpDir();
  const outside = tmpDir();
  writeFiles(outside, { 'r.json': '{"passed": true}\n' });
  const before = treeHashes(outside);
  // Unit "a" plants res/b -> outside; unit "b" must neither adopt, move nor write through it.
  const file = writeExperiment(dir, {
    items: { values: ['a', 'b'] },
    concurrency: 1,
    run: {
      command: [
        'sh',
        '-c',
        'if [ "$0" = a ]; then ln -s "$1" res/b; fi; echo \'{"passed": true}\' > "$RESUMABLE_RESULT_FILE"',
        '${item.id}',
        outside,
      ],
    },
    result: { path: 'res/${item.id}/r.json' },
    retries: { maxAttempts: 1 },
  });
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const got = new Map<string, Record<string, unknown>>();
  for (const rec of journalRecords(runDirOf(dir))) if (rec.t === 'end') got.set(rec.u as string, rec);
  assert.equal(got.get('a')?.s, 'passed');
  assert.equal(got.get('b')?.s, 'error');
  assert.match(String(got.get('b')?.why), /res\/b\/r\.json leads through a symbolic link to .*, outside /);
  assert.deepEqual(treeHashes(outside), before);
});

test('run --fresh in a user layout starts over: every result there moves into archive/results/ and every unit runs again', () => {
  const dir = tmpDir();
  const file = layoutExperiment(dir, 3);
  assert.equal(cliSync(['run', file], dir).code, 0);
  const dry = cliSync(['run', file, '--fresh', '--dry-run'], dir);
  assert.match(dry.stdout + dry.stderr, /--fresh would move 6 result\(s\) kept in the experiment's own layout into archive\/results\//);
  assert.match(dry.stdout + dry.stderr, /would run 6, skip 0, adopt 0/);
  const fresh = cliSync(['run', file, '--fresh'], dir);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /--fresh: moved 6 result\(s\) from the experiment's own layout into archive\/results\//);
  const archived = fs
    .readdirSync(path.join(runDirOf(dir), 'archive', 'results'), { recursive: true })
    .filter((f) => /-fresh\/result\.json$/.test(String(f)));
  assert.equal(archived.length, 6);
  for (const id of ['q0000', 'q0001', 'q0002'])
    for (const r of ['run_01', 'run_02'])
      assert.deepEqual(
        fs
          .readFileSync(path.join(dir, 'results', id, r, 'runs.log'), 'utf8')
          .trim()
          .split('\n'),
        ['start', 'done', 'start', 'done'],
      );
});

test('a misspelt result.passed over results on disk is refused before anything runs (they would all be re-run)', () => {
  const dir = copyFixture('scylla-dryrun', tmpDir());
  const before = treeHashes(dir);
  const file = writeExperiment(dir, {
    items: { glob: 'T*/*/run_*/' },
    result: { path: '${item.path}/run_result.json', passed: 'judge_pased' },
  });
  for (const args of [
    ['run', file, '--dry-run'],
    ['run', file],
    ['status', file],
  ]) {
    const r = cliSync(args, dir);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(
      r.stderr,
      /\$\.result\.passed: None of the 7 result\(s\) on disk has a boolean "judge_pased" \(for one, T0\/00\/run_01\/run_result\.json\); is "result\.passed" right\?/,
    );
  }
  assert.equal(fs.existsSync(path.join(dir, 'started')), false);
  assert.equal(fs.existsSync(path.join(dir, '.resumable')), false, 'nothing written');
  fs.rmSync(file);
  assert.deepEqual(treeHashes(dir), before);
});

test('result.notDone over the real fixture: a run whose judge hit a usage limit is not adopted, is said so, and runs again', () => {
  const dir = copyFixture('scylla-dryrun', tmpDir());
  const hit = path.join(dir, 'T3', '01', 'run_01', 'run_result.json');
  const result = JSON.parse(fs.readFileSync(hit, 'utf8')) as { judges: { reasoning: string }[] };
  for (const j of result.judges) j.reasoning = "You've hit your usage limit · resets 6am";
  fs.writeFileSync(hit, JSON.stringify(result));
  const file = writeExperiment(dir, {
    items: { glob: 'T*/*/run_*/' },
    run: { command: ['sh', '-c', 'echo \'{"judge_passed": true, "judges": []}\' > "$RESUMABLE_RESULT_FILE"'] },
    result: { path: '${item.path}/run_result.json', passed: 'judge_passed', notDone: { field: 'judges', pattern: 'usage limit' } },
  });
  const dry = cliSync(['run', file, '--dry-run'], dir);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(
    dry.stdout + dry.stderr,
    /1 result\(s\) on disk are not finished or cut short, so not adopted: their units run again \(T3\/01\/run_01: run_result\.json is not finished: judges has "usage limit"\)/,
  );
  assert.match(dry.stdout + dry.stderr, /would run 1, skip 6, adopt 6/);
  const run = cliSync(['run', file], dir);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(finals(runDirOf(dir)).get('T3/01/run_01'), 'passed');
  const archived = fs.readdirSync(path.join(runDirOf(dir), 'archive', 'results'), { recursive: true }).map(String);
  assert.equal(archived.filter((f) => f.endsWith('run_result.json')).length, 1, archived.join());
});

test('a resume whose remaining results on disk have no verdict is not refused as a misspelt field: they are errors, retried', async () => {
  const dir = tmpDir();
  const file = writeExperiment(dir, {
    items: { values: ['a', 'b'] },
    concurrency: 1,
    graceSeconds: 0,
    run: {
      command: [
        'sh',
        '-c',
        'if [ "$0" = a ] || [ -f go ]; then echo \'{"passed": true}\' > "$RESUMABLE_RESULT_FILE"; else sleep 60; fi',
        '${item.id}',
      ],
    },
    result: { path: 'res/${item.id}.json' },
  });
  const { child, done } = cliStart(['run', file], dir);
  await waitUntil('b started after a ended', () =>
    journalSoFar(path.join(runDirOf(dir), 'journal.jsonl')).some((r) => r.t === 'start' && r.u === 'b'),
  );
  child.kill('SIGINT');
  assert.equal((await done).code, 130);
  fs.writeFileSync(path.join(dir, 'res', 'b.json'), '{"score": 1}\n');
  fs.writeFileSync(path.join(dir, 'go'), '');
  const again = cliSync(['run', file], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(finals(runDirOf(dir)).get('b'), 'passed');
});

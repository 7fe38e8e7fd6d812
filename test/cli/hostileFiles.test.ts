import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unitFolderName } from '../../src/core/ids';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { CLI, cliSync, journalRecords, makeExperiment, runDirOf, type CliResult } from '../helpers/cli';

/**
 * A CLI call that cannot hang the suite: a runner wedged in a blocking read ignores SIGTERM
 * (its handler never gets to run), so a hang is ended with SIGKILL and fails the test.
 */
function cli(args: string[], cwd: string, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  assert.equal(r.signal, null, `resumable ${args.join(' ')} hung (killed after ${timeoutMs} ms)\n${r.stderr}`);
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const noStack = (r: CliResult) => assert.doesNotMatch(r.stderr, /\n\s+at /, `no stack trace:\n${r.stderr}`);
const endsOf = (runDir: string, unit: string) => journalRecords(runDir).filter((r) => r.t === 'end' && r.u === unit);
const mkfifo = (p: string) => execFileSync('mkfifo', [p]);

/** A finished run of `n` passing units; `lose` units then lose their journal lines (pending again, results on disk). */
function finishedRun(n: number, lose: string[]): { dir: string; file: string; runDir: string } {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n, concurrency: 2, sleep: '0', extra: { retries: { maxAttempts: 1 } } });
  const r = cli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const runDir = runDirOf(dir);
  const j = path.join(runDir, 'journal.jsonl');
  const keep = fs
    .readFileSync(j, 'utf8')
    .split('\n')
    .filter((l) => !lose.some((u) => l.includes(`"u":"${u}"`)));
  fs.writeFileSync(j, keep.join('\n'));
  return { dir, file, runDir };
}

/** Every path under `p` (not following links) with its bytes' hash: to prove nothing there changed. */
function fingerprint(p: string): string {
  const h = createHash('sha256');
  const walk = (q: string) => {
    const st = fs.lstatSync(q);
    h.update(`${path.relative(p, q)}:${st.mode}:`);
    if (st.isDirectory()) for (const n of fs.readdirSync(q).sort()) walk(path.join(q, n));
    else if (st.isFile()) h.update(fs.readFileSync(q));
    h.update('\n');
  };
  walk(p);
  return h.digest('hex');
}

// Fix 1: items and arguments over the kernel's per-string limit.

test('an item over 32 KiB reaches the unit as RESUMABLE_ITEM_FILE (item.json); a small one as RESUMABLE_ITEM, with no file', () => {
  const dir = tmpDir();
  const script = [
    'if [ -n "${RESUMABLE_ITEM+x}" ]; then src=env; n=${#RESUMABLE_ITEM}; else src=file; n=$(wc -c < "$RESUMABLE_ITEM_FILE"); fi',
    'printf \'{"passed": true, "src": "%s", "bytes": %s, "file": "%s"}\\n\' "$src" "$n" "${RESUMABLE_ITEM_FILE:-}" > "$RESUMABLE_UNIT_DIR/result.json"',
  ].join('\n');
  const file = makeExperiment(dir, { n: 0, script });
  const big = { id: 'big', text: 'x'.repeat(200 * 1024) };
  writeFiles(dir, { 'items.jsonl': `${JSON.stringify(big)}\n{"id":"small","text":"hi"}\n` });
  const r = cli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const runDir = runDirOf(dir);
  const result = (id: string) => JSON.parse(fs.readFileSync(path.join(runDir, 'units', unitFolderName(id), 'result.json'), 'utf8'));
  const itemFile = path.join(runDir, 'units', unitFolderName('big'), 'item.json');
  assert.deepEqual(result('big'), { passed: true, src: 'file', bytes: JSON.stringify(big).length, file: itemFile });
  assert.deepEqual(JSON.parse(fs.readFileSync(itemFile, 'utf8')), big);
  assert.deepEqual(result('small'), { passed: true, src: 'env', bytes: '{"id":"small","text":"hi"}'.length, file: '' });
  assert.ok(!fs.existsSync(path.join(runDir, 'units', unitFolderName('small'), 'item.json')), 'no file for a small item');
});

test("an argument or variable over 128 KiB, or with a NUL byte, is that unit's error naming it, its size and the limit; other units run", () => {
  const cases: { run: Record<string, unknown>; why: RegExp }[] = [
    {
      run: { command: ['sh', 'unit.sh', '${item.text}'] },
      why: /argument 2 of the command is 200\.0 KiB; one argument may be at most 128 KiB \(E2BIG\): pass big fields through RESUMABLE_ITEM_FILE/,
    },
    {
      run: { command: ['sh', 'unit.sh'], env: { BIG: '${item.text}' } },
      why: /environment variable BIG is 200\.0 KiB; one variable may be at most 128 KiB \(E2BIG\): pass big fields through RESUMABLE_ITEM_FILE/,
    },
    { run: { command: ['sh', 'unit.sh'], env: { ODD: '${item.nul}' } }, why: /environment variable ODD contains a NUL byte/ },
  ];
  for (const c of cases) {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 0, extra: { retries: { maxAttempts: 1 } } });
    const exp = JSON.parse(fs.readFileSync(file, 'utf8'));
    writeFiles(dir, {
      'e.experiment.json': JSON.stringify({ ...exp, run: c.run }),
      'items.jsonl': `${JSON.stringify({ id: 'huge', text: 'y'.repeat(200 * 1024), nul: 'a\u0000b' })}\n${JSON.stringify({ id: 'fine', text: 'ok', nul: 'ok' })}\n`,
    });
    const r = cli(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    noStack(r);
    const runDir = runDirOf(dir);
    const [end] = endsOf(runDir, 'huge');
    assert.equal(end?.s, 'error', JSON.stringify(end));
    assert.match(String(end.why), c.why);
    assert.equal(endsOf(runDir, 'fine')[0]?.s, 'passed');
    assert.match(fs.readFileSync(path.join(runDir, 'units', unitFolderName('huge'), 'output.log'), 'utf8'), c.why, 'the log says why too');
  }
});

test(
  'failed starts close what they opened: 100 starts refused by the kernel (E2BIG) leak no file descriptor of the runner',
  { timeout: 120_000 },
  () => {
    const fdRunner = path.join(__dirname, 'fdRunner.cjs');
    // One argument over 128 KiB (refused before spawn), and arguments under it that are too big together (spawn throws).
    for (const command of [
      ['sh', '-c', 'exit 0', 'sh', '${item.text}'],
      ['true', ...Array.from({ length: 24 }, () => '${item.part}')],
    ]) {
      const dir = tmpDir();
      const items =
        Array.from({ length: 100 }, (_, i) =>
          JSON.stringify({ id: `u${i}`, text: 'z'.repeat(130 * 1024), part: 'p'.repeat(100 * 1024) }),
        ).join('\n') + '\n';
      writeFiles(dir, {
        'items.jsonl': items,
        'e.experiment.json': JSON.stringify({
          name: 'fds',
          items: { file: 'items.jsonl' },
          run: { command },
          concurrency: 4,
          retries: { maxAttempts: 1 },
        }),
      });
      const out = execFileSync(process.execPath, [fdRunner, path.join(dir, 'e.experiment.json')], { encoding: 'utf8', timeout: 100_000 });
      const f = JSON.parse(out) as { before: number; after: number; counts: Record<string, number> };
      assert.equal(f.counts.error, 100, out);
      assert.ok(f.after - f.before <= 8, `open fds went from ${f.before} to ${f.after} over 100 failed starts`);
      const whys = new Set(
        journalRecords(runDirOf(dir))
          .filter((r) => r.t === 'end')
          .map((r) => String(r.why).replace(/\d+(\.\d+)? (KiB|MiB)/g, 'N')),
      );
      assert.equal(whys.size, 1, [...whys].join('\n'));
      assert.match([...whys][0]!, /E2BIG/);
      assert.doesNotMatch([...whys][0]!, /internal/);
    }
  },
);

// Fix 2: FIFOs (and other non-files) where a file is read.

test(
  "a FIFO as the result file is the unit's error; planted in pending units it is not adopted, and run, --dry-run and repair never hang on it",
  { timeout: 180_000 },
  () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, {
      n: 2,
      sleep: '0',
      script: 'mkfifo "$RESUMABLE_RESULT_FILE"',
      extra: { retries: { maxAttempts: 1 } },
    });
    const r = cli(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    for (const u of ['item-00000', 'item-00001']) {
      assert.equal(endsOf(runDirOf(dir), u)[0]?.s, 'error');
      assert.match(String(endsOf(runDirOf(dir), u)[0]?.why), /result\.json is a FIFO \(named pipe\), not a regular file/);
    }

    const { dir: d2, file: f2, runDir } = finishedRun(3, ['item-00001']);
    const result = path.join(runDir, 'units', unitFolderName('item-00001'), 'result.json');
    fs.rmSync(result);
    mkfifo(result);
    const dry = cli(['run', f2, '--dry-run'], d2);
    assert.equal(dry.code, 0, dry.stderr);
    assert.doesNotMatch(dry.stdout, /adopt: .*item-00001/);
    const plan = cli(['repair', runDir, '--dry-run'], d2);
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /\+0 adopted, 0 dropped, 1 unreadable result/);
    assert.equal(cli(['repair', runDir], d2).code, 0);
    const again = cli(['run', f2], d2);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      endsOf(runDir, 'item-00001').map((e) => e.s),
      ['passed'],
      'the unit ran again',
    );
    assert.ok(
      fs.readdirSync(path.dirname(result)).some((n) => n.startsWith('result.json.before-attempt-')),
      'the FIFO was set aside, not deleted',
    );
  },
);

test("a result over 64 MiB is the unit's error saying its size and the cap", () => {
  const dir = tmpDir();
  // Sparse: 100 MiB of size, no disk.
  const file = makeExperiment(dir, { n: 1, script: 'truncate -s 100M "$RESUMABLE_RESULT_FILE"', extra: { retries: { maxAttempts: 1 } } });
  const r = cli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const [end] = endsOf(runDirOf(dir), 'item-00000');
  assert.equal(end?.s, 'error');
  assert.match(String(end.why), /result\.json is 100\.0 MiB; a result may be at most 64 MiB/);
});

test("a FIFO as state.json or another shard's pause file: status, list and run answer (a note), never hang", { timeout: 180_000 }, () => {
  const { dir, file, runDir } = finishedRun(2, []);
  const state = path.join(runDir, 'state.json');
  fs.rmSync(state);
  mkfifo(state);
  const st = cli(['status', file, '--json'], dir);
  assert.equal(st.code, 0, st.stderr);
  const report = JSON.parse(st.stdout);
  assert.equal(report.counts.passed, 2, 'the journal answers');
  assert.ok(
    report.notes.some((n: string) => /state\.json.*is a FIFO \(named pipe\), not a regular file.*using the journal instead/.test(n)),
    report.notes.join('\n'),
  );
  const list = cli(['list', '--json'], dir);
  assert.equal(list.code, 0, list.stderr);
  // A run replaces it atomically (rename over the FIFO): nothing to read there.
  const resumed = cli(['run', file], dir);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.ok(fs.lstatSync(state).isFile());

  const sharded = tmpDir();
  const sf = makeExperiment(sharded, { n: 6, sleep: '0' });
  assert.equal(cli(['run', sf, '--shard', '1/2'], sharded).code, 0);
  // A shard leaves its file (spend, last pause) when it ends: the FIFO takes its place.
  fs.rmSync(path.join(runDirOf(sharded), 'ratelimit.1of2.json'), { force: true });
  mkfifo(path.join(runDirOf(sharded), 'ratelimit.1of2.json'));
  const s2 = cli(['run', sf, '--shard', '2/2'], sharded);
  assert.equal(s2.code, 0, s2.stderr);
});

test('a FIFO as experiment.json: status is a clear error (exit 1), never a hang', () => {
  const { dir, runDir } = finishedRun(1, []);
  const frozen = path.join(runDir, 'experiment.json');
  fs.rmSync(frozen);
  mkfifo(frozen);
  const bad = cli(['status', runDir], dir, 20_000);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /experiment\.json.*is a FIFO \(named pipe\), not a regular file/);
  noStack(bad);
});

test('a FIFO as the journal: run is a clear error (exit 1), status returns; never a hang', () => {
  const { dir, file, runDir } = finishedRun(1, []);
  const journal = path.join(runDir, 'journal.jsonl');
  fs.rmSync(journal);
  mkfifo(journal);
  const bad = cli(['run', file], dir, 20_000);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /journal\.jsonl.*expected a regular file, found a FIFO/);
  noStack(bad);
  // status reads nothing from it (a FIFO has no size), and returns.
  const status = cli(['status', runDir], dir, 20_000);
  assert.equal(status.signal, null, 'status returned');
  noStack(status);
});

// Fix 3: symlinks planted in the run folder.

test(
  'symlinks planted in the run folder are never followed: units/, a unit folder, output.log, a result file',
  { timeout: 180_000 },
  () => {
    const outsideRoot = tmpDir('resumable-outside-');
    const trap = (name: string) => {
      const d = path.join(outsideRoot, name);
      // Looks like a unit folder with a passing result: following the link would adopt it.
      writeFiles(d, {
        'result.json': '{"passed": true}\n',
        'output.log': 'not yours\n',
        [`${unitFolderName('item-00001')}/result.json`]: '{"passed": true}\n',
      });
      return d;
    };
    const unitOf = (runDir: string) => path.join(runDir, 'units', unitFolderName('item-00001'));

    const check = (what: string, plant: (runDir: string) => string, expectRun: (r: CliResult) => void) => {
      const { dir, file, runDir } = finishedRun(3, ['item-00001']);
      const target = plant(runDir);
      const before = fingerprint(target);
      const dry = cli(['run', file, '--dry-run'], dir);
      assert.equal(dry.code, 0, `${what}: ${dry.stderr}`);
      assert.doesNotMatch(dry.stdout, /adopt: .*item-00001/, `${what}: adopted through the link`);
      const rep = cli(['repair', runDir, '--dry-run'], dir);
      assert.doesNotMatch(rep.stdout, /\+1 adopted/, `${what}: repair adopted through the link`);
      noStack(rep);
      cli(['repair', runDir], dir);
      const run = cli(['run', file], dir);
      noStack(run);
      expectRun(run);
      assert.equal(fingerprint(target), before, `${what}: the outside target changed`);
      return runDir;
    };

    check(
      'units/ a symlink',
      (runDir) => {
        const t = trap('units');
        fs.renameSync(path.join(runDir, 'units'), path.join(runDir, 'units.moved'));
        fs.symlinkSync(t, path.join(runDir, 'units'));
        return t;
      },
      (r) => {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /units is a symbolic link.*not followed/);
      },
    );

    check(
      'a unit folder a symlink',
      (runDir) => {
        const t = trap('unit');
        fs.rmSync(unitOf(runDir), { recursive: true });
        fs.symlinkSync(t, unitOf(runDir));
        return t;
      },
      (r) => {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, new RegExp(`${unitFolderName('item-00001').replace(/[~.]/g, '\\$&')} is a symbolic link.*not followed`));
      },
    );

    check(
      'output.log a symlink',
      (runDir) => {
        const t = trap('log');
        fs.rmSync(path.join(unitOf(runDir), 'result.json'));
        fs.rmSync(path.join(unitOf(runDir), 'output.log'));
        fs.symlinkSync(path.join(t, 'output.log'), path.join(unitOf(runDir), 'output.log'));
        return t;
      },
      (r) => {
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /output\.log is a symbolic link.*not followed/);
      },
    );

    const runDir = check(
      'result.json a symlink',
      (runDir) => {
        const t = trap('result');
        fs.rmSync(path.join(unitOf(runDir), 'result.json'));
        fs.symlinkSync(path.join(t, 'result.json'), path.join(unitOf(runDir), 'result.json'));
        return t;
      },
      (r) => assert.equal(r.code, 0, r.stderr),
    );
    // The unit ran again and wrote its own result; the link was set aside, its target untouched.
    assert.deepEqual(
      endsOf(runDir, 'item-00001').map((e) => e.s),
      ['passed'],
    );
    assert.ok(fs.lstatSync(path.join(unitOf(runDir), 'result.json')).isFile());
  },
);

test('a unit that leaves its result as a symlink to a file outside is an error; the file is not read', () => {
  const dir = tmpDir();
  const outside = path.join(tmpDir('resumable-outside-'), 'passed.json');
  fs.writeFileSync(outside, '{"passed": true}\n');
  const file = makeExperiment(dir, { n: 1, script: `ln -s '${outside}' "$RESUMABLE_RESULT_FILE"`, extra: { retries: { maxAttempts: 1 } } });
  const r = cli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const [end] = endsOf(runDirOf(dir), 'item-00000');
  assert.equal(end?.s, 'error');
  assert.match(String(end.why), /result\.json is a symbolic link; not followed/);
});

// Fix 4: output.log is capped per attempt.

test(
  'maxLogBytes: a unit writing 50 MB keeps its head, a marker of what was cut and its tail; trimmed while it runs too',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const script = [
      'log="$RESUMABLE_UNIT_DIR/output.log"',
      'echo HEAD-MARK',
      'yes 0123456789abcdef | head -c 5000000',
      // Waits (bounded) for the runner to trim the log while this process still writes to it.
      'i=0; while [ "$(stat -c %s "$log")" -gt 3000000 ]; do i=$((i+1)); [ $i -gt 1200 ] && { echo never trimmed; exit 3; }; sleep 0.05; done',
      'yes fedcba9876543210 | head -c 45000000',
      'echo; echo TAIL-MARK',
      'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"',
    ].join('\n');
    const file = makeExperiment(dir, { n: 1, script, extra: { maxLogBytes: 1_048_576, retries: { maxAttempts: 1 } } });
    const r = cli(['run', file], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      endsOf(runDirOf(dir), 'item-00000').map((e) => e.s),
      ['passed'],
    );
    const log = fs.readFileSync(path.join(runDirOf(dir), 'units', unitFolderName('item-00000'), 'output.log'), 'utf8');
    assert.ok(log.length <= 2 * 1_048_576, `log is ${log.length} bytes`);
    assert.match(log.slice(0, 2000), /HEAD-MARK\n0123456789abcdef/);
    assert.match(log, /\n\[resumable\] \d+ bytes of this attempt's output cut here \(maxLogBytes = 1048576/);
    assert.match(log.slice(-200), /fedcba9876543210\n[0-9a-f]*\nTAIL-MARK\n$/);
    const cut = Number(/\[resumable\] (\d+) bytes/.exec(log)![1]);
    assert.ok(cut >= 48_900_000 && cut <= 49_000_000, `cut ${cut}`);
  },
);

// Fix 5: a 429 early in a long output.

test('a 429 followed by 400 KiB of output is still seen: rate_limited, then passed', { timeout: 60_000 }, () => {
  const dir = tmpDir();
  const script = [
    'if mkdir "$RESUMABLE_UNIT_DIR/../../limited" 2>/dev/null; then',
    '  echo "HTTP 429 rate limit"; head -c 409600 /dev/zero | tr "\\0" n; echo; exit 1',
    'fi',
    'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"',
  ].join('\n');
  const file = makeExperiment(dir, {
    n: 1,
    script,
    extra: {
      rateLimit: { patterns: ['HTTP 429'], defaultWaitSeconds: 0.2, bufferSeconds: 0 },
      retries: { maxAttempts: 3, backoffSeconds: [0, 0] },
    },
  });
  const r = cli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    endsOf(runDirOf(dir), 'item-00000').map((e) => e.s),
    ['rate_limited', 'passed'],
  );
  assert.equal(JSON.parse(cliSync(['status', file, '--json'], dir).stdout).pauseCount, 1);
});

// Fix 6: the runner out of descriptors is not the units' fault.

test(
  'a runner out of file descriptors (ulimit -n 48, 40 units at a time) charges no unit an attempt: every unit passes',
  { timeout: 120_000 },
  () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 40, concurrency: 40, sleep: '1', extra: { retries: { maxAttempts: 1 } } });
    const r = spawnSync('sh', ['-c', 'ulimit -n 48 && exec "$0" "$@"', process.execPath, CLI, 'run', file], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 100_000,
      killSignal: 'SIGKILL',
    });
    assert.equal(r.status, 0, r.stderr);
    const recs = journalRecords(runDirOf(dir));
    const faults = recs.filter(
      (x) => x.t === 'end' && x.s === 'interrupted' && /EMFILE/.test(String(x.why)) && /not counted as an attempt/.test(String(x.why)),
    );
    assert.ok(faults.length > 0, 'the limit was hit (else this test shows nothing)');
    const finals = recs.filter((x) => x.t === 'end' && x.s !== 'interrupted');
    assert.equal(finals.length, 40);
    assert.ok(
      finals.every((x) => x.s === 'passed'),
      JSON.stringify(finals.filter((x) => x.s !== 'passed')),
    );
  },
);

test('a printed result is kept in the unit folder, never through a result.json the unit made a symlink out of it', () => {
  const dir = tmpDir();
  const outside = path.join(dir, 'outside.json');
  fs.writeFileSync(outside, '{"mine": 1}\n');
  const script = `ln -sf ${JSON.stringify(outside)} "$RESUMABLE_UNIT_DIR/result.json"\necho '{"passed": true}'\n`;
  const file = makeExperiment(dir, { n: 2, script, extra: { result: { from: 'stdout' } } });
  const r = cli(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(outside, 'utf8'), '{"mine": 1}\n', 'the file the link pointed at is untouched');
  const kept = path.join(runDirOf(dir), 'units', unitFolderName('item-00000'), 'result.json');
  assert.ok(fs.lstatSync(kept).isFile(), 'the link was replaced by the result itself');
  assert.deepEqual(JSON.parse(fs.readFileSync(kept, 'utf8')), { passed: true });
});

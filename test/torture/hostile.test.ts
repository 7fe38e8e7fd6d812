import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { CLI, cliStart, cliSync, journalRecords, makeExperiment, runDirOf, type CliResult } from '../helpers/cli';
import { loadExperimentText } from '../../src/core/config/load';
import { isUserError } from '../../src/core/errors';
import { parseLine } from '../../src/core/store/journalReader';
import { unitFolderName } from '../../src/core/ids';
import { FULL, report } from './torture';

const runs = (quick: number, full: number) => ({ numRuns: FULL ? full : quick });

/** Values an attacker or a sloppy script puts in an id field. */
const hostileId = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom(
    '..',
    '../../etc/passwd',
    '/etc/passwd',
    'C:\\Windows',
    'a/../../b',
    '.',
    './x',
    'a\u0000b',
    'x'.repeat(5000),
    'ＡＢＣ',
    'café',
    'cafe\u0301',
    'Q1',
    'q1',
    '\u202e',
    '',
  ),
  fc.array(fc.constantFrom('..', '.', 'a', '/', '\\', '\u0000', 'é'), { maxLength: 12 }).map((xs) => xs.join('')),
);

test(
  'hostile experiment files: any text, any structure — a clear error (file, line/path) or a valid experiment, never a crash',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    writeFiles(dir, { 'items.jsonl': '{"id":"a"}\n' });
    const file = path.join(dir, 'x.experiment.json');
    const f = { cases: 0, userErrors: 0, valid: 0 };
    const anyJson = fc.jsonValue({ maxDepth: 4 });
    const shaped = fc.record(
      {
        name: fc.oneof(fc.string(), fc.constantFrom('ok', 'ok', '../x', '')),
        items: fc.oneof(
          anyJson,
          fc.record({ file: fc.constantFrom('items.jsonl', '../../etc/passwd', '/dev/null', 'nope.csv') }),
          fc.record({ values: fc.array(fc.record({ id: hostileId }), { maxLength: 5 }) }),
        ),
        run: fc.oneof(anyJson, fc.record({ command: fc.array(fc.string(), { minLength: 1, maxLength: 3 }) })),
        concurrency: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer(), fc.double(), fc.string()),
      },
      { requiredKeys: ['name', 'items', 'run'] },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          anyJson.map((v) => JSON.stringify(v)),
          shaped.map((v) => JSON.stringify(v, null, 2)),
        ),
        async (text) => {
          f.cases++;
          try {
            await loadExperimentText(text, file);
            f.valid++;
          } catch (e) {
            if (!isUserError(e)) throw new Error(`not a clear error for ${JSON.stringify(text).slice(0, 200)}: ${(e as Error).stack}`);
            assert.ok(e.message.length > 0);
            f.userErrors++;
          }
        },
      ),
      runs(300, 5000),
    );
    report('hostileExperiments', f);
    assert.ok(f.userErrors > 0 && f.cases > 0);
  },
);

test(
  'hostile item ids: refused by name, or a folder inside units/ that no other id shares, even case-insensitively',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const file = path.join(dir, 'x.experiment.json');
    const f = { cases: 0, refused: 0, accepted: 0 };
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(hostileId, { minLength: 1, maxLength: 6 }), async (ids) => {
        f.cases++;
        const text = JSON.stringify({ name: 'h', items: { values: ids.map((id) => ({ id })) }, run: { command: ['true'] } });
        try {
          const exp = await loadExperimentText(text, file);
          f.accepted++;
          const folders = exp.units.map((u) => unitFolderName(u.id));
          for (const folder of folders) assert.equal(path.dirname(path.join('/r/units', folder)), '/r/units');
          assert.equal(new Set(folders.map((x) => x.toLowerCase())).size, folders.length);
        } catch (e) {
          if (!isUserError(e)) throw e;
          assert.match(e.message, /items|id/i, e.message);
          f.refused++;
        }
      }),
      runs(300, 5000),
    );
    report('hostileIds', f);
    assert.ok(f.refused > 0 && f.accepted > 0, JSON.stringify(f));
  },
);

test('hostile journal lines: any bytes parse to a record or to "not a record", never a crash', () => {
  const f = { cases: 0, records: 0 };
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc
          .record({
            t: fc.constantFrom('start', 'end', 'adopt', 'header', 'pause', 'merged', 'x'),
            ts: fc.oneof(fc.integer(), fc.string()),
            u: fc.oneof(hostileId, fc.integer()),
          })
          .map((v) => JSON.stringify(v)),
      ),
      (line) => {
        f.cases++;
        const r = parseLine(line);
        if (r) {
          f.records++;
          assert.equal(typeof r.t, 'string');
          assert.equal(typeof r.ts, 'number');
        }
      },
    ),
    runs(2000, 50_000),
  );
  report('hostileJournalLines', f);
});

test('a hostile id in a real run: `../`, absolute and NUL ids are refused with the item named, and nothing is written outside the run folder', () => {
  const dir = tmpDir();
  for (const bad of ['../../escape', '/tmp/abs', 'nul\u0000byte']) {
    writeFiles(dir, {
      'items.jsonl': `{"id":"ok"}\n${JSON.stringify({ id: bad })}\n`,
      'e.experiment.json': JSON.stringify({
        name: 'h',
        items: { file: 'items.jsonl' },
        run: { command: ['sh', '-c', 'echo \'{"passed":true}\' > "$RESUMABLE_UNIT_DIR/result.json"'] },
      }),
    });
    const r = cliSync(['run', 'e.experiment.json'], dir);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /items\.jsonl:2/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
    assert.ok(!fs.existsSync(path.join(dir, '.resumable')), 'nothing written');
  }
  // Look-alikes and case-only differences run side by side, each in its own folder.
  writeFiles(dir, { 'items.jsonl': ['Q1', 'q1', 'café', 'cafe\u0301', 'ｑ1'].map((id) => JSON.stringify({ id })).join('\n') + '\n' });
  const ok = cliSync(['run', 'e.experiment.json'], dir);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(fs.readdirSync(path.join(runDirOf(dir), 'units')).length, 5);
});

/** A CLI call that a wedged runner cannot turn into a hung suite (it ignores SIGTERM then). */
function boundedCli(args: string[], cwd: string, timeoutMs: number): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  assert.equal(r.signal, null, `resumable ${args.join(' ')} hung (killed after ${timeoutMs} ms)`);
  return { code: r.status, stderr: r.stderr };
}

test(
  "failed starts at scale: items and arguments over the kernel's limit end as errors naming them, and leak no descriptor",
  { timeout: 300_000 },
  () => {
    const n = FULL ? 300 : 30;
    const dir = tmpDir();
    // Half the units pass a 200 KiB field as an argument (refused, named); half only carry a big item (passed by file).
    const items =
      Array.from({ length: n }, (_, i) =>
        JSON.stringify({ id: `u${i}`, big: i % 2 === 0 ? 'b'.repeat(200 * 1024) : '', blob: 'c'.repeat(100 * 1024) }),
      ).join('\n') + '\n';
    writeFiles(dir, {
      'items.jsonl': items,
      'unit.sh': 'test -s "$RESUMABLE_ITEM_FILE" && echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"\n',
      'e.experiment.json': JSON.stringify({
        name: 'fds',
        items: { file: 'items.jsonl' },
        run: { command: ['sh', 'unit.sh', '${item.big}'] },
        concurrency: 8,
        retries: { maxAttempts: 1 },
      }),
    });
    const out = execFileSync(process.execPath, [path.join(__dirname, '../cli/fdRunner.cjs'), path.join(dir, 'e.experiment.json')], {
      encoding: 'utf8',
      timeout: 280_000,
    });
    const f = JSON.parse(out) as { before: number; after: number; counts: Record<string, number> };
    const recs = journalRecords(runDirOf(dir)).filter((r) => r.t === 'end');
    const named = recs.filter(
      (r) =>
        r.s === 'error' && /argument 2 of the command is 200\.0 KiB; one argument may be at most 128 KiB \(E2BIG\)/.test(String(r.why)),
    ).length;
    report('hostileFailedStarts', {
      units: n,
      refusedNamed: named,
      passedByItemFile: f.counts.passed,
      fdsBefore: f.before,
      fdsAfter: f.after,
    });
    assert.equal(named, n / 2);
    assert.equal(f.counts.passed, n / 2);
    assert.ok(f.after - f.before <= 8, `fds ${f.before} → ${f.after}`);
  },
);

test(
  'a FIFO for every unit: results that are FIFOs are errors, FIFOs planted in pending units are not adopted; run, --dry-run, repair and status never hang',
  { timeout: 600_000 },
  () => {
    const n = FULL ? 100 : 10;
    const dir = tmpDir();
    const file = makeExperiment(dir, {
      n,
      concurrency: 8,
      script: 'mkfifo "$RESUMABLE_RESULT_FILE"',
      extra: { retries: { maxAttempts: 1 } },
    });
    const t = 60_000;
    assert.equal(boundedCli(['run', file], dir, t).code, 0);
    const runDir = runDirOf(dir);
    const fifoErrors = journalRecords(runDir).filter((r) => r.t === 'end' && /is a FIFO \(named pipe\)/.test(String(r.why))).length;
    // Every unit pending again with its FIFO still there, state.json a FIFO too.
    const j = path.join(runDir, 'journal.jsonl');
    fs.writeFileSync(
      j,
      fs
        .readFileSync(j, 'utf8')
        .split('\n')
        .filter((l) => !/"t":"(start|end)"/.test(l))
        .join('\n'),
    );
    fs.rmSync(path.join(runDir, 'state.json'));
    execFileSync('mkfifo', [path.join(runDir, 'state.json')]);
    const dry = boundedCli(['run', file, '--dry-run'], dir, t);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(boundedCli(['status', file, '--json'], dir, t).code, 0);
    assert.equal(boundedCli(['repair', runDir, '--dry-run'], dir, t).code, 0);
    assert.equal(boundedCli(['repair', runDir], dir, t).code, 0);
    const adopted = journalRecords(runDir).filter((r) => r.t === 'adopt').length;
    const again = boundedCli(['run', file], dir, t);
    assert.equal(again.code, 0, again.stderr);
    report('hostileFifos', { units: n, fifoErrors, adopted });
    assert.equal(fifoErrors, n);
    assert.equal(adopted, 0);
  },
);

test('chatty units: output.log stays near maxLogBytes whatever they write', { timeout: 600_000 }, async () => {
  const perUnit = FULL ? 500_000_000 : 20_000_000;
  const cap = 1_048_576;
  const dir = tmpDir();
  const script =
    'echo HEAD; yes 0123456789abcdef | head -c ' +
    perUnit +
    '; echo; echo TAIL; echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"\n';
  const file = makeExperiment(dir, { n: 4, concurrency: 4, script, extra: { maxLogBytes: cap } });
  const { done } = cliStart(['run', file], dir);
  let exit: CliResult | undefined;
  void done.then((x) => (exit = x));
  // A figure, not an assertion: the biggest log seen between the runner's checks.
  let peak = 0;
  const root = path.join(dir, '.resumable');
  while (!exit) {
    for (const run of fs.existsSync(root) ? fs.readdirSync(root) : []) {
      const units = path.join(root, run, 'units');
      for (const u of fs.existsSync(units) ? fs.readdirSync(units) : []) {
        try {
          peak = Math.max(peak, fs.statSync(path.join(units, u, 'output.log')).size);
        } catch {
          // not made yet
        }
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(exit.code, 0, exit.stderr);
  const units = path.join(runDirOf(dir), 'units');
  const sizes = fs.readdirSync(units).map((u) => fs.statSync(path.join(units, u, 'output.log')).size);
  report('hostileChattyLogs', { units: 4, writtenPerUnit: perUnit, cap, logSizes: sizes, peakLogBytesSeen: peak });
  for (const u of fs.readdirSync(units)) {
    const log = fs.readFileSync(path.join(units, u, 'output.log'), 'utf8');
    assert.ok(log.length <= cap + 4096, `${u}: ${log.length} bytes`);
    assert.match(log, /\nHEAD\n/);
    assert.match(log, /\[resumable\] \d+ bytes of this attempt's output cut here/);
    assert.match(log, /\nTAIL\n$/);
  }
});

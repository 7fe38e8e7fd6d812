import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliSync, journalRecords, makeExperiment, runDirOf } from '../helpers/cli';
import { waitUntil } from '../helpers/wait';

test("a timeout kills the unit's whole process group (grandchildren too) and counts as an error", { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const script = 'sleep 60 & echo $! > "$RESUMABLE_UNIT_DIR/grandchild.pid"; wait';
  const file = makeExperiment(dir, {
    n: 1,
    script,
    extra: { run: { command: ['sh', 'unit.sh'], timeoutSeconds: 1 }, retries: { maxAttempts: 1 } },
  });
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const runDir = runDirOf(dir);
  const end = journalRecords(runDir).find((x) => x.t === 'end')!;
  assert.equal(end.s, 'error');
  assert.equal(end.why, 'timed out');
  const [folder] = fs.readdirSync(path.join(runDir, 'units'));
  const pid = Number(fs.readFileSync(path.join(runDir, 'units', folder!, 'grandchild.pid'), 'utf8'));
  const alive = () => fs.existsSync(`/proc/${pid}/stat`) && !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  // Its group was signalled when the unit timed out; it is gone once the kernel has reaped it.
  await waitUntil('the grandchild sleep to die with its group', () => !alive(), 30_000);
});

test('output.log keeps every attempt under a header; --retry-errors and --retry-failed rerun only those', () => {
  const dir = tmpDir();
  // item-00000 errors until RETRY=ok exists; item-00001 fails; the rest pass.
  const script = [
    'echo "attempt $RESUMABLE_ATTEMPT of $RESUMABLE_UNIT_ID"',
    'case "$RESUMABLE_ITEM_ID" in',
    '  item-00000) [ -f "$RESUMABLE_RUN_DIR/../../ok" ] || { echo boom >&2; exit 3; } ;;',
    '  item-00001) [ -f "$RESUMABLE_RUN_DIR/../../ok" ] || { echo \'{"passed": false}\' > "$RESUMABLE_UNIT_DIR/result.json"; exit 0; } ;;',
    'esac',
    'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"',
  ].join('\n');
  const file = makeExperiment(dir, { n: 4, script, extra: { retries: { maxAttempts: 2, backoffSeconds: [0, 0] } } });
  const first = cliSync(['run', file], dir);
  assert.equal(first.code, 0, first.stderr);
  let status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.deepEqual([status.counts.passed, status.counts.failed, status.counts.error], [2, 1, 1]);
  const runDir = runDirOf(dir);
  const log = fs.readFileSync(
    path.join(
      runDir,
      'units',
      fs.readdirSync(path.join(runDir, 'units')).find((f) => f.startsWith('item-00000'))!,
      'output.log',
    ),
    'utf8',
  );
  assert.match(log, /===== resumable: item-00000 attempt 1 at .*\n\$ sh unit\.sh\nattempt 1 of item-00000\nboom\n/);
  assert.match(log, /attempt 2 of item-00000/);

  fs.writeFileSync(path.join(dir, 'ok'), '');
  const plain = cliSync(['run', file], dir);
  assert.match(plain.stderr, /4 of 4 units already done; 0 to run/, 'by default every outcome counts as done');
  const dry = cliSync(['run', file, '--retry-errors', '--dry-run'], dir);
  assert.match(dry.stdout, /would run 1, skip 3/);
  assert.match(dry.stdout, /1\s+run: error, --retry-errors/);
  assert.equal(cliSync(['run', file, '--retry-errors'], dir).code, 0);
  status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.deepEqual([status.counts.passed, status.counts.failed, status.counts.error], [3, 1, 0]);
  assert.equal(cliSync(['run', file, '--retry-failed'], dir).code, 0);
  status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.deepEqual([status.counts.passed, status.counts.failed, status.counts.error], [4, 0, 0]);
});

test('--json prints one JSON event per line; status and list show groups and runs', () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'items.jsonl': '{"id":"a"}\n{"id":"b"}\n',
    'grid.experiment.json': JSON.stringify({
      name: 'grid',
      items: { file: 'items.jsonl' },
      matrix: { model: ['m1', 'm2'], repeat: 2 },
      run: {
        command: [
          'sh',
          '-c',
          'echo "{\\"passed\\": $([ $RESUMABLE_MATRIX_MODEL = m1 ] && echo true || echo false)}" > "$RESUMABLE_UNIT_DIR/result.json"',
        ],
      },
    }),
  });
  const r = cliSync(['run', 'grid.experiment.json', '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(events[0].type === 'note' || events[0].type === 'start', true);
  assert.equal(events.filter((e) => e.type === 'unit').length, 8);
  const end = events.at(-1);
  assert.equal(end.type, 'end');
  assert.deepEqual([end.summary.status, end.summary.counts.passed, end.summary.counts.failed], ['completed', 4, 4]);

  const human = cliSync(['status', 'grid.experiment.json'], dir);
  assert.match(human.stdout, /status\s+completed/);
  assert.match(human.stdout, /m1\s+4\/4 · passed 4 · failed 0/);
  assert.match(human.stdout, /m2\s+4\/4 · passed 0 · failed 4/);
  const list = cliSync(['list'], dir);
  assert.match(list.stdout, /grid\.experiment\.json/);
  assert.match(list.stdout, /\.resumable\/grid-[0-9a-f]{8}\s+completed\s+8\/8/);
});

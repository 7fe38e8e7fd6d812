import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';
import { cliStart, journalRecords, runDirOf, type CliResult } from '../helpers/cli';
import { steppableClockEnv } from '../helpers/faketime';
import { journalSoFar, waitUntil } from '../helpers/wait';

// The break: a 2 s step back of the wall clock during a 4 s pause left the runner
// heartbeating with nothing dispatched, forever (the timer fired, Date.now() was still
// before the pause's end, and nothing re-armed it).
test('a rate-limit pause ends when the wall clock steps back during it (a real process, libfaketime)', { timeout: 120_000 }, async () => {
  const dir = tmpDir();
  writeFiles(dir, {
    'items.jsonl': ['a', 'b', 'c', 'd'].map((id) => JSON.stringify({ id })).join('\n') + '\n',
    // Unit a is rate limited once ("retry after 4" seconds), then passes.
    'unit.sh': [
      'if [ "$RESUMABLE_ITEM_ID" = a ] && [ ! -e limited ]; then touch limited; echo "HTTP 429: rate limited, retry after 4"; exit 1; fi',
      'printf \'{"passed": true}\' > "$RESUMABLE_RESULT_FILE"',
    ].join('\n'),
    'e.experiment.json': JSON.stringify({
      name: 'step',
      items: { file: 'items.jsonl' },
      run: { command: ['sh', 'unit.sh'] },
      concurrency: 1,
      rateLimit: { patterns: ['retry after (?<reset>\\d+)'], bufferSeconds: 0, maxWaitSeconds: 60 },
    }),
  });
  const stepFile = path.join(dir, 'faketime');
  const runner = cliStart(['run', path.join(dir, 'e.experiment.json')], dir, steppableClockEnv(stepFile));
  let result: CliResult | undefined;
  void runner.done.then((r) => (result = r));
  const runDir = await waitUntil(
    'the run folder',
    () => fs.existsSync(path.join(dir, '.resumable')) && runDirOf(dir),
    60_000,
    () => result && `exited ${result.code}: ${result.stderr}`,
  );
  await waitUntil(
    'the rate-limit pause in the journal',
    () => journalSoFar(path.join(runDir, 'journal.jsonl')).some((r) => r.t === 'pause'),
    60_000,
    () => result && `exited ${result.code}: ${result.stderr}`,
  );
  fs.writeFileSync(stepFile, '-2\n'); // the wall clock steps 2 s back, as an NTP correction does
  try {
    await waitUntil('the run to end after the pause', () => result, 60_000);
  } finally {
    if (!result) runner.child.kill('SIGKILL');
  }
  assert.equal(result!.code, 0, result!.stderr);
  const recs = journalRecords(runDir);
  assert.equal(recs.filter((r) => r.t === 'unpause').length, 1);
  assert.deepEqual(
    recs
      .filter((r) => r.t === 'end' && r.s === 'passed')
      .map((r) => r.u)
      .sort(),
    ['a', 'b', 'c', 'd'],
  );
});

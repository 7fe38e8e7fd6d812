import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { systemClock, type Clock } from '../../src/core/clock';
import { repairRun } from '../../src/core/repair/repair';
import { tmpDir } from '../helpers/tmp';
import { cliSync, journalRecords, makeExperiment, runDirOf } from '../helpers/cli';

// The break: repair read and planned before it took the lock, so a run that finished in
// between lost the lines it wrote meanwhile (30 journaled outcomes became 6).
test(
  'repair takes the lock before it reads: lines a runner wrote just before are kept, not replaced by a stale plan',
  { timeout: 60_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 10, concurrency: 2, sleep: '0' });
    assert.equal(cliSync(['run', file], dir).code, 0);
    const runDir = runDirOf(dir);
    const journal = path.join(runDir, 'journal.jsonl');
    const full = fs.readFileSync(journal, 'utf8');
    const lines = full.split('\n').filter(Boolean);
    // The journal as it was mid-run: the last 5 units' lines (and runner_end) not written yet.
    const cut = lines.findIndex((l) => (JSON.parse(l) as { t: string }).t === 'end') + 8;
    fs.writeFileSync(journal, lines.slice(0, cut).join('\n') + '\n');
    const rest = lines.slice(cut).join('\n') + '\n';
    // The runner writes the rest (and ends) at the first moment repair looks at the time:
    // with the lock taken first, that is before repair has read anything.
    let wrote = false;
    const clock: Clock = {
      ...systemClock,
      now: () => {
        if (!wrote) {
          wrote = true;
          fs.appendFileSync(journal, rest);
        }
        return Date.now();
      },
    };
    await repairRun(runDir, { clock });
    const after = journalRecords(runDir);
    const ends = new Set(after.filter((r) => r.t === 'end').map((r) => r.u));
    assert.equal(ends.size, 10, `every unit's end line is kept (${[...ends].length} of 10)`);
    assert.equal(after.filter((r) => r.t === 'runner_end').length, 1);
    assert.equal(after.filter((r) => r.t === 'adopt').length, 0, 'nothing adopted over lines the runner wrote');
  },
);

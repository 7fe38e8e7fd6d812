import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { CLI, journalRecords, makeExperiment } from '../helpers/cli';
import { ptyStart } from '../helpers/pty';
import { stormOnce } from '../helpers/storm';
import { firstStart, unitProcesses } from '../helpers/waitFor';
import { FULL, report } from './torture';

// Signals at the edges of a run, many times over: SIGTERM storms while units run and while
// the runner winds down, and terminals closing under it with SIGHUPs repeated.

test(
  'signal storms: every storm ends with the exit code the journal and summary give, never 143',
  { timeout: FULL ? 3_600_000 : 120_000 },
  async () => {
    const each = Number(process.env.TORTURE_STORMS ?? (FULL ? 100 : 1));
    const exits: Record<string, number> = {};
    const sent: number[] = [];
    let late = 0;
    for (const from of ['first start', 'runner_end'] as const) {
      for (let i = 0; i < each; i++) {
        const r = await stormOnce(from);
        exits[`${from}: ${r.code}`] = (exits[`${from}: ${r.code}`] ?? 0) + 1;
        sent.push(r.sent);
        if (from === 'first start') assert.equal(r.code, 130, `storm ${i} from the first start: ${r.stderr}`);
        else if (r.sent > 0) late++;
      }
    }
    sent.sort((a, b) => a - b);
    report('signals-storms', {
      storms: sent.length,
      exits,
      sigtermsDelivered: sent.reduce((a, b) => a + b, 0),
      perStorm: { min: sent[0], median: sent[Math.floor(sent.length / 2)], max: sent.at(-1) },
      stormsThatHitTheWindDown: late,
    });
  },
);

test(
  'terminal hangups: closing the terminal, then SIGHUP after SIGHUP, is one Ctrl+C every time',
  { timeout: FULL ? 3_600_000 : 120_000 },
  async () => {
    const rounds = Number(process.env.TORTURE_HANGUPS ?? (FULL ? 30 : 1));
    const extra = FULL ? 50 : 10;
    let finishedInFlight = 0;
    for (let i = 0; i < rounds; i++) {
      const dir = tmpDir();
      const file = makeExperiment(dir, { n: 8, concurrency: 4, sleep: '0.5', extra: { graceSeconds: 60 } });
      const p = ptyStart([process.execPath, CLI, 'run', file], dir);
      const runDir = await firstStart(dir);
      p.hangup();
      for (let k = 0; k < extra; k++) p.signal('SIGHUP');
      const r = await p.done;
      const context = `round ${i}: exit ${r.code}, signal ${r.signal}\n${r.output}`;
      assert.equal(r.code, 130, context);
      const recs = journalRecords(runDir);
      assert.deepEqual([recs.at(-1)!.t, recs.at(-1)!.status], ['runner_end', 'interrupted'], context);
      const ends = recs.filter((x) => x.t === 'end');
      assert.deepEqual(
        ends.filter((x) => x.s !== 'passed'),
        [],
        `${context}\nrepeated SIGHUPs must not kill units in flight`,
      );
      assert.equal(ends.length, recs.filter((x) => x.t === 'start').length, context);
      finishedInFlight += ends.length;
      assert.equal(fs.existsSync(path.join(runDir, 'lock')), false, context);
      assert.deepEqual(unitProcesses(runDir), [], context);
    }
    report('signals-hangups', {
      hangups: rounds,
      sighupsAfterEach: extra + 1,
      exit130: rounds,
      unitsInFlightThatFinished: finishedInFlight,
    });
  },
);

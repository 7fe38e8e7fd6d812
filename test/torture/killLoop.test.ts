import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { unitFolderName } from '../../src/core/ids';
import { runDirOf } from '../helpers/cli';
import { FULL, libExperiment, readRecords, report, rng, startLibRunner } from './torture';

const TEMP = /^(?:state(?:\.\d+of\d+)?\.json|experiment\.json)\.\d+$|\.fence$|\.repair-\d+$|\.merge-\d+$/;

/** Per unit folder: how many times the unit started, and whether its result file is there. */
function unitEvidence(runDir: string): Map<string, { starts: number; done: number; result: boolean }> {
  const out = new Map<string, { starts: number; done: number; result: boolean }>();
  const units = path.join(runDir, 'units');
  if (!fs.existsSync(units)) return out;
  for (const f of fs.readdirSync(units)) {
    let log = '';
    try {
      log = fs.readFileSync(path.join(units, f, 'runs.log'), 'utf8');
    } catch {
      // folder made, nothing logged yet
    }
    const lines = log.split('\n');
    out.set(f, {
      starts: lines.filter((l) => l === 'start').length,
      done: lines.filter((l) => l === 'done').length,
      result: fs.existsSync(path.join(units, f, 'result.json')),
    });
  }
  return out;
}

/** A failing run's folder outlives the test's temp cleanup, so the failure can be read afterwards. */
function keep(dir: string, kills: number): string {
  const to = `${dir}-failed-after-${kills}-kills`;
  fs.cpSync(dir, to, { recursive: true });
  return to;
}

test(
  'kill loop: SIGKILL the runner at random instants, resume each time — nothing finished is lost or run again',
  { timeout: FULL ? 3_600_000 : 240_000 },
  async () => {
    const kills = Number(process.env.TORTURE_KILLS ?? (FULL ? 1000 : 40));
    const n = FULL ? 3000 : 600;
    const seed = Number(process.env.TORTURE_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const ctx = `seed ${seed}`;
    // How long one uninterrupted run takes here: kill instants are uniform over it. The median
    // of three, since the first run on a cold cache is much slower (a span twice too long
    // spends half the attempts killing processes that have already finished).
    const spans: number[] = [];
    for (let i = 0; i < 3; i++) {
      const calRun = await startLibRunner(libExperiment(tmpDir(), n), 16).done;
      assert.equal(calRun.code, 0, calRun.stderr);
      spans.push(calRun.ms);
    }
    const span = spans.sort((a, b) => a - b)[1]!;
    const f = {
      kills: 0,
      runsCompleted: 0,
      units: 0,
      resultsLost: 0,
      stateFilesUnparsable: 0,
      rerunAfterJournaled: 0,
      rerunWithResultOnDisk: 0,
      orphanTempsAfterResume: 0,
      tornTailsSeen: 0,
      adoptedFromDisk: 0,
      runMs: Math.round(span),
      seed,
    };
    let dir: string | undefined;
    let file = '';
    let journaled = new Set<string>();
    let onDisk = new Set<string>();
    let before = new Map<string, { starts: number }>();
    let adoptsSeen = 0;
    let attempts = 0;
    while (f.kills < kills) {
      if (!dir) {
        dir = tmpDir();
        file = libExperiment(dir, n);
        journaled = new Set();
        onDisk = new Set();
        before = new Map();
        adoptsSeen = 0;
      }
      const r = startLibRunner(file, 16);
      // Every tenth resume is left to finish: completed runs (and what they prove) come by
      // design, not by the luck of a kill landing late on a loaded machine (seen: 0 of 40).
      if (++attempts % 10 !== 0) r.killAfter(random() * span);
      const exit = await r.done;
      // Killed before the frozen config was in place: nothing to check yet.
      const root = path.join(dir, '.resumable');
      const runDir =
        fs.existsSync(root) && fs.readdirSync(root).some((d) => fs.existsSync(path.join(root, d, 'experiment.json')))
          ? runDirOf(dir)
          : undefined;
      if (!runDir) {
        if (exit.signal === 'SIGKILL') f.kills++;
        continue;
      }
      const ev = unitEvidence(runDir);
      // What the previous kill left as finished must not have started again.
      for (const [folder, e] of ev) {
        const was = before.get(folder)?.starts ?? 0;
        if (e.starts > was && journaled.has(folder)) f.rerunAfterJournaled++;
        else if (e.starts > was && onDisk.has(folder)) f.rerunWithResultOnDisk++;
      }
      const { records, torn, bad } = readRecords(path.join(runDir, 'journal.jsonl'));
      const adopts = records.filter((x) => x.t === 'adopt').length;
      f.adoptedFromDisk += adopts - adoptsSeen;
      adoptsSeen = adopts;
      if (exit.signal === 'SIGKILL') {
        f.kills++;
        if (torn) f.tornTailsSeen++;
        if (bad.length) f.stateFilesUnparsable++;
        const state = path.join(runDir, 'state.json');
        if (fs.existsSync(state)) {
          try {
            JSON.parse(fs.readFileSync(state, 'utf8'));
          } catch {
            f.stateFilesUnparsable++;
          }
        }
        journaled = new Set(
          records.filter((x) => (x.t === 'end' && x.s === 'passed') || x.t === 'adopt').map((x) => unitFolderName(x.u as string)),
        );
        onDisk = new Set([...ev].filter(([, e]) => e.result).map(([k]) => k));
        before = new Map([...ev].map(([k, e]) => [k, { starts: e.starts }]));
        continue;
      }
      if (exit.code !== 0)
        assert.fail(`${ctx}: the runner exited by itself with ${exit.code}: ${exit.stderr} (run kept in ${keep(dir, f.kills)})`);
      // A completed run: every unit passed, its result on disk, finished exactly once.
      f.runsCompleted++;
      f.units += n;
      const passed = new Set(records.filter((x) => (x.t === 'end' && x.s === 'passed') || x.t === 'adopt').map((x) => x.u));
      f.resultsLost += n - passed.size;
      // (A unit killed between its result's rename and its "done" line is adopted, so done may be 0.)
      for (const [folder, e] of ev)
        if (e.done > 1) assert.fail(`${ctx}: ${folder} finished ${e.done} times (run kept in ${keep(dir, f.kills)})`);
      f.orphanTempsAfterResume += fs.readdirSync(runDir).filter((x) => TEMP.test(x)).length;
      // Checked: remove it now, not after the test. A full run completes over a thousand runs of
      // 3,000 unit folders each, which would otherwise hold millions of inodes until the end.
      if (!process.env.KEEP_TMP) fs.rmSync(dir, { recursive: true, force: true });
      dir = undefined;
    }
    report('killLoop', f);
    const problems = {
      resultsLost: f.resultsLost,
      stateFilesUnparsable: f.stateFilesUnparsable,
      rerunAfterJournaled: f.rerunAfterJournaled,
      rerunWithResultOnDisk: f.rerunWithResultOnDisk,
      orphanTempsAfterResume: f.orphanTempsAfterResume,
    };
    assert.deepEqual(
      problems,
      { resultsLost: 0, stateFilesUnparsable: 0, rerunAfterJournaled: 0, rerunWithResultOnDisk: 0, orphanTempsAfterResume: 0 },
      `${ctx}: ${JSON.stringify(f)}`,
    );
    assert.ok(f.runsCompleted >= 1, `${ctx}: runs must also complete between kills: ${JSON.stringify(f)}`);
  },
);

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { runDirOf } from '../helpers/cli';
import { readJournal } from '../../src/core/store/journalReader';
import { readSnapshot } from '../../src/core/model/snapshot';
import { FULL, libExperiment, readRecords, report, rng, startLibRunner } from './torture';

/** A finished run of `n` units made by the real engine; its journal and state bytes. */
async function realRun(n: number): Promise<{ dir: string; runDir: string; journal: Buffer; state: Buffer }> {
  const dir = tmpDir();
  const done = await startLibRunner(libExperiment(dir, n), 4).done;
  assert.equal(done.code, 0, done.stderr);
  const runDir = runDirOf(dir);
  return {
    dir,
    runDir,
    journal: fs.readFileSync(path.join(runDir, 'journal.jsonl')),
    state: fs.readFileSync(path.join(runDir, 'state.json')),
  };
}

/** A copy of the run's folder whose journal (or state) is replaced by `bytes`; returns the experiment file. */
function damagedCopy(src: string, which: 'journal.jsonl' | 'state.json', bytes: Buffer): { file: string; runDir: string } {
  const dir = tmpDir();
  fs.cpSync(src, dir, { recursive: true });
  const runDir = runDirOf(dir);
  fs.writeFileSync(path.join(runDir, which), bytes);
  return { file: path.join(dir, 'e.experiment.json'), runDir };
}

test(
  'loader fuzz: the journal cut at every byte offset reads as its whole lines plus a torn tail, and a resume keeps every line before the cut',
  { timeout: FULL ? 1_800_000 : 180_000 },
  async () => {
    const n = 20;
    const { dir, journal } = await realRun(n);
    const f = { journalBytes: journal.length, offsetsRead: 0, offsetsResumed: 0, tornTailsDropped: 0, historyLost: 0, resumesFailed: 0 };
    const probe = path.join(tmpDir(), 'j.jsonl');
    const resumeEvery = FULL ? 7 : Math.ceil(journal.length / 12);
    for (let o = 0; o <= journal.length; o++) {
      const cut = journal.subarray(0, o);
      fs.writeFileSync(probe, cut);
      let records = 0;
      const read = await readJournal(probe, () => void records++);
      const whole = cut.lastIndexOf(0x0a) + 1;
      assert.deepEqual(read.corrupt, [], `offset ${o}: a cut journal has no damaged line, only a torn tail`);
      assert.equal(read.goodLength, whole, `offset ${o}`);
      assert.equal(records, cut.subarray(0, whole).toString().split('\n').length - 1, `offset ${o}`);
      assert.equal(!!read.tornTail, whole < o, `offset ${o}`);
      f.offsetsRead++;
      if (o % resumeEvery !== 0 && o !== journal.length) continue;
      const copy = damagedCopy(dir, 'journal.jsonl', cut);
      const r = await startLibRunner(copy.file, 4).done;
      f.offsetsResumed++;
      if (r.code !== 0) {
        f.resumesFailed++;
        continue;
      }
      const after = fs.readFileSync(path.join(copy.runDir, 'journal.jsonl'));
      // History is kept: the whole lines before the cut are still the journal's first bytes.
      if (!after.subarray(0, whole).equals(cut.subarray(0, whole))) f.historyLost++;
      if (whole < o) {
        const kept = fs.readdirSync(copy.runDir).filter((x) => x.startsWith('journal.jsonl.torn-'));
        if (kept.length === 1 && fs.readFileSync(path.join(copy.runDir, kept[0]!)).equals(cut.subarray(whole))) f.tornTailsDropped++;
      }
      const { records: recs } = readRecords(path.join(copy.runDir, 'journal.jsonl'));
      const passed = new Set(recs.filter((x) => (x.t === 'end' && x.s === 'passed') || x.t === 'adopt').map((x) => x.u));
      assert.equal(passed.size, n, `offset ${o}: every unit counted after the resume`);
    }
    report('loaderFuzzTruncate', f);
    assert.equal(f.resumesFailed, 0, JSON.stringify(f));
    assert.equal(f.historyLost, 0, JSON.stringify(f));
    assert.ok(f.tornTailsDropped > 0);
  },
);

test(
  'loader fuzz: NUL runs and garbage at the end are a torn tail; damage in the middle stops the run with its line number and changes nothing',
  { timeout: FULL ? 1_800_000 : 180_000 },
  async () => {
    const { dir, journal } = await realRun(20);
    const seed = Number(process.env.TORTURE_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const f = {
      seed,
      tailCases: 0,
      middleCases: 0,
      bitFlips: 0,
      flipsRefusedWithLine: 0,
      flipsRefusedOther: 0,
      flipsStillParsing: 0,
      refusedButChanged: 0,
      crashes: 0,
    };
    for (const tail of [
      Buffer.alloc(4096),
      Buffer.from('\u0000\u0000garbage{{{'),
      Buffer.from('{"t":"end","u":"t-0'),
      Buffer.from([0xff, 0xfe, 0x00, 0x41]),
    ]) {
      const copy = damagedCopy(dir, 'journal.jsonl', Buffer.concat([journal, tail]));
      const r = await startLibRunner(copy.file, 4, { TORTURE_NOTES: '1' }).done;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Dropped a torn last journal line/);
      assert.ok(fs.readFileSync(path.join(copy.runDir, 'journal.jsonl')).subarray(0, journal.length).equals(journal));
      f.tailCases++;
    }
    const lines = journal.toString().split('\n');
    // (lines ends with '' after the last newline: lines.length - 3 is the third line from the end.)
    const middle = [2, Math.floor(lines.length / 2), lines.length - 3];
    for (const k of middle) {
      const damaged = [...lines];
      damaged[k - 1] = random() < 0.5 ? 'garbage that is not JSON' : '\u0000'.repeat(10);
      const bytes = Buffer.from(damaged.join('\n'));
      const copy = damagedCopy(dir, 'journal.jsonl', bytes);
      const r = await startLibRunner(copy.file, 4).done;
      assert.equal(r.code, 1, `line ${k}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`journal\\.jsonl:${k}\\b|line ${k}\\b`), r.stderr);
      assert.ok(
        fs.readFileSync(path.join(copy.runDir, 'journal.jsonl')).equals(bytes),
        'a damaged journal is never rewritten by a refused run',
      );
      f.middleCases++;
    }
    const flips = FULL ? 400 : 30;
    for (let i = 0; i < flips; i++) {
      const bytes = Buffer.from(journal);
      const at = Math.floor(random() * (bytes.length - 1));
      bytes[at] = bytes[at]! ^ (1 << Math.floor(random() * 8));
      const copy = damagedCopy(dir, 'journal.jsonl', bytes);
      const r = await startLibRunner(copy.file, 4).done;
      f.bitFlips++;
      if (r.code === 3 || /internal error|\n\s+at /.test(r.stderr)) f.crashes++;
      const after = fs.readFileSync(path.join(copy.runDir, 'journal.jsonl'));
      if (r.code === 1 && !/\n\s+at /.test(r.stderr)) {
        // Refused with a clear message: a damaged line names its number; a damaged header its field.
        if (/line \d+|jsonl:\d+|jsonl \$\.\w+/.test(r.stderr)) f.flipsRefusedWithLine++;
        else f.flipsRefusedOther++;
        if (!after.equals(bytes)) f.refusedButChanged++;
      } else if (r.code === 0) {
        f.flipsStillParsing++;
        // Everything before the flipped line is kept (a flip in the last line makes it a torn tail).
        const lineStart = bytes.lastIndexOf(0x0a, at - 1) + 1;
        assert.ok(after.subarray(0, lineStart).equals(bytes.subarray(0, lineStart)), `flip at ${at}: history kept`);
      } else assert.fail(`seed ${seed}, flip at ${at}: exit ${r.code}: ${r.stderr}`);
    }
    report('loaderFuzzDamage', f);
    assert.equal(f.crashes, 0, JSON.stringify(f));
    assert.equal(f.refusedButChanged, 0, JSON.stringify(f));
  },
);

test(
  'loader fuzz: state.json cut at every byte offset is reported, never trusted, and the next snapshot replaces it',
  { timeout: FULL ? 1_800_000 : 120_000 },
  async () => {
    const { dir, state } = await realRun(20);
    const f = { stateBytes: state.length, offsets: 0, resumed: 0 };
    const probe = path.join(tmpDir(), 'state.json');
    const every = FULL ? 5 : Math.ceil(state.length / 6);
    for (let o = 0; o < state.length; o++) {
      fs.writeFileSync(probe, state.subarray(0, o));
      const { snapshot, problem } = readSnapshot(probe);
      assert.ok(
        snapshot === undefined ? problem !== undefined : o === state.length - 1,
        `offset ${o}: a cut state.json is reported, not used`,
      );
      f.offsets++;
      if (o % every !== 0) continue;
      const copy = damagedCopy(dir, 'state.json', state.subarray(0, o));
      const r = await startLibRunner(copy.file, 4).done;
      assert.equal(r.code, 0, `offset ${o}: ${r.stderr}`);
      assert.doesNotThrow(() => JSON.parse(fs.readFileSync(path.join(copy.runDir, 'state.json'), 'utf8')));
      f.resumed++;
    }
    report('loaderFuzzState', f);
  },
);

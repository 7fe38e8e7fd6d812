import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliSync, journalRecords, makeExperiment, runDirOf } from '../helpers/cli';

// Messages that agree with each other and with the numbers beside them: what the CLI says
// is read as advice, so no line may contradict another (issue 12, item 8). Real runs.

/** Every file under `dir` with its size and mtime: a dry run must change none of them. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = fs.statSync(p);
        out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

function edit(file: string, change: (v: Record<string, unknown>) => void): void {
  const v = JSON.parse(fs.readFileSync(file, 'utf8'));
  change(v);
  fs.writeFileSync(file, JSON.stringify(v, null, 2));
}

const NO_STACK = /\n\s+at |Error:|internal error/;

test('run --fresh --dry-run after a drift says what --fresh would archive, not to use --fresh; writes nothing', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 5, sleep: '0', extra: { seed: 1 } });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const old = path.basename(runDirOf(dir));
  edit(file, (v) => (v.seed = 2));
  const before = tree(path.join(dir, '.resumable'));

  const r = cliSync(['run', file, '--fresh', '--dry-run'], dir);
  assert.equal(r.code, 0, r.stderr);
  // The plan, notes included, is on stdout (`| less`).
  assert.doesNotMatch(r.stdout + r.stderr, /--fresh +\(|Ways forward|refusing/, 'no advice to use the flag that was given');
  assert.match(r.stdout, new RegExp(`--fresh would archive the previous run ${old} \\(made from another config\\)`));
  assert.match(r.stdout, /\$\.seed: 1 → 2/, 'with what changed');
  assert.match(r.stdout, /would run 5, skip 0, adopt 0/);
  assert.doesNotMatch(r.stdout + r.stderr, NO_STACK);
  assert.deepEqual(tree(path.join(dir, '.resumable')), before, 'a dry run writes nothing');

  // The JSON face says the same in its note events.
  const json = cliSync(['run', file, '--fresh', '--dry-run', '--json'], dir);
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.ok(events.some((e) => e.type === 'note' && /--fresh would archive the previous run/.test(e.message)));
  assert.deepEqual(events.at(-1).summary.plan.run.length, 5);
});

test('run --fresh --dry-run on an unchanged config says what it would archive and that every unit runs again', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 4, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const before = tree(path.join(dir, '.resumable'));
  const r = cliSync(['run', file, '--fresh', '--dry-run'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /--fresh would archive the previous state \(experiment\.json, items\.fingerprint\.json, items\.index\.bin, journal\.jsonl, snapshot\.bin, state\.json, units; 4 of 4 units/,
  );
  assert.match(r.stdout, /would run 4, skip 0, adopt 0/, 'not "skip 4": --fresh starts over');
  assert.deepEqual(tree(path.join(dir, '.resumable')), before);
  // Without --fresh the dry run still says what a resume does.
  assert.match(cliSync(['run', file, '--dry-run'], dir).stdout, /would run 0, skip 4/);
  // And the real --fresh does what its dry run said.
  const fresh = cliSync(['run', file, '--fresh'], dir);
  assert.equal(fresh.code, 0, fresh.stderr);
  assert.match(fresh.stderr, /4 to run/);
});

test('run --fresh --dry-run of an experiment never run says there is nothing to archive', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 3, sleep: '0' });
  const r = cliSync(['run', file, '--fresh', '--dry-run'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /nothing to archive/);
  assert.match(r.stdout, /would run 3/);
  assert.equal(fs.existsSync(path.join(dir, '.resumable')), false, 'no run folder made');
});

/** A finished run of `n` units whose journal is cut to its first `keep` unit ends, then an interrupted runner_end. */
function interruptedWithResultsOnDisk(n: number, keep: number): { dir: string; file: string; runDir: string } {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  const recs = journalRecords(runDir);
  const ends = recs.filter((r) => r.t === 'end');
  const kept = new Set(ends.slice(0, keep).map((r) => r.u));
  const cut = recs.filter((r) => (r.t !== 'start' && r.t !== 'end') || kept.has(r.u)).filter((r) => r.t !== 'runner_end');
  cut.push({ t: 'runner_end', ts: Date.now(), status: 'interrupted' });
  fs.writeFileSync(path.join(runDir, 'journal.jsonl'), cut.map((r) => JSON.stringify(r) + '\n').join(''));
  return { dir, file, runDir };
}

test('status after a repair that adopted the rest of an interrupted run says completed, not "run again"', () => {
  const { dir, runDir } = interruptedWithResultsOnDisk(7, 3);
  const before = cliSync(['status', runDir], dir);
  assert.match(before.stdout, /status\s+interrupted \(run the experiment again to resume\)/);
  assert.match(before.stdout, /progress\s+3\/7/);

  const repair = cliSync(['repair', runDir], dir);
  assert.equal(repair.code, 0, repair.stderr);
  assert.match(repair.stdout, /\+4 adopted/);
  const after = cliSync(['status', runDir], dir);
  assert.equal(after.code, 0, after.stderr);
  assert.match(after.stdout, /status\s+completed\n/);
  assert.match(after.stdout, /progress\s+7\/7/);
  assert.doesNotMatch(after.stdout, /interrupted|run the experiment again/);
  assert.equal(JSON.parse(cliSync(['status', runDir, '--json'], dir).stdout).status, 'completed');
  assert.match(cliSync(['list'], dir).stdout, /completed\s+7\/7/, 'list agrees');
});

test('status of a journal whose last runner_end says interrupted while every unit has an outcome: completed', () => {
  const { dir, runDir } = interruptedWithResultsOnDisk(5, 5);
  assert.equal(journalRecords(runDir).at(-1)!.status, 'interrupted');
  const r = cliSync(['status', runDir, '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual([s.status, s.done, s.total], ['completed', 5, 5]);
});

test('status never says completed beside 0/7: a state.json saying completed with an empty or missing journal', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 7, sleep: '0' });
  assert.equal(cliSync(['run', file], dir).code, 0);
  const runDir = runDirOf(dir);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8')).status, 'completed');
  const journal = path.join(runDir, 'journal.jsonl');
  for (const damage of ['empty', 'missing'] as const) {
    if (damage === 'empty') fs.writeFileSync(journal, '');
    else fs.rmSync(journal);
    const r = cliSync(['status', runDir], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /progress\s+0\/7/, damage);
    assert.doesNotMatch(r.stdout, /status\s+completed/, `${damage} journal: ${r.stdout}`);
    assert.match(r.stdout, /status\s+interrupted/);
    assert.match(r.stdout, /note\s+state\.json says completed, but the journal shows 0 of 7 units/);
    assert.equal(JSON.parse(cliSync(['status', runDir, '--json'], dir).stdout).status, 'interrupted');
    assert.doesNotMatch(cliSync(['list'], dir).stdout, /completed/, `list agrees (${damage})`);
  }
  // The way forward the note gives works: repair adopts the results in the unit folders.
  assert.equal(cliSync(['repair', runDir], dir).code, 0);
  assert.match(cliSync(['status', runDir], dir).stdout, /status\s+completed\n\s+progress\s+7\/7/);
});

test('status --by groups by an item field or a matrix key; an unknown key is a clear error (exit 1, no stack)', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 4, sleep: '0', extra: { matrix: { model: ['a', 'b'] } } });
  fs.writeFileSync(
    path.join(dir, 'items.jsonl'),
    ['{"id":"q1","tier":"T0","meta":{"lang":"en"}}', '{"id":"q2","tier":"T1"}', '{"id":"q3","tier":"T0"}', '{"id":"q4"}'].join('\n') + '\n',
  );
  assert.equal(cliSync(['run', file], dir).code, 0);
  const byTier = cliSync(['status', file, '--by', 'tier'], dir);
  assert.equal(byTier.code, 0, byTier.stderr);
  assert.match(byTier.stdout, /by tier\s+3 groups\n\s+T0\s+4\/4 · passed 4[^\n]*\n\s+T1\s+2\/2[^\n]*\n\s+\(none\)\s+2\/2/);
  const json = JSON.parse(cliSync(['status', file, '--by', 'meta.lang', '--json'], dir).stdout);
  assert.equal(json.groupBy, 'meta.lang');
  assert.deepEqual(
    json.groups.map((g: { group: string; total: number }) => [g.group, g.total]),
    [
      ['en', 2],
      ['(none)', 6],
    ],
  );
  assert.deepEqual(
    JSON.parse(cliSync(['status', file, '--by', 'model', '--json'], dir).stdout).groups.map((g: { group: string }) => g.group),
    ['a', 'b'],
  );
  const bad = cliSync(['status', file, '--by', 'tire'], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /No unit has "tire"/);
  assert.match(bad.stderr, /item fields: id, tier, meta\.lang/);
  assert.match(bad.stderr, /matrix keys: model/);
  assert.doesNotMatch(bad.stderr, NO_STACK);
  assert.equal(cliSync(['status', file, '--by'], dir).code, 1, '--by needs a key');
  assert.equal(cliSync(['list', '--by', 'tier'], dir).code, 1, '--by is for status only');
  assert.match(cliSync(['--help'], dir).stdout, /status \[<file\.experiment\.json \| run folder>\] \[--by <key>\]/);
});

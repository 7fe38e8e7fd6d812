import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, cliSync, journalRecords, runDirOf } from '../helpers/cli';
import { tmpDir, writeFiles } from '../helpers/tmp';

// The newcomer's first hour: a smoke test (`--limit`), one slice (`--only`, `--unit`), a dry
// run read through a pipe, and `repair` / `merge` given the experiment file as `status` is.
// The real CLI (dist/cli.js; `npm run build` first), real processes, the journal as witness.

const NO_STACK = /\n\s+at /;
const ITEMS = [
  { id: 'q1', tier: 'easy', meta: { lang: 'en' } },
  { id: 'q2', tier: 'hard', meta: { lang: 'fr' } },
  { id: 'q3', tier: 'hard', meta: { lang: 'en' } },
];
/** 3 items × model {small, large} × 2 repeats = 12 units, in config order. */
const ORDER = ITEMS.flatMap((it) => ['small', 'large'].flatMap((m) => [1, 2].map((r) => `${it.id}/${m}/r${r}`)));

function experiment(dir: string, extra: Record<string, unknown> = {}): string {
  writeFiles(dir, {
    'items.jsonl': ITEMS.map((i) => JSON.stringify(i)).join('\n') + '\n',
    'unit.sh': 'printf \'{"passed": true}\\n\' > "$RESUMABLE_UNIT_DIR/result.json"\n',
    'e.experiment.json': JSON.stringify({
      name: 'subset',
      items: { file: 'items.jsonl' },
      matrix: { model: ['small', 'large'], repeat: 2 },
      run: {
        command: ['sh', 'unit.sh', '--id', '${item.id}', '--model', '${model}'],
        env: { MODEL: '${model}', LANG_OF: '${item.meta.lang}' },
      },
      concurrency: 2,
      ...extra,
    }),
  });
  return path.join(dir, 'e.experiment.json');
}

/** Unit ids the journal says were started, in order. */
const started = (dir: string) => journalRecords(runDirOf(dir)).flatMap((r) => (r.t === 'start' ? [r.u as string] : []));
const status = (dir: string, file: string) => JSON.parse(cliSync(['status', file, '--json'], dir).stdout);

test('--limit N runs the first N units in plan order; the rest stay not started and a plain run does them', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const r = cliSync(['run', file, '--limit', '3'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(started(dir), ORDER.slice(0, 3));
  assert.match(
    r.stderr,
    /Ran a subset \(--limit 3\): 9 unit\(s\) that would run were left out, their state untouched\. Run again without --limit to run the rest\./,
  );
  // Status is honest: 3 done, 9 pending, and not "completed".
  const s = status(dir, file);
  assert.equal(s.done, 3);
  assert.equal(s.counts.pending, 9);
  assert.equal(s.status, 'interrupted');
  // The next --limit 3 takes the next three (the first are done, not "would run").
  assert.equal(cliSync(['run', file, '--limit', '3'], dir).code, 0);
  assert.deepEqual(started(dir), ORDER.slice(0, 6));
  const all = cliSync(['run', file], dir);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual(started(dir), ORDER, 'each unit started exactly once');
  assert.equal(status(dir, file).status, 'completed');
});

test('--only picks by matrix key and item field (ORed within a key, ANDed across); --unit picks ids', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const r = cliSync(['run', file, '--only', 'tier=hard', '--only', 'model=large', '--only', 'repeat=1'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(started(dir), ['q2/large/r1', 'q3/large/r1']);
  const s = status(dir, file);
  assert.equal(s.done, 2);
  assert.equal(s.counts.pending, 10, 'the units left out were not touched');

  const or = cliSync(['run', file, '--only', 'meta.lang=en', '--only', 'model=small', '--only', 'model=large', '--only', 'repeat=2'], dir);
  assert.equal(or.code, 0, or.stderr);
  assert.deepEqual(started(dir).slice(2), ['q1/small/r2', 'q1/large/r2', 'q3/small/r2', 'q3/large/r2']);

  const one = cliSync(['run', file, '--unit', 'q2/small/r2', '--unit', 'q1/small/r1'], dir);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(started(dir).slice(6), ['q1/small/r1', 'q2/small/r2'], 'in plan order');
  assert.match(one.stderr, /left out.*Run again without --only\/--unit to run the rest/);
  assert.equal(status(dir, file).done, 8);
});

test('a bad --only key, a value no unit has, an unknown --unit: exit 1, what there is, nothing written', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const cases: [string[], RegExp[]][] = [
    [
      ['--only', 'tierr=hard'],
      [/No unit has "tierr" \(--only tierr=…\): expected an item field/, /item fields: id, tier, meta\.lang/, /matrix keys: model, repeat/],
    ],
    [
      ['--only', 'tier=medium'],
      [/--only tier=medium: no unit has tier "medium"/, /values of tier: easy, hard/],
    ],
    [['--only', 'model=huge'], [/values of model: small, large/]],
    [
      ['--unit', 'q1/smal/r1'],
      [/--unit q1\/smal\/r1: no unit has this id/, /near ids: q1\/small\/r1/],
    ],
    [['--only', 'tier=easy', '--only', 'meta.lang=fr'], [/No unit matches all of --only tier=easy --only meta\.lang=fr/]],
  ];
  for (const [flags, res] of cases) {
    for (const dry of [[], ['--dry-run']]) {
      const r = cliSync(['run', file, ...flags, ...dry], dir);
      const what = [...flags, ...dry].join(' ');
      assert.equal(r.code, 1, what);
      for (const re of res) assert.match(r.stderr, re, what);
      assert.doesNotMatch(r.stderr, NO_STACK, what);
      assert.ok(!fs.existsSync(path.join(dir, '.resumable')), `${what}: refused before anything was written`);
    }
  }
});

test('--dry-run prints the plan on stdout: counts, the resolved argv, cwd and env of the first units; --verbose the ids', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  // Through a real pipe, as `| less` reads it.
  const piped = spawnSync(
    'sh',
    ['-c', `"${process.execPath}" "${CLI}" run e.experiment.json --dry-run --only tier=hard | cat > plan.txt`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  assert.equal(piped.status, 0, piped.stderr);
  const plan = fs.readFileSync(path.join(dir, 'plan.txt'), 'utf8');
  assert.doesNotMatch(piped.stderr, /would run/, 'nothing of the plan on stderr');
  assert.match(plan, /^Dry run of subset \(\.resumable\/subset-[0-9a-f]{8}\): nothing was run or written\.$/m);
  assert.match(plan, /would run 8, skip 0, adopt 0 result\(s\) found on disk, retry 0, leave out 4 \(outside the subset\)/);
  assert.match(plan, /^\s+8 {2}run: not started$/m);
  assert.match(plan, /^\s+4 {2}left out: not in --only tier=hard$/m);
  assert.match(
    plan,
    /What the first 3 would run:\n {2}q2\/small\/r1\n {4}\$ sh unit\.sh --id q2 --model small\n {4}cwd: .+\n {4}env: MODEL=small LANG_OF=fr\n/,
  );
  assert.equal(plan.match(/\$ sh unit\.sh/g)?.length, 3);
  assert.match(plan, new RegExp(`cwd: ${fs.realpathSync(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
  assert.doesNotMatch(plan, /PATH=|RESUMABLE_/, 'only the variables the experiment sets');
  assert.match(plan, /To run the units left out, run again without --only\/--unit\./);
  assert.ok(!fs.existsSync(path.join(dir, '.resumable')), 'a dry run writes nothing');

  const verbose = cliSync(['run', file, '--dry-run', '--limit', '2', '--verbose'], dir);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(
    verbose.stdout,
    /Units by reason:\n {2}run: not started \(2\):\n {4}q1\/small\/r1\n {4}q1\/small\/r2\n {2}left out: past --limit 2 \(10\):\n {4}q1\/large\/r1\n/,
  );
  assert.equal(verbose.stdout.match(/^ {4}q\d\/\w+\/r\d$/gm)?.length, 12, 'every id once');
  assert.doesNotMatch(cliSync(['run', file, '--dry-run'], dir).stdout, /Units by reason/, 'ids only with --verbose');

  // --json: JSON lines on stdout, the plan in the end event.
  const json = cliSync(['run', file, '--dry-run', '--json', '--unit', 'q3/large/r2'], dir);
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const p = events.at(-1).summary.plan;
  assert.deepEqual(p.run, ['q3/large/r2']);
  assert.equal(p.leftOut, 11);
  assert.deepEqual(p.commands, [
    {
      unit: 'q3/large/r2',
      argv: ['sh', 'unit.sh', '--id', 'q3', '--model', 'large'],
      cwd: fs.realpathSync(dir),
      env: { MODEL: 'large', LANG_OF: 'en' },
    },
  ]);
});

test('--dry-run of a worker run shows the worker it would start', () => {
  const dir = tmpDir();
  const file = experiment(dir, { run: { worker: ['node', 'worker.js', '--out', '${runDir}/w'], env: { MODE: 'eval' } } });
  const r = cliSync(['run', file, '--dry-run'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /The units would go to workers \(run\.worker\), each started as:\n {2}worker 0\n {4}\$ node worker\.js --out \S+\/\.resumable\/subset-[0-9a-f]{8}\/w\n/,
  );
  assert.match(r.stdout, /env: MODE=eval\n/);
});

test('repair and merge take the experiment file, as status does', () => {
  const dir = tmpDir();
  const file = experiment(dir);
  const early = cliSync(['repair', file], dir);
  assert.equal(early.code, 1);
  assert.match(
    early.stderr,
    /e\.experiment\.json: This experiment has no run yet \(expected its run folder \.resumable\/subset-[0-9a-f]{8}\); nothing to repair/,
  );
  assert.match(early.stderr, /Start it with `resumable run /);
  assert.doesNotMatch(early.stderr, /Expected a run folder with an experiment\.json/, 'not the message that contradicted itself');
  const notRun = cliSync(['repair', dir], dir);
  assert.equal(notRun.code, 1);
  assert.match(
    notRun.stderr,
    /Expected a run folder \(\.resumable\/<name>-<hash>.*\) or its experiment file, got a folder without experiment\.json/,
  );
  assert.doesNotMatch(early.stderr + notRun.stderr, NO_STACK);

  assert.equal(cliSync(['run', file], dir).code, 0);
  // A journal that lost its unit ends (as after a crash): repair, given the file, adopts them.
  const runDir = runDirOf(dir);
  const journal = path.join(runDir, 'journal.jsonl');
  const kept = fs
    .readFileSync(journal, 'utf8')
    .split('\n')
    .filter((l) => l !== '' && JSON.parse(l).t !== 'end');
  fs.writeFileSync(journal, kept.join('\n') + '\n');
  const dry = cliSync(['repair', 'e.experiment.json', '--dry-run'], dir);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^Repair of \.resumable\/subset-[0-9a-f]{8}: \+12 adopted, 0 dropped/);
  const fixed = cliSync(['repair', 'e.experiment.json'], dir);
  assert.equal(fixed.code, 0, fixed.stderr);
  assert.match(fixed.stdout, /Repaired \(\+12 adopted/);
  assert.equal(status(dir, file).done, 12);

  // merge: two shards, merged by naming the experiment file.
  const d2 = tmpDir();
  const f2 = experiment(d2);
  for (const k of ['1/2', '2/2']) assert.equal(cliSync(['run', f2, '--shard', k], d2).code, 0);
  const merged = cliSync(['merge', 'e.experiment.json'], d2);
  assert.equal(merged.code, 0, merged.stderr);
  assert.match(merged.stdout, /Units with an outcome, by unit id: 12 of 12/);
  assert.match(merged.stdout, /✔ Merged into \.resumable\/subset-[0-9a-f]{8}\/journal\.jsonl/);
  assert.equal(journalRecords(runDirOf(d2)).filter((r) => r.t === 'end').length, 12);
});

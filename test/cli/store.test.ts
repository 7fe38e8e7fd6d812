import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { unitFolderName } from '../../src/core/ids';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';
import { journalSoFar, waitUntil } from '../helpers/wait';

/** A run stopped halfway (Ctrl+C), to damage in each test. */
async function halfRun(n = 40): Promise<{ dir: string; file: string; runDir: string }> {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n, concurrency: 4, sleep: '0.1' });
  const { child, done } = cliStart(['run', file], dir);
  // A unit has ended: the CLI is past its start-up (its signal handlers are in place) and mid-run.
  await waitUntil(
    'the first unit end in the journal',
    () => journalSoFar(path.join(runDirOf(dir), 'journal.jsonl')).some((r) => r.t === 'end'),
    60_000,
    () => (child.exitCode !== null ? `the CLI exited (${child.exitCode})` : undefined),
  );
  child.kill('SIGINT');
  const r = await done;
  assert.equal(r.code, 130, r.stderr);
  return { dir, file, runDir: runDirOf(dir) };
}

function finishAndCount(dir: string, file: string, n: number): string {
  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 0, r.stderr);
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.equal(status.counts.passed, n);
  return r.stderr;
}

test('a torn last journal line is dropped with a note (and kept aside), and the run resumes', async () => {
  const { dir, file, runDir } = await halfRun();
  fs.appendFileSync(path.join(runDir, 'journal.jsonl'), '{"t":"end","ts":17000000,"u":"item-000');
  const out = finishAndCount(dir, file, 40);
  assert.match(out, /Dropped a torn last journal line \(\d+ bytes/);
  assert.equal(fs.readdirSync(runDir).filter((f) => f.startsWith('journal.jsonl.torn-')).length, 1);
  journalRecords(runDir); // every line parses now
});

test('NUL bytes at the end of the journal (a crash on ext4) count as a torn tail', async () => {
  const { dir, file, runDir } = await halfRun();
  fs.appendFileSync(path.join(runDir, 'journal.jsonl'), Buffer.alloc(4096));
  const out = finishAndCount(dir, file, 40);
  assert.match(out, /Dropped a torn last journal line \(4096 bytes/);
});

test('a corrupt line in the middle stops the run with its line number; status still reads the rest; repair fixes it', async () => {
  const { dir, file, runDir } = await halfRun();
  const j = path.join(runDir, 'journal.jsonl');
  const lines = fs.readFileSync(j, 'utf8').split('\n');
  const passedBefore = lines.filter((l) => l.includes('"s":"passed"')).length;
  lines.splice(5, 0, '{"t":"end","ts":1,"u":"item-0\u0000\u0000garbage');
  fs.writeFileSync(j, lines.join('\n'));

  const r = cliSync(['run', file], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /journal\.jsonl:6: The journal has 1 damaged line/);
  assert.match(r.stderr, /resumable repair/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');

  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.equal(status.counts.passed, passedBefore, 'the damaged line hides no other line');
  assert.ok(status.notes.some((n: string) => /damaged journal line 6/.test(n)));

  const dry = cliSync(['repair', runDir, '--dry-run'], dir);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /\+0 adopted, 1 dropped/);
  assert.equal(fs.readFileSync(j, 'utf8').split('\n').length, lines.length, 'dry run writes nothing');
  const fix = cliSync(['repair', runDir], dir);
  assert.match(fix.stdout, /Repaired/);
  const again = cliSync(['repair', runDir], dir);
  assert.match(again.stdout, /Nothing to repair/, 'repair is idempotent');
  finishAndCount(dir, file, 40);
});

test('repair adopts results the journal lost, backs up first, and is idempotent', async () => {
  const { dir, file, runDir } = await halfRun();
  const j = path.join(runDir, 'journal.jsonl');
  const original = fs.readFileSync(j, 'utf8');
  // Lose every unit end: as if the journal were restored from an old backup.
  fs.writeFileSync(
    j,
    original
      .split('\n')
      .filter((l) => !l.includes('"t":"end"'))
      .join('\n'),
  );
  const onDisk = fs
    .readdirSync(path.join(runDir, 'units'))
    .filter((f) => fs.existsSync(path.join(runDir, 'units', f, 'result.json'))).length;
  const r = cliSync(['repair', runDir], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`\\+${onDisk} adopted, 0 dropped`));
  const backups = fs.readdirSync(path.join(runDir, 'archive')).filter((f) => f.endsWith('-before-repair'));
  assert.equal(backups.length, 1);
  assert.ok(fs.existsSync(path.join(runDir, 'archive', backups[0]!, 'journal.jsonl')));
  assert.match(cliSync(['repair', runDir], dir).stdout, /Nothing to repair/);
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.equal(status.counts.passed, onDisk);
});

test('repair reads only the results of units it may change: a finished unit, a folder of no unit, a result.json that is a folder, no units/ folder', async () => {
  const { dir, runDir } = await halfRun();
  const units = path.join(runDir, 'units');
  const j = path.join(runDir, 'journal.jsonl');
  const lines = fs.readFileSync(j, 'utf8').split('\n');
  const withResult = fs.readdirSync(units).filter((f) => fs.existsSync(path.join(units, f, 'result.json')));
  assert.ok(withResult.length >= 3, `the half run left ${withResult.length} results`);
  // The journal keeps the first unit's end and loses the others'.
  const firstEnd = lines.findIndex((l) => l.includes('"t":"end"'));
  fs.writeFileSync(j, lines.filter((l, i) => i === firstEnd || !l.includes('"t":"end"')).join('\n'));
  const finished = unitFolderName(JSON.parse(lines[firstEnd]!).u as string);
  assert.ok(withResult.includes(finished));
  // Damage that repair must not see: the finished unit's result, and a folder of no unit.
  fs.writeFileSync(path.join(units, finished, 'result.json'), '{"pass');
  fs.mkdirSync(path.join(units, 'not-a-unit'));
  fs.writeFileSync(path.join(units, 'not-a-unit', 'result.json'), '{"passed": true}');
  // A result.json that is a folder is no result: that unit runs again.
  const odd = withResult.find((f) => f !== finished)!;
  fs.rmSync(path.join(units, odd, 'result.json'));
  fs.mkdirSync(path.join(units, odd, 'result.json'));

  const r = cliSync(['repair', runDir, '--dry-run'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`: \\+${withResult.length - 2} adopted, 0 dropped\n`));
  fs.rmSync(units, { recursive: true });
  const none = cliSync(['repair', runDir, '--dry-run'], dir);
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /: \+0 adopted, 0 dropped\nNothing to repair/);
});

test('a unit folder the run folder refuses mid-run stops the run with a clear message (exit 1), nothing lost; the resume completes', async () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 30, concurrency: 2, sleep: '0.1' });
  const { done } = cliStart(['run', file], dir);
  // A file where the last unit's folder goes: its mkdir fails (as a full disk or a read-only mount would).
  const units = path.join(dir, '.resumable');
  const ready = (n: string) => fs.existsSync(path.join(units, n, 'units')) && fs.existsSync(path.join(units, n, 'experiment.json'));
  await waitUntil('the run folder with its units/ folder', () => fs.readdirSync(units).some(ready));
  const runDir = runDirOf(dir);
  const blocked = path.join(runDir, 'units', unitFolderName('item-00029'));
  fs.writeFileSync(blocked, 'not a folder');
  const r = await done;
  const out = r.stdout + r.stderr;
  assert.equal(r.code, 1, out);
  assert.match(out, /Could not prepare the folder of unit "item-00029" \(.*\): EEXIST/);
  assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
  assert.ok(!fs.existsSync(path.join(runDir, 'lock')), 'the lock is released');
  const recs = journalRecords(runDir);
  const open = new Set<string>();
  for (const x of recs) {
    if (x.t === 'start') open.add(x.u as string);
    if (x.t === 'end') open.delete(x.u as string);
  }
  assert.deepEqual([...open], [], 'every unit started was ended (the ones in flight as interrupted)');
  assert.ok(!recs.some((x) => x.u === 'item-00029'), 'the unit that could not be prepared was not journaled');

  fs.rmSync(blocked);
  const again = cliSync(['run', file], dir);
  assert.equal(again.code, 0, again.stderr);
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.equal(status.counts.passed, 30);
  for (const [unit, log] of unitRuns(runDir))
    assert.ok(log.filter((l) => l === 'done').length <= 1, `${unit} finished twice: ${log.join(' ')}`);
});

test('a truncated state.json is reported and rebuilt from the journal', async () => {
  const { dir, file, runDir } = await halfRun();
  const s = path.join(runDir, 'state.json');
  const text = fs.readFileSync(s, 'utf8');
  fs.writeFileSync(s, text.slice(0, text.length / 2));
  const status = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
  assert.ok(status.notes.some((n: string) => /state\.json does not parse/.test(n)));
  finishAndCount(dir, file, 40);
  assert.equal(JSON.parse(fs.readFileSync(s, 'utf8')).status, 'completed');
});

for (const target of ['journal.jsonl', 'experiment.json', 'state.json'] as const) {
  test(`a newer schemaVersion in ${target} is refused with a message, nothing changed`, async () => {
    const { dir, file, runDir } = await halfRun();
    const p = path.join(runDir, target);
    if (target === 'journal.jsonl') {
      const lines = fs.readFileSync(p, 'utf8').split('\n');
      lines[0] = lines[0]!.replace('"schemaVersion":1', '"schemaVersion":99');
      fs.writeFileSync(p, lines.join('\n'));
    } else {
      const v = JSON.parse(fs.readFileSync(p, 'utf8'));
      v.schemaVersion = 99;
      fs.writeFileSync(p, JSON.stringify(v));
    }
    const before = fs.readFileSync(path.join(runDir, 'journal.jsonl'));
    const cmd = target === 'state.json' ? ['status', file] : ['run', file];
    const r = cliSync(cmd, dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, new RegExp(`${target.replace('.', '\\.')}.*newer Resumable \\(schemaVersion 99; this one reads up to 1\\)`));
    assert.deepEqual(fs.readFileSync(path.join(runDir, 'journal.jsonl')), before);
  });
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliStart, cliSync, journalRecords, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';
import { journalSoFar, waitUntil } from '../helpers/wait';
import { shardOf } from '../../src/core/shard/partition';

interface ShardJson {
  k: number;
  n: number;
  state: string;
  total: number;
  done: number;
  host: string | null;
  stale: boolean;
}

function statusJson(
  file: string,
  dir: string,
): { status: string; total: number; done: number; counts: Record<string, number>; shards: ShardJson[] } {
  const r = cliSync(['status', file, '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test(
  '4 shards as plain processes on one run folder, one SIGKILLed and resumed: every unit done exactly once, status aggregates, merge writes one journal',
  { timeout: 180_000 },
  async () => {
    const dir = tmpDir();
    const n = 240;
    const file = makeExperiment(dir, { n, concurrency: 4, sleep: '0.1' });
    const shards = [1, 2, 3, 4].map((k) => cliStart(['run', file, '--shard', `${k}/4`], dir));
    // Let shard 3 finish some units, then kill it where it stands.
    const ends3 = () => {
      try {
        return journalRecords(path.join(dir, '.resumable', fs.readdirSync(path.join(dir, '.resumable'))[0]!), 'journal.3of4.jsonl').filter(
          (r) => r.t === 'end',
        ).length;
      } catch {
        return 0;
      }
    };
    await waitUntil(
      'shard 3 to finish 5 units',
      () => ends3() >= 5,
      60_000,
      () => (shards[2]!.child.exitCode !== null ? `shard 3 exited (${shards[2]!.child.exitCode})` : undefined),
    );
    shards[2]!.child.kill('SIGKILL');
    const killed = await shards[2]!.done;
    assert.equal(killed.signal, 'SIGKILL');
    const mid = statusJson(file, dir);
    const s3 = mid.shards.find((s) => s.k === 3)!;
    assert.ok(s3.state === 'interrupted', `shard 3 after SIGKILL: ${JSON.stringify(s3)}`);
    assert.ok(s3.done > 0 && s3.done < s3.total, `shard 3 was killed mid-run: ${s3.done}/${s3.total}`);
    const resumed = cliSync(['run', file, '--shard', '3/4'], dir);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stderr, /Shard 3 of 4 \(from --shard 3\/4\)/);
    for (const s of [0, 1, 3]) assert.equal((await shards[s]!.done).code, 0, `shard ${s + 1}`);

    const runDir = runDirOf(dir);
    // Exactly once, by unit: every unit folder finished once (a unit killed in flight may have started twice).
    const runs = unitRuns(runDir);
    assert.equal(runs.size, n);
    // Finished once: its result is there and it never finished twice (a unit killed between
    // writing its result and logging "done" is adopted, so its log may lack the "done" line).
    for (const [folder, lines] of runs) {
      assert.ok(lines.filter((l) => l === 'done').length <= 1, `${folder}: ${lines.join(',')}`);
      assert.ok(fs.existsSync(path.join(runDir, 'units', folder, 'result.json')), `${folder}: no result`);
    }
    // Each unit's outcome is in its own shard's journal and no other.
    const owner = new Map<string, number>();
    for (let k = 1; k <= 4; k++) {
      for (const r of journalRecords(runDir, `journal.${k}of4.jsonl`)) {
        if (r.t !== 'end' && r.t !== 'adopt') continue;
        if (r.s === 'interrupted') continue;
        assert.equal(shardOf(r.u as string, 4), k, `${String(r.u)} ended in shard ${k}`);
        assert.ok(!owner.has(r.u as string) || owner.get(r.u as string) === k);
        owner.set(r.u as string, k);
      }
    }
    assert.equal(owner.size, n);

    const st = statusJson(file, dir);
    assert.equal(st.status, 'completed');
    assert.equal(st.done, n);
    assert.equal(st.counts.passed, n);
    assert.deepEqual(
      st.shards.map((s) => [s.k, s.state, s.done === s.total]),
      [
        [1, 'done', true],
        [2, 'done', true],
        [3, 'done', true],
        [4, 'done', true],
      ],
    );
    assert.equal(
      st.shards.reduce((a, s) => a + s.total, 0),
      n,
    );
    assert.ok(st.shards.every((s) => s.host !== null));
    const text = cliSync(['status', file], dir).stdout;
    assert.match(text, /shard 3\/4\s+done/);

    const merged = cliSync(['merge', runDir], dir);
    assert.equal(merged.code, 0, merged.stdout + merged.stderr);
    assert.match(merged.stdout, new RegExp(`Units with an outcome, by unit id: ${n} of ${n}`));
    assert.deepEqual(
      fs.readdirSync(runDir).filter((f) => /of4/.test(f)),
      [],
      'shard files archived',
    );
    const recs = journalRecords(runDir);
    assert.equal(recs[0]!.t, 'header');
    assert.equal(recs.at(-1)!.t, 'merged');
    const finished = new Set(recs.filter((r) => (r.t === 'end' && r.s === 'passed') || r.t === 'adopt').map((r) => r.u));
    assert.equal(finished.size, n);
    const archived = fs.readdirSync(path.join(runDir, 'archive'));
    assert.equal(archived.length, 1);
    assert.equal(fs.readdirSync(path.join(runDir, 'archive', archived[0]!)).filter((f) => f.startsWith('journal.')).length, 4);
    const after = statusJson(file, dir);
    assert.equal(after.status, 'completed');
    assert.equal(after.shards.length, 0);
    // The merged run is a whole run again: an unsharded resume has nothing left to do.
    const again = cliSync(['run', file], dir);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`${n} of ${n} units already done`));
  },
);

test(
  'shards that disagree are refused naming both: another N, another config hash; merge refuses a running shard unless left out',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const file = makeExperiment(dir, { n: 40, concurrency: 4, sleep: '0.5' });
    // One at a time (~10 s), so it is still running through the refusals below even on a loaded machine.
    const running = cliStart(['run', file, '--shard', '1/2', '--concurrency', '1'], dir);
    const started = () =>
      fs.existsSync(path.join(dir, '.resumable')) &&
      fs.readdirSync(path.join(dir, '.resumable')).some((d) => fs.existsSync(path.join(dir, '.resumable', d, 'journal.1of2.jsonl')));
    await waitUntil('shard 1/2 to start', started, 60_000, () =>
      running.child.exitCode !== null ? `it exited (${running.child.exitCode})` : undefined,
    );
    const other = cliSync(['run', file, '--shard', '1/3'], dir);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /Shard 1 of 3 cannot join this run: it is split into 2 shards/);
    assert.doesNotMatch(other.stderr, /\n\s+at /, 'no stack trace');
    const whole = cliSync(['run', file], dir);
    assert.equal(whole.code, 1);
    assert.match(whole.stderr, /split into 2 shards/);
    const fresh = cliSync(['run', file, '--shard', '2/2', '--fresh'], dir);
    assert.equal(fresh.code, 1);
    assert.match(fresh.stderr, /--fresh cannot be used with a shard/);

    const runDir = runDirOf(dir);
    const refused = cliSync(['merge', runDir], dir);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /Shard 1 of 2 is running/);
    assert.match(refused.stderr, /--leave-out 1/);
    assert.ok(fs.existsSync(path.join(runDir, 'journal.1of2.jsonl')), 'nothing moved');

    // Another config (a result-changing field) gets another hash: refused with both hashes named.
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
    cfg.seed = 7;
    fs.writeFileSync(file, JSON.stringify(cfg));
    const drift = cliSync(['run', file, '--shard', '2/2'], dir);
    assert.equal(drift.code, 1);
    const oldHash = path.basename(runDir).split('-').pop()!;
    assert.match(drift.stderr, new RegExp(oldHash));
    assert.match(drift.stderr, /seed/);
    cfg.seed = 0;
    fs.writeFileSync(file, JSON.stringify(cfg));

    assert.equal(cliSync(['run', file, '--shard', '2/2'], dir).code, 0);
    const partial = cliSync(['merge', runDir, '--leave-out', '1'], dir);
    assert.equal(partial.code, 0, partial.stdout + partial.stderr);
    assert.match(partial.stdout, /in shards left out, not done yet/);
    assert.ok(fs.existsSync(path.join(runDir, 'journal.1of2.jsonl')), 'the running shard keeps its journal');
    assert.ok(!fs.existsSync(path.join(runDir, 'journal.2of2.jsonl')));
    assert.equal((await running.done).code, 0);
    const st = statusJson(file, dir);
    assert.equal(st.done, 40, 'shard 1 (still a file) and the merged shard 2 add up by unit id');
    assert.equal(cliSync(['merge', runDir], dir).code, 0);
    assert.equal(statusJson(file, dir).done, 40);
  },
);

test(
  'a Slurm array task picks its shard from the environment and says so; a rate limit in one shard pauses the others',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir();
    const n = 60;
    const ids = Array.from({ length: n }, (_, i) => `item-${String(i).padStart(5, '0')}`);
    const victim = ids.find((id) => shardOf(id, 2) === 1)!;
    // The shared API answers 429 (Retry-After: 4) to the first request for one unit of shard 1.
    const script = [
      `if [ "$RESUMABLE_ITEM_ID" = "${victim}" ] && mkdir "$RESUMABLE_RUN_DIR/../../limited" 2>/dev/null; then`,
      '  echo "HTTP 429 Too Many Requests. Retry-After: 4" >&2; exit 1',
      'fi',
      'sleep 0.2',
      'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"',
    ].join('\n');
    const file = makeExperiment(dir, {
      n,
      concurrency: 2,
      script,
      extra: { rateLimit: { patterns: ['HTTP 429', 'Retry-After: (?<reset>\\d+)'], bufferSeconds: 0.5 } },
    });
    // Shard 2 first, already busy when shard 1 meets the limit.
    const env2 = {
      SLURM_ARRAY_TASK_ID: '1',
      SLURM_ARRAY_TASK_MIN: '0',
      SLURM_ARRAY_TASK_MAX: '1',
      SLURM_ARRAY_TASK_COUNT: '2',
      SLURM_ARRAY_TASK_STEP: '1',
    };
    const shard2 = cliStart(['run', file], dir, env2);
    const two = shard2.done;
    await waitUntil(
      'shard 2 to start a unit',
      () => journalSoFar(path.join(runDirOf(dir), 'journal.2of2.jsonl')).some((r) => r.t === 'start'),
      60_000,
      () => (shard2.child.exitCode !== null ? `shard 2 exited (${shard2.child.exitCode})` : undefined),
    );
    const one = cliSync(['run', file, '--shard', '1/2'], dir);
    assert.equal(one.code, 0, one.stderr);
    const r2 = await two;
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /Shard 2 of 2 \(from SLURM_ARRAY_TASK_ID=1 \(array 0-1, 2 tasks\): task 1 of the array\)/);

    const runDir = runDirOf(dir);
    const pause1 = journalRecords(runDir, 'journal.1of2.jsonl').find((r) => r.t === 'pause')!;
    assert.ok(pause1, 'shard 1 paused');
    const recs2 = journalRecords(runDir, 'journal.2of2.jsonl');
    const pause2 = recs2.find((r) => r.t === 'pause');
    assert.ok(pause2, `shard 2 honoured shard 1's pause: ${JSON.stringify(recs2.filter((r) => r.t !== 'start' && r.t !== 'end'))}`);
    assert.equal(pause2.src, 'shard 1of2');
    assert.ok(
      Math.abs((pause2.until as number) - (pause1.until as number)) < 50,
      `same reset: ${String(pause2.until)} vs ${String(pause1.until)}`,
    );
    // Within a poll (1 s) of the pause, shard 2 dispatched nothing until the reset.
    const lateStarts = recs2.filter(
      (r) => r.t === 'start' && (r.ts as number) > (pause1.ts as number) + 1100 && (r.ts as number) < (pause1.until as number),
    );
    assert.deepEqual(lateStarts, [], 'no dispatch in shard 2 during the shared pause');
    const st = statusJson(file, dir);
    assert.equal(st.counts.passed, n, 'the rate limit was not a failure');
  },
);

test('`resumable slurm --dry-run` prints a job array script; bad options are clear errors', () => {
  const dir = tmpDir();
  const file = makeExperiment(dir, { n: 4 });
  const r = cliSync(['slurm', file, '--shards', '4', '--throttle', '2', '--partition', 'debug', '--time', '01:00:00', '--dry-run'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#!\/bin\/bash/);
  assert.match(r.stdout, /^#SBATCH --array=0-3%2$/m);
  assert.match(r.stdout, /^#SBATCH --partition=debug$/m);
  assert.match(r.stdout, /^#SBATCH --time=01:00:00$/m);
  assert.match(r.stdout, /^#SBATCH --requeue$/m);
  assert.match(r.stdout, /^exec .+ run .+e\.experiment\.json$/m);
  assert.ok(!fs.existsSync(path.join(dir, '.resumable')), 'dry run writes nothing');
  for (const [args, re] of [
    [['slurm', file], /Expected --shards N/],
    [['slurm', file, '--shards', '0'], /Expected --shards ≥ 1 \(an integer\), got "0"/],
    [['slurm', file, '--shards', '2', '--time', 'soon'], /Expected --time in a Slurm form/],
    [['run', file, '--shard', '5/4'], /Expected --shard k\/N with 1 ≤ k ≤ N \(shard 2 of 4 is 2\/4\), got "5\/4"/],
    [['merge', dir], /Expected a run folder/],
  ] as [string[], RegExp][]) {
    const e = cliSync(args, dir);
    assert.equal(e.code, 1, args.join(' '));
    assert.match(e.stderr, re);
    assert.doesNotMatch(e.stderr, /\n\s+at /);
  }
  const k8s = cliSync(['run', file], dir, { JOB_COMPLETION_INDEX: '0' });
  assert.equal(k8s.code, 1);
  assert.match(k8s.stderr, /RESUMABLE_SHARD_COUNT is not/);
});

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { cliSync, journalRecords, makeExperiment, runDirOf, unitRuns } from '../helpers/cli';
import { startCluster, waitFor, type Cluster } from '../helpers/slurmCluster';

/**
 * The whole story on a real Slurm: `resumable slurm --submit` writes and submits a job
 * array of 4 shards (2 at a time), one task is cancelled mid-run and requeued, and at the
 * end every unit is done exactly once, status saw all 4 shards and merge writes one journal.
 */
let cluster: Cluster;
let succeeded = false;
before(async () => {
  cluster = await startCluster();
});
after(async () => {
  await cluster?.stop();
  // The daemons' logs are what explains a failure: kept then (and with KEEP_TMP=1).
  if (!cluster) return;
  if (succeeded && !process.env.KEEP_TMP) fs.rmSync(cluster.root, { recursive: true, force: true });
  else console.log(`# Slurm cluster files and logs kept in ${cluster.root}`);
});

test(
  'a Slurm job array of 4 shards (throttle 2), one task cancelled and requeued: every unit done exactly once, status aggregates, merge completes',
  { timeout: 300_000 },
  async () => {
    const t0 = Date.now();
    const dir = tmpDir();
    const n = 320;
    const file = makeExperiment(dir, { n, concurrency: 4, sleep: '0.2', extra: { graceSeconds: 2 } });
    const env = cluster.env;
    const sub = cliSync(['slurm', file, '--shards', '4', '--throttle', '2', '--submit'], dir, env);
    assert.equal(sub.code, 0, sub.stderr);
    const job = /Submitted batch job (\d+)/.exec(sub.stdout)?.[1];
    assert.ok(job, sub.stdout);
    assert.match(sub.stdout, /resumable status .*e\.experiment\.json/);
    assert.match(sub.stdout, /resumable merge /);

    const runDir = path.join(dir, '.resumable', fs.readdirSync(path.join(dir, '.resumable'))[0]!);
    const tasks = () =>
      cluster
        .sh('squeue', ['-h', '-r', '-j', job, '-o', '%i %T %r'])
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '));
    let maxRunning = 0;
    let sawThrottle = false;
    const sample = () => {
      const t = tasks();
      maxRunning = Math.max(maxRunning, t.filter((x) => x[1] === 'RUNNING').length);
      sawThrottle ||= t.some((x) => x[2] === 'JobArrayTaskLimit');
      return t;
    };
    const ends = (k: number) => {
      try {
        return journalRecords(runDir, `journal.${k}of4.jsonl`).filter((r) => r.t === 'end').length;
      } catch {
        return 0;
      }
    };
    // Cancel task 1 (shard 2) once it has done some of its units.
    await waitFor(() => (sample(), ends(2) >= 10), 120_000, 'shard 2 to finish 10 units');
    cluster.sh('scancel', [`${job}_1`]);
    await waitFor(
      () => !sample().some((x) => x[0] === `${job}_1`) && !fs.existsSync(path.join(runDir, 'lock.2of4')),
      60_000,
      'task 1 to stop',
    );
    const mid = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    const s2 = mid.shards.find((s: { k: number }) => s.k === 2);
    assert.equal(s2.state, 'interrupted', JSON.stringify(s2));
    assert.ok(s2.done >= 10 && s2.done < s2.total, JSON.stringify(s2));
    assert.equal(s2.host, (await import('node:os')).hostname());

    cluster.sh('scontrol', ['requeue', `${job}_1`]);
    await waitFor(() => sample().length === 0, 240_000, 'the whole array to finish');
    assert.ok(maxRunning <= 2, `throttle %2 held: at most ${maxRunning} tasks ran at once`);
    assert.ok(sawThrottle, 'squeue showed tasks held by JobArrayTaskLimit');

    // Every unit finished exactly once (a unit killed by the cancel may have started twice).
    assert.equal(runDirOf(dir), runDir);
    const runs = unitRuns(runDir);
    assert.equal(runs.size, n);
    // Finished once: its result is there and it never finished twice (a unit killed between
    // writing its result and logging "done" is adopted, so its log may lack the "done" line).
    for (const [folder, lines] of runs) {
      assert.ok(lines.filter((l) => l === 'done').length <= 1, `${folder}: ${lines.join(',')}`);
      assert.ok(fs.existsSync(path.join(runDir, 'units', folder, 'result.json')), `${folder}: no result`);
    }
    const st = JSON.parse(cliSync(['status', file, '--json'], dir).stdout);
    assert.equal(st.status, 'completed');
    assert.equal(st.counts.passed, n);
    assert.deepEqual(
      st.shards.map((s: { state: string }) => s.state),
      ['done', 'done', 'done', 'done'],
    );
    assert.equal(
      st.shards.reduce((a: number, s: { total: number }) => a + s.total, 0),
      n,
    );

    const out2 = fs.readFileSync(path.join(runDir, 'slurm', `${job}_1.out`), 'utf8');
    assert.match(out2, /Shard 2 of 4 \(from SLURM_ARRAY_TASK_ID=1 \(array 0-3, 4 tasks\)/);
    assert.match(out2, /restart 1/, 'the requeued task ran again');
    assert.match(out2, /Interrupted/);
    const j2 = journalRecords(runDir, 'journal.2of4.jsonl');
    assert.equal(j2.filter((r) => r.t === 'runner_start').length, 2);
    assert.ok(j2.some((r) => r.t === 'runner_end' && r.status === 'interrupted'));
    assert.ok(!j2.some((r) => r.t === 'end' && r.s === 'error'), 'units signalled by scancel were interrupted, not errors');
    const comp = fs.readFileSync(cluster.jobcomp, 'utf8');
    assert.ok((comp.match(/JobState=COMPLETED/g) ?? []).length >= 4, comp);

    const merged = cliSync(['merge', runDir], dir);
    assert.equal(merged.code, 0, merged.stdout + merged.stderr);
    const recs = journalRecords(runDir);
    assert.deepEqual(recs.at(-1), { ...recs.at(-1), t: 'merged', missing: 0, units: n });
    const passed = new Set(recs.filter((r) => (r.t === 'end' && r.s === 'passed') || r.t === 'adopt').map((r) => r.u));
    assert.equal(passed.size, n);
    assert.deepEqual(
      fs.readdirSync(runDir).filter((f) => f.includes('of4')),
      [],
    );
    console.log(`# slurm array test: ${((Date.now() - t0) / 1000).toFixed(1)} s (cluster up before)`);
    succeeded = true;
  },
);

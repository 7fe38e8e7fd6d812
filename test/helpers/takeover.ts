import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CLI, cliStart, journalRecords, makeExperiment, runDirOf, type CliResult } from './cli';
import { waitUntil, journalSoFar } from './wait';

/** A unit that logs which runner started it ($PPID: the runner spawns it directly). */
const UNIT = [
  'echo "start $PPID" >> "$RESUMABLE_UNIT_DIR/runs.log"',
  'sleep "${UNIT_SLEEP:-0.05}"',
  'printf \'{"passed": true}\\n\' > "$RESUMABLE_UNIT_DIR/result.tmp"',
  'mv "$RESUMABLE_UNIT_DIR/result.tmp" "$RESUMABLE_UNIT_DIR/result.json"',
  'echo done >> "$RESUMABLE_UNIT_DIR/runs.log"',
].join('\n');

/** Starts of each unit folder, by runner pid. */
export function startsByRunner(runDir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const units = path.join(runDir, 'units');
  for (const f of fs.existsSync(units) ? fs.readdirSync(units) : []) {
    const log = path.join(units, f, 'runs.log');
    const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n') : [];
    out.set(
      f,
      lines.filter((l) => l.startsWith('start ')).map((l) => Number(l.slice(6))),
    );
  }
  return out;
}

export interface TakeoverTrial {
  readonly oldRunner: CliResult;
  readonly newRunner: CliResult;
  /** Units the old runner started after it was woken (must be 0). */
  readonly startedByOldAfterWake: number;
  /** Units started by both runners (at most those the old one had in flight when paused). */
  readonly startedTwice: number;
  readonly oldInFlightAtPause: number;
  readonly passed: number;
  readonly units: number;
}

/**
 * Runner A on "another host" (its own UTS namespace: `unshare --uts`, a real hostname of
 * its own) is paused with SIGSTOP (a frozen VM), its lock aged past the stale time, and
 * taken over by runner B on this host; A is woken while B is still dispatching.
 */
export async function takeoverTrial(dir: string, o: { units: number; concurrency: number; sleep: string }): Promise<TakeoverTrial> {
  const file = makeExperiment(dir, { n: o.units, concurrency: o.concurrency, sleep: o.sleep, script: UNIT, extra: { graceSeconds: 10 } });
  const a = spawn(
    'unshare',
    ['--uts', 'sh', '-c', 'hostname resumable-test-node-a && exec "$0" "$@"', process.execPath, CLI, 'run', file],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let aOut = '';
  let aErr = '';
  a.stdout.on('data', (d) => (aOut += d));
  a.stderr.on('data', (d) => (aErr += d));
  const aDone = new Promise<CliResult>((resolve) => a.on('exit', (code, signal) => resolve({ code, signal, stdout: aOut, stderr: aErr })));
  let aExited: string | undefined;
  void aDone.then((r) => (aExited = `runner A exited (${r.code}): ${r.stderr.slice(-300)}`));
  const runDir = await waitUntil(
    'the run folder',
    () => fs.existsSync(path.join(dir, '.resumable')) && runDirOf(dir),
    60_000,
    () => aExited,
  );
  const journal = path.join(runDir, 'journal.jsonl');
  await waitUntil(
    'runner A to finish a few units',
    () => journalSoFar(journal).filter((r) => r.t === 'end').length >= o.concurrency,
    60_000,
    () => aExited,
  );
  a.kill('SIGSTOP');
  // A's units keep running while it is stopped; wait until none is left, then take stock.
  await waitUntil(
    'the units A had in flight to end',
    () =>
      [...startsByRunner(runDir).entries()].every(([f]) => {
        const log = fs.readFileSync(path.join(runDir, 'units', f, 'runs.log'), 'utf8');
        return log.split('\n').filter((l) => l.startsWith('start')).length === log.split('\n').filter((l) => l === 'done').length;
      }),
    60_000,
  );
  const byA = (m: Map<string, number[]>) => [...m.values()].reduce((n, pids) => n + pids.filter((p) => p === a.pid).length, 0);
  const aStartsAtPause = byA(startsByRunner(runDir));
  const aEnds = journalSoFar(journal).filter((r) => r.t === 'end').length;
  const lock = path.join(runDir, 'lock');
  const old = new Date(Date.now() - 180_000);
  fs.utimesSync(lock, old, old);

  const b = cliStart(['run', file], dir);
  let bExited: string | undefined;
  void b.done.then((r) => (bExited = `runner B exited (${r.code}) before A woke: ${r.stderr.slice(-300)}`));
  // Wake A while B is dispatching: B has started units of its own.
  await waitUntil(
    'runner B to start units',
    () => byPid(startsByRunner(runDir), b.child.pid!) >= o.concurrency,
    60_000,
    () => bExited,
  );
  a.kill('SIGCONT');
  const oldRunner = await aDone;
  const aStartsAfter = byA(startsByRunner(runDir));
  const newRunner = await b.done;
  const starts = startsByRunner(runDir);
  const recs = journalRecords(runDir);
  const passed = new Set(recs.filter((r) => (r.t === 'end' || r.t === 'adopt') && r.s === 'passed').map((r) => r.u)).size;
  return {
    oldRunner,
    newRunner,
    units: o.units,
    passed,
    startedByOldAfterWake: aStartsAfter - aStartsAtPause,
    startedTwice: [...starts.values()].filter((p) => p.length > 1).length,
    oldInFlightAtPause: aStartsAtPause - aEnds,
  };
}

function byPid(m: Map<string, number[]>, pid: number): number {
  return [...m.values()].reduce((n, pids) => n + pids.filter((p) => p === pid).length, 0);
}

import type { ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliStart, journalRecords, makeExperiment } from './cli';
import { tmpDir } from './tmp';
import { firstStart, journalSoFar, unitProcesses, waitFor } from './waitFor';

/**
 * Sends `sig` to `child` as fast as it can, in bursts, until the child has exited (so signals
 * keep landing while it winds down). Returns how many were delivered. Node reaps the child
 * and drops its pid in the same callback that sets `exited`, so no signal goes to a reused pid.
 */
export async function signalStorm(child: ChildProcess, sig: NodeJS.Signals, burst = 50): Promise<number> {
  let exited = child.exitCode !== null || child.signalCode !== null;
  child.once('exit', () => (exited = true));
  let sent = 0;
  while (!exited) {
    for (let i = 0; i < burst && !exited; i++) if (child.kill(sig)) sent++;
    await new Promise((r) => setImmediate(r));
  }
  return sent;
}

/** The exit code each final status of the journal's runner_end line stands for (README, Exit codes). */
export const EXIT_OF_STATUS: Record<string, number> = { completed: 0, interrupted: 130, paused_rate_limit: 2, failed: 1 };

/** One storm: SIGTERM as fast as possible from `from` until the runner has exited. */
export async function stormOnce(
  from: 'first start' | 'runner_end',
): Promise<{ code: number | null; signal: NodeJS.Signals | null; status: string; sent: number; stderr: string }> {
  const dir = tmpDir();
  const sleep = from === 'first start' ? '30' : '0.2';
  const file = makeExperiment(dir, { n: 3, concurrency: 3, sleep, extra: { graceSeconds: 30 } });
  const { child, done } = cliStart(['run', file], dir);
  const runDir = await firstStart(dir);
  if (from === 'runner_end')
    await waitFor('the runner_end line', () => journalSoFar(runDir).some((r) => r.t === 'runner_end') || child.exitCode !== null);
  const sent = await signalStorm(child, 'SIGTERM');
  const r = await done;
  const last = journalRecords(runDir).at(-1)!;
  assert.equal(last.t, 'runner_end', r.stderr);
  const status = String(last.status);
  const context = `exit ${r.code}, signal ${r.signal}, ${sent} SIGTERMs, journal says ${status}\n${r.stderr}`;
  // The exit code is the one the journal and the summary give, never the default action's 143.
  assert.equal(r.signal, null, context);
  assert.equal(r.code, EXIT_OF_STATUS[status], context);
  assert.match(r.stderr, status === 'interrupted' ? /■ Interrupted/ : /✔ Completed/, context);
  assert.equal(fs.existsSync(path.join(runDir, 'lock')), false, context);
  // The runner journals a unit's end when its process exits; the unit's children (the
  // script's `sleep`) were SIGKILLed with its group and may take a moment to be gone. A unit
  // left running would stay for its 30 s.
  await waitFor(
    `the killed units' processes to be gone (${unitProcesses(runDir).join(', ')})\n${context}`,
    () => unitProcesses(runDir).length === 0,
    10_000,
  );
  return { code: r.code, signal: r.signal, status, sent, stderr: r.stderr };
}

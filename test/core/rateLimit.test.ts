import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sleep as clockSleep } from '../../src/core/clock';
import { RateLimitError, Run } from '../../src/core/index';
import { FakeClock } from '../helpers/fakeClock';
import { tmpDir, writeFiles } from '../helpers/tmp';

function experiment(dir: string, n: number, rateLimit: Record<string, unknown> = {}): string {
  writeFiles(dir, {
    'items.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `u${i}` })).join('\n') + '\n',
    'e.experiment.json': JSON.stringify({
      name: 'rl',
      items: { file: 'items.jsonl' },
      run: { command: ['unused-with-a-handler'] },
      concurrency: 2,
      rateLimit,
    }),
  });
  return path.join(dir, 'e.experiment.json');
}

/** Advances the fake clock in small steps, letting real I/O (fsync, renames) finish between them. */
async function drive(clock: FakeClock, until: () => boolean, stepMs = 250, maxSteps = 4000): Promise<void> {
  for (let i = 0; i < maxSteps && !until(); i++) {
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 1));
  }
  assert.ok(until(), 'condition not reached');
}

const readState = (dir: string) => {
  const root = path.join(dir, '.resumable');
  try {
    const runDir = path.join(root, fs.readdirSync(root)[0]!);
    return JSON.parse(fs.readFileSync(path.join(runDir, 'state.json'), 'utf8'));
  } catch {
    return undefined;
  }
};

test(
  'a rate limit pauses all dispatching, shows the countdown in state.json, and resumes by itself (invariant 4)',
  { timeout: 60_000 },
  async () => {
    const dir = tmpDir();
    const file = experiment(dir, 12);
    const clock = new FakeClock();
    const starts: { id: string; at: number }[] = [];
    let limitedAt = 0;
    const run = new Run({
      experiment: file,
      clock,
      random: () => 0.5,
      handler: async ({ unit, signal }) => {
        starts.push({ id: unit.id, at: clock.now() });
        await clockSleep(clock, 1000, signal);
        if (unit.id === 'u3' && limitedAt === 0) {
          limitedAt = clock.now();
          throw new RateLimitError('HTTP 429', clock.now() + 60_000);
        }
        return { passed: true };
      },
    });
    let summary: Awaited<ReturnType<Run['run']>> | undefined;
    const done = run.run().then((s) => (summary = s));
    await drive(clock, () => readState(dir)?.status === 'paused_rate_limit');
    const paused = readState(dir);
    assert.equal(paused.rateLimitedUntil, limitedAt + 65_000, 'reset + 5 s buffer');
    assert.equal(paused.pauseSource, 'u3');
    assert.equal(paused.pauseCount, 1);
    assert.equal(paused.counts.failed + paused.counts.error, 0);

    await drive(clock, () => summary !== undefined);
    await done;
    assert.equal(summary!.exitCode, 0);
    assert.equal(summary!.status, 'completed');
    assert.deepEqual(summary!.counts, { passed: 12, failed: 0, error: 0, rate_limited: 0, running: 0, pending: 0 });
    const during = starts.filter((s) => s.at > limitedAt && s.at < limitedAt + 65_000);
    assert.deepEqual(during, [], 'nothing dispatched while paused');
    assert.equal(starts.filter((s) => s.id === 'u3').length, 2, 'the rate-limited unit was re-queued');
    const final = readState(dir);
    assert.equal(final.status, 'completed');
    assert.equal(final.rateLimitedUntil, null);
  },
);

test('a reset beyond maxWaitSeconds stops with paused_rate_limit and exit code 2; a later run resumes', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const file = experiment(dir, 6, { maxWaitSeconds: 3600 });
  const clock = new FakeClock();
  let limitedAt = 0;
  const handler = async ({ unit, signal }: { unit: { id: string }; signal: AbortSignal }) => {
    await clockSleep(clock, 500, signal);
    if (unit.id === 'u1' && !limitedAt) {
      limitedAt = clock.now();
      throw new RateLimitError('quota exhausted', clock.now() + 10 * 3600_000);
    }
    return { passed: true };
  };
  let summary: Awaited<ReturnType<Run['run']>> | undefined;
  void new Run({ experiment: file, clock, handler }).run().then((s) => (summary = s));
  await drive(clock, () => summary !== undefined);
  assert.equal(summary!.exitCode, 2);
  assert.equal(summary!.status, 'paused_rate_limit');
  assert.equal(summary!.rateLimitedUntil, limitedAt + 10 * 3600_000 + 5000);
  assert.equal(summary!.counts.failed + summary!.counts.error, 0);
  const state = readState(dir);
  assert.equal(state.status, 'paused_rate_limit');
  assert.equal(state.rateLimitedUntil, summary!.rateLimitedUntil);

  let second: typeof summary;
  void new Run({ experiment: file, clock, handler }).run().then((s) => (second = s));
  await drive(clock, () => second !== undefined);
  assert.equal(second!.exitCode, 0);
  assert.equal(second!.counts.passed, 6);
});

test('handler errors are retried with backoff on the injected clock, then count as error', { timeout: 60_000 }, async () => {
  const dir = tmpDir();
  const file = experiment(dir, 2);
  const clock = new FakeClock();
  const attempts: number[] = [];
  let summary: Awaited<ReturnType<Run['run']>> | undefined;
  void new Run({
    experiment: file,
    clock,
    random: () => 0,
    handler: async ({ unit, attempt }) => {
      if (unit.id === 'u0') {
        attempts.push(attempt);
        throw new Error('upstream 502');
      }
      return true;
    },
  })
    .run()
    .then((s) => (summary = s));
  await drive(clock, () => summary !== undefined);
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.deepEqual(summary!.counts, { passed: 1, failed: 0, error: 1, rate_limited: 0, running: 0, pending: 0 });
  assert.equal(summary!.exitCode, 0);
});

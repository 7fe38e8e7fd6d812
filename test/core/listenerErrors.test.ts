import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Run } from '../../src/core/run/runner';
import { tmpDir, writeFiles } from '../helpers/tmp';

function experiment(dir: string, n: number, concurrency: number): string {
  writeFiles(dir, {
    'items.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `u${i}` })).join('\n') + '\n',
    'e.experiment.json': JSON.stringify({
      name: 'listeners',
      items: { file: 'items.jsonl' },
      run: { command: ['unused-with-a-handler'] },
      concurrency,
    }),
  });
  return path.join(dir, 'e.experiment.json');
}

test(
  "a library user's onEvent listener that throws on every event does not end the run: every unit passes, exit 0",
  { timeout: 60_000 },
  async (t) => {
    const reported: string[] = [];
    t.mock.method(console, 'error', (...a: unknown[]) => void reported.push(a.join(' ')));
    const run = new Run({ experiment: experiment(tmpDir(), 30, 4), handler: async () => ({ passed: true }) });
    const seen = new Set<string>();
    run.onEvent((e) => {
      seen.add(e.type);
      throw new Error(`listener bug on ${e.type}`);
    });
    const summary = await run.run();
    assert.equal(summary.exitCode, 0, summary.message);
    assert.equal(summary.status, 'completed');
    assert.equal(summary.counts.passed, 30);
    for (const type of ['start', 'unit', 'progress', 'end']) assert.ok(seen.has(type), `the listener got ${type} events`);
    assert.ok(
      reported.some((l) => /listener bug on unit/.test(l)),
      'each throw is reported',
    );
  },
);

test(
  'a listener that throws on the `stopping` event does not cancel stop(): the run ends interrupted (130)',
  { timeout: 60_000 },
  async (t) => {
    t.mock.method(console, 'error', () => undefined);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let firstStarted!: () => void;
    const started = new Promise<void>((r) => (firstStarted = r));
    const run = new Run({
      experiment: experiment(tmpDir(), 10, 1),
      handler: async () => {
        firstStarted();
        await gate;
        return { passed: true };
      },
    });
    run.onEvent((e) => {
      if (e.type === 'stopping') throw new Error('listener bug on stopping');
    });
    const done = run.run();
    await started;
    assert.doesNotThrow(() => run.stop());
    release();
    const summary = await done;
    assert.equal(summary.exitCode, 130);
    assert.equal(summary.status, 'interrupted');
    assert.equal(summary.counts.passed, 1, 'the unit in flight finished; nothing more was started');
    assert.equal(summary.counts.pending, 9);
  },
);

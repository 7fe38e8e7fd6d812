import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cliStart } from '../helpers/cli';
import { tmpDir } from '../helpers/tmp';
import { ends, journals, limitedExperiment, limitServer } from './helpers';

// Never spawnSync here: the server runs in this process and must keep answering.
const cli = (args: string[], cwd: string) => cliStart(args, cwd).done;

/**
 * A real HTTP server on 127.0.0.1 that allows 4 requests a second and answers 429 in each
 * provider's shape. With no rateLimit patterns at all, every unit passes, no limit counts as
 * an error, and every pause is as long as the reset the answer gave (never the 60 s default,
 * which maxWaitSeconds 20 would turn into an exit 2).
 */
for (const form of ['openai', 'anthropic', 'retry-after-seconds', 'retry-after-date', 'retry-after-ms', 'gemini'] as const) {
  test(`a 429 in the ${form} shape is a rate limit with its reset read, without a pattern`, { timeout: 120_000 }, async () => {
    const server = await limitServer({ requestsPerWindow: 4, windowMs: 1000, form });
    try {
      const dir = tmpDir();
      const file = limitedExperiment(dir, server.url, 16, { rateLimit: { maxWaitSeconds: 20 } });
      const r = await cli(['run', file], dir);
      assert.equal(r.code, 0, r.stderr);
      const [j] = journals(dir);
      const all = ends(j!.records);
      const outcome = (s: string) => all.filter((e) => e.s === s);
      assert.equal(new Set(outcome('passed').map((e) => e.u)).size, 16);
      assert.equal(outcome('error').length + outcome('failed').length, 0, 'a rate limit is never an error or a failure');
      const limited = outcome('rate_limited');
      assert.equal(limited.length, server.stats().limited, 'every 429 the server sent is a rate_limited end');
      assert.ok(limited.length > 0, 'the server did limit');
      for (const e of limited) assert.equal(typeof e.reset, 'number', `the reset was read from ${JSON.stringify(e.why)}`);
      const pauses = j!.records.filter((x) => x.t === 'pause');
      for (const p of pauses) {
        const wait = (p.until as number) - (p.ts as number);
        // A window of 1 s (2 s once the HTTP-date form rounds up) plus a tenth of it: never the 60 s default.
        assert.ok(wait <= 2500, `pause of ${wait} ms after ${JSON.stringify(p.why)}`);
      }
      assert.ok(server.stats().maxInWindow <= 4, 'the server enforced its limit');
    } finally {
      await server.close();
    }
  });
}

test(
  'the quota words park the run: units in flight finish, exit 2 with the resume command; once restored it completes',
  { timeout: 120_000 },
  async () => {
    const server = await limitServer({ windowMs: 1000 });
    try {
      const dir = tmpDir();
      const file = limitedExperiment(dir, server.url, 12, { concurrency: 2 });
      server.setQuota({});
      const parked = await cli(['run', file], dir);
      assert.equal(parked.code, 2, parked.stderr);
      assert.match(parked.stderr, /Parked: quota exhausted \(.*quota.*\)/i);
      assert.match(parked.stderr, /Resume later: resumable run /);
      const first = ends(journals(dir)[0]!.records);
      assert.ok(first.length >= 1 && first.length <= 2, `stopped dispatching at the first answer (${first.length} ends)`);
      assert.ok(
        first.every((e) => e.s === 'rate_limited'),
        'nothing counted as failed or error',
      );
      const status = await cli(['status', file, '--json'], dir);
      assert.equal(JSON.parse(status.stdout).status, 'paused_rate_limit');
      server.setQuota(null);
      const resumed = await cli(['run', file], dir);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /12\/12/);
    } finally {
      await server.close();
    }
  },
);

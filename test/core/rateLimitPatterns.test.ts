import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { loadExperiment } from '../../src/core/config/load';
import { rateLimitIn } from '../../src/core/exec/outcome';

const NOW = Date.UTC(2026, 0, 1);

test("the quickstart's rate-limit patterns are anchored: a traceback's `line 429` is a crash, an HTTP 429 is a rate limit", async () => {
  const exp = await loadExperiment(path.join(__dirname, '../../examples/quickstart/quickstart.experiment.json'));
  // The user's patterns alone, so the standard signals cannot hide a pattern that matches too much.
  const own = { ...exp.config.rateLimit, standardSignals: false, exitCodes: [] };
  const judged = (output: string) => rateLimitIn({ exitCode: 1, output }, own, NOW)?.status;
  for (const yes of ['HTTP 429 Too Many Requests', 'HTTP/1.1 429 Too Many Requests', 'status: 429', 'status_code=429', 'Status code 429'])
    assert.equal(judged(yes), 'rate_limited', yes);
  for (const no of [
    'Traceback (most recent call last):\n  File "x.py", line 429, in main\nValueError: bad answer',
    'item q-429 failed',
    'took 429 ms',
    'generated 4290 tokens',
  ])
    assert.equal(judged(no), undefined, no);
  // And as the run judges it, standard signals included.
  const full = (output: string) => rateLimitIn({ exitCode: 1, output }, exp.config.rateLimit, NOW)?.status;
  assert.equal(full('  File "x.py", line 429, in main\nKeyError'), undefined);
  assert.equal(full('HTTP 429 Too Many Requests: rate limit exceeded; retry-after: 4'), 'rate_limited');
});

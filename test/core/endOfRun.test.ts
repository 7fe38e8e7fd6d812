import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endOfRun } from '../../src/core/run/endOfRun';

test('how a run ended maps to the README exit codes, the run failure first', () => {
  const base = { end: { reason: 'completed' as const }, stopRequests: 0, maxWaitSeconds: 60 };
  assert.deepEqual(endOfRun(base), { status: 'completed', exitCode: 0 });
  assert.equal(endOfRun({ ...base, stopRequests: 1 }).exitCode, 130);
  assert.equal(endOfRun({ ...base, end: { reason: 'interrupted' } }).exitCode, 130);
  const paused = endOfRun({ ...base, end: { reason: 'paused_rate_limit', rateLimitedUntil: Date.UTC(2026, 0, 1) } });
  assert.equal(paused.exitCode, 2);
  assert.match(paused.message!, /until 2026-01-01T00:00:00\.000Z \(more than rateLimit\.maxWaitSeconds = 60 s away\)/);
  const failed = endOfRun({ ...base, stopRequests: 1, failure: new Error('Lost the run lock'), unitFailure: new Error('ENOSPC') });
  assert.deepEqual(failed, { status: 'failed', exitCode: 1, message: 'Lost the run lock' });
  assert.deepEqual(endOfRun({ ...base, unitFailure: new Error('ENOSPC') }), { status: 'failed', exitCode: 1, message: 'ENOSPC' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { refreshDelays, RefreshTimer } from '../../src/extension/model/refreshTimer';
import { FakeClock } from '../helpers/fakeClock';

function timer(clock: FakeClock, debounceMs = 250, maxWaitMs = 1000) {
  const fired: number[] = [];
  const t = new RefreshTimer(
    clock,
    () => ({ debounceMs, maxWaitMs }),
    () => fired.push(clock.monotonic() - t0),
  );
  const t0 = clock.monotonic();
  return { t, fired };
}

test('refresh timer: events every 100 ms forever (debounce 250 ms) still refresh at least every maxWait', async () => {
  const clock = new FakeClock();
  const { t, fired } = timer(clock, 250, 1000);
  for (let i = 0; i < 100; i++) {
    t.trigger();
    await clock.advance(100);
  }
  // 10 s of events: a refresh at the latest 1000 ms after the first event of each batch.
  assert.ok(fired.length >= 9, `refreshed ${fired.length} times: ${fired.join(', ')}`);
  const gaps = fired.map((at, i) => at - (i === 0 ? 0 : fired[i - 1]!));
  assert.ok(
    gaps.every((g) => g <= 1000),
    `gaps ${gaps.join(', ')}`,
  );
});

test('refresh timer: a burst is one refresh, a debounce after its last event', async () => {
  const clock = new FakeClock();
  const { t, fired } = timer(clock, 250, 1000);
  t.trigger();
  await clock.advance(100);
  t.trigger();
  await clock.advance(100);
  t.trigger();
  await clock.advance(1000);
  assert.deepEqual(fired, [450]);
  t.trigger();
  await clock.advance(1000);
  assert.deepEqual(fired, [450, 1450], 'a new batch after a quiet spell waits the debounce again');
});

test('refresh timer: fireNow reads at once and ends the batch; nothing fires twice', async () => {
  const clock = new FakeClock();
  const { t, fired } = timer(clock, 250, 1000);
  t.trigger();
  await clock.advance(100);
  t.fireNow();
  await clock.advance(2000);
  assert.deepEqual(fired, [100]);
  assert.equal(clock.pending, 0);
});

test('refresh delays: maxWait is a second, never shorter than the debounce', () => {
  assert.deepEqual(refreshDelays(250), { debounceMs: 250, maxWaitMs: 1000 });
  assert.deepEqual(refreshDelays(3000), { debounceMs: 3000, maxWaitMs: 3000 });
  assert.deepEqual(refreshDelays(-5), { debounceMs: 0, maxWaitMs: 1000 });
});

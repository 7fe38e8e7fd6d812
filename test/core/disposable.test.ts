import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Emitter } from '../../src/core/disposable';

test('Emitter: a listener that throws is reported, and the listeners after it still get the value', () => {
  const reported: unknown[] = [];
  const e = new Emitter<number>((err) => reported.push(err));
  const got: string[] = [];
  e.event((v) => got.push(`first ${v}`));
  e.event(() => {
    throw new Error('listener bug');
  });
  e.event((v) => got.push(`third ${v}`));
  assert.doesNotThrow(() => e.fire(7));
  assert.deepEqual(got, ['first 7', 'third 7']);
  assert.equal(reported.length, 1);
  assert.match((reported[0] as Error).message, /listener bug/);
});

test('Emitter: an async listener that rejects is reported, not left unhandled', async () => {
  const reported: unknown[] = [];
  const e = new Emitter<string>((err) => reported.push(err));
  // A listener that returns a rejected promise is the case under test.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  e.event(async () => {
    throw new Error('async listener bug');
  });
  e.fire('x');
  await new Promise((r) => setImmediate(r));
  assert.equal(reported.length, 1);
  assert.match((reported[0] as Error).message, /async listener bug/);
});

test('Emitter: by default a listener error goes to console.error with its stack', (t) => {
  const lines: string[] = [];
  t.mock.method(console, 'error', (...a: unknown[]) => void lines.push(a.join(' ')));
  const e = new Emitter<number>();
  let after = 0;
  e.event(() => {
    throw new Error('default report');
  });
  e.event(() => after++);
  e.fire(1);
  assert.equal(after, 1);
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /default report/);
  assert.match(lines[0]!, /disposable\.test\.ts/, 'the stack says where the listener was');
});

test('Emitter: a reporter that throws does not make fire() throw', () => {
  const e = new Emitter<number>(() => {
    throw new Error('reporter bug');
  });
  let after = 0;
  e.event(() => {
    throw new Error('listener bug');
  });
  e.event(() => after++);
  assert.doesNotThrow(() => e.fire(1));
  assert.equal(after, 1);
});

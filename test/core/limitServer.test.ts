import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { LimitServer, LimitServerOptions } from '../../scripts/limitServer.mjs' with { 'resolution-mode': 'import' };
import { tmpDir } from '../helpers/tmp';
import { waitFor } from '../helpers/waitFor';

// This test file is CommonJS and the server plain ESM: a dynamic import loads it.
const lib = () => import('../../scripts/limitServer.mjs');
const root = path.resolve(__dirname, '../..');

async function start(opts: LimitServerOptions, t: { after: (fn: () => Promise<void>) => void }): Promise<LimitServer> {
  const srv = await (await lib()).startLimitServer({ windowMs: 1000, ...opts });
  t.after(() => srv.close());
  return srv;
}

async function call(srv: LimitServer, query = '') {
  const sent = Date.now();
  const res = await fetch(`${srv.url}/call${query}`);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, sent, got: Date.now() };
}

const burst = (srv: LimitServer, n: number) => Promise.all(Array.from({ length: n }, (_, i) => call(srv, `?unit=u${i}`)));

/** A Go duration (1s, 20ms, 1.2s, 6m0s) in ms. */
function goMs(d: string): number {
  const m = /^(\d+)ms$|^(?:(\d+)h)?(?:(\d+)m)?(?:([\d.]+)s)$/.exec(d);
  assert.ok(m, `not a Go duration: ${d}`);
  if (m[1]) return Number(m[1]);
  return Number(m[2] ?? 0) * 3_600_000 + Number(m[3] ?? 0) * 60_000 + Math.round(Number(m[4]) * 1000);
}

test('goDuration prints as Go does', async () => {
  const { goDuration } = await lib();
  const cases: [number, string][] = [
    [0, '0s'],
    [20, '20ms'],
    [1000, '1s'],
    [1200, '1.2s'],
    [360_000, '6m0s'],
    [3_723_450, '1h2m3.45s'],
  ];
  for (const [ms, s] of cases) assert.equal(goDuration(ms), s);
  for (const [ms, s] of cases) assert.equal(goMs(s), ms);
});

// On a loaded machine a burst can outlast its window: each later window then takes its 5 too.
test('sliding window: of 50 concurrent requests exactly 5 pass in a window, the next only once the oldest has left', async (t) => {
  const srv = await start({ requestsPerWindow: 5 }, t);
  const answers = await burst(srv, 50);
  const st = srv.stats();
  const [oldest, n] = [st.acceptedAt[0]!, st.ok];
  assert.equal(st.acceptedAt.filter((a) => a < oldest + 1000).length, 5);
  if (Math.max(...st.acceptedAt, ...st.limitedAt) < oldest + 1000) assert.equal(n, 5);
  assert.deepEqual([answers.filter((a) => a.status === 200).length, st.ok + st.limited], [n, 50]);
  st.acceptedAt.forEach((a, i) => i < 5 || assert.ok(a >= st.acceptedAt[i - 5]! + 1000, `request ${i} in a full window`));
  assert.ok(st.maxInWindow <= 5);
  while ((await call(srv)).status === 429) await delay(10);
  const after = srv.stats();
  assert.ok(after.acceptedAt[n]! >= after.acceptedAt[n - 5]! + 1000, 'accepted before the oldest left the window');
  assert.ok(after.maxInWindow <= 5, `maxInWindow ${after.maxInWindow}`);
  assert.equal(after.byShard['-']?.ok, n + 1);
  const body = JSON.parse(answers.find((a) => a.status === 200)!.text);
  assert.equal(body.passed, true);
  assert.match(body.unit, /^u\d+$/);
  assert.deepEqual([body.tokens, body.usage.input_tokens + body.usage.output_tokens, body.cost_usd], [1, 1, 0.000002]);
});

test('fixed window: 5 pass in a window and every refusal names its window end', async (t) => {
  const t0 = Date.now();
  const srv = await start({ requestsPerWindow: 5, mode: 'fixed', form: 'anthropic' }, t);
  const t1 = Date.now();
  const answers = await burst(srv, 50);
  const resets = answers.filter((a) => a.status === 429).map((a) => Date.parse(a.headers.get('anthropic-ratelimit-requests-reset')!));
  const end = Math.min(...resets);
  assert.ok(t0 + 1000 <= end && end <= t1 + 1000, `first window end ${end} not in [${t0 + 1000}, ${t1 + 1000}]`);
  assert.ok(resets.every((r) => (r - end) % 1000 === 0));
  const st = srv.stats();
  assert.equal(st.acceptedAt.filter((a) => a < end).length, 5);
  if (Math.max(...st.limitedAt) < end) assert.equal(answers.filter((a) => a.status === 200).length, 5);
  assert.ok(st.maxInWindow <= 5);
});

test('every form shapes its 429 and names the instant the window frees a slot', async (t) => {
  const { LIMIT_FORMS } = await lib();
  for (const form of LIMIT_FORMS) {
    const srv = await start({ requestsPerWindow: 1, tokensPerWindow: 1000, form }, t);
    assert.equal((await call(srv)).status, 200);
    const lim = await call(srv);
    assert.equal(lim.status, 429, form);
    const expected = srv.stats().acceptedAt[0]! + 1000;
    assert.ok(expected > lim.got, 'the test ran within the window');
    const h = (name: string) => lim.headers.get(name) ?? assert.fail(`${form}: no ${name} header`);
    /** The hinted instant, known to be in [lo, hi], must be the true one. */
    const within = (lo: number, hi: number) => assert.ok(lo <= expected && expected <= hi, `${form}: ${expected} not in [${lo}, ${hi}]`);
    const body = form.startsWith('retry-after') || form === 'none' ? lim.text : JSON.parse(lim.text);
    switch (form) {
      case 'openai': {
        assert.deepEqual(
          ['1', '0', '1000', '999'],
          ['limit-requests', 'remaining-requests', 'limit-tokens', 'remaining-tokens'].map((k) => h(`x-ratelimit-${k}`)),
        );
        const d = goMs(h('x-ratelimit-reset-requests'));
        within(lim.sent + d, lim.got + d);
        assert.equal(h('retry-after'), '1');
        assert.equal(body.error.code, 'rate_limit_exceeded');
        assert.equal(body.error.type, 'requests');
        assert.match(body.error.message, /^Rate limit reached for requests .* Please try again in (\d+ms|[\d.]+s)\.$/);
        break;
      }
      case 'anthropic':
        assert.equal(h('anthropic-ratelimit-requests-remaining'), '0');
        assert.match(h('anthropic-ratelimit-requests-reset'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        within(Date.parse(h('anthropic-ratelimit-requests-reset')), Date.parse(h('anthropic-ratelimit-requests-reset')));
        assert.equal(h('retry-after'), '1');
        assert.equal(body.type, 'error');
        assert.equal(body.error.type, 'rate_limit_error');
        break;
      case 'retry-after-seconds': {
        const secs = Number(h('retry-after'));
        within(lim.sent + (secs - 1) * 1000, lim.got + secs * 1000);
        break;
      }
      case 'retry-after-date': {
        const at = Date.parse(h('retry-after'));
        assert.equal(new Date(at).toUTCString(), h('retry-after'));
        within(at - 999, at);
        break;
      }
      case 'retry-after-ms': {
        const ms = Number(h('retry-after-ms'));
        within(lim.sent + ms, lim.got + ms);
        break;
      }
      case 'gemini': {
        assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
        const info = body.error.details.find((x: { '@type': string }) => x['@type'].endsWith('google.rpc.RetryInfo'));
        assert.match(info.retryDelay, /^\d+(\.\d{3})?s$/);
        const ms = Math.round(parseFloat(info.retryDelay) * 1000);
        within(lim.sent + ms, lim.got + ms);
        break;
      }
      case 'none':
        assert.deepEqual(
          [...lim.headers.keys()].filter((k) => /retry|ratelimit/.test(k)),
          [],
        );
        assert.doesNotMatch(body, /\d/);
        break;
    }
    if (form !== 'openai' && form !== 'anthropic') assert.equal(lim.headers.get('x-ratelimit-reset-requests'), null);
    await srv.close();
  }
});

test('the token window counts the tokens of accepted requests', async (t) => {
  const srv = await start({ tokensPerWindow: 100 }, t);
  assert.equal((await call(srv, '?tokens=60')).status, 200);
  const lim = await call(srv, '?tokens=60');
  assert.equal(lim.status, 429);
  assert.equal(JSON.parse(lim.text).error.type, 'tokens');
  assert.equal(lim.headers.get('x-ratelimit-remaining-tokens'), '40');
  assert.equal(lim.headers.get('x-ratelimit-limit-requests'), null, 'no request limit, no request headers');
  const d = goMs(lim.headers.get('x-ratelimit-reset-tokens')!);
  const expected = srv.stats().acceptedAt[0]! + 1000;
  assert.ok(lim.sent + d <= expected && expected <= lim.got + d);
  const ok = await call(srv, '?tokens=40');
  assert.equal(ok.status, 200);
  const body = JSON.parse(ok.text);
  assert.deepEqual([body.tokens, body.usage.input_tokens + body.usage.output_tokens, body.cost_usd], [40, 40, 40 * 0.000002]);
  assert.equal((await call(srv, '?tokens=1')).status, 429);
  assert.equal((await call(srv, '?tokens=0')).status, 200);
  assert.equal((await call(srv, '?tokens=-1')).status, 400);
  assert.deepEqual([srv.stats().tokensAccepted, srv.stats().ok, srv.stats().limited], [100, 3, 2]);
  srv.reset();
  assert.deepEqual([srv.stats().ok, srv.stats().acceptedAt], [0, []]);
  assert.equal((await call(srv, '?tokens=100')).status, 200);
});

test('quota: every request is refused insufficient_quota until cleared', async (t) => {
  const srv = await start({ quota: {} }, t);
  const q = await call(srv);
  assert.equal(q.status, 429);
  assert.equal(JSON.parse(q.text).error.code, 'insufficient_quota');
  assert.match(JSON.parse(q.text).error.message, /^You exceeded your current quota, please check your plan and billing details/);
  assert.equal(q.headers.get('retry-after'), null);
  srv.setQuota(null);
  assert.equal((await call(srv)).status, 200);
  srv.setQuota({ message: 'out of credit' });
  assert.equal(JSON.parse((await call(srv)).text).error.message, 'out of credit');
  srv.setQuota({ resetAt: new Date(Date.now() - 1) });
  assert.equal((await call(srv)).status, 200, 'a quota past its resetAt is cleared');
  assert.deepEqual([srv.stats().ok, srv.stats().limited, srv.stats().quotaLimited], [2, 2, 2]);
});

test('close() drops pending answers and keep-alive sockets; a forgotten server closes itself', async (t) => {
  const srv = await start({ latencyMs: 60_000 }, t);
  const agent = new http.Agent({ keepAlive: true });
  await new Promise((resolve) => http.get(`${srv.url}/stats`, { agent }, (r) => r.resume().on('end', resolve)));
  const slow = fetch(`${srv.url}/call`).then(
    () => 'answered',
    () => 'dropped',
  );
  await waitFor('the slow request to arrive', () => srv.stats().ok === 1);
  await srv.close();
  assert.equal(await slow, 'dropped');
  await assert.rejects(fetch(`${srv.url}/call`));
  await srv.close();
  agent.destroy();

  const forgotten = await start({ maxLifetimeMs: 50 }, t);
  while (
    await fetch(`${forgotten.url}/stats`).then(
      () => true,
      () => false,
    )
  )
    await delay(20);
});

function client(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['scripts/limitClient.mjs', ...args], { cwd: root, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the client writes a 200 to its result file, shows a 429 as curl -i does, exits 3 with no server', async (t) => {
  const dir = tmpDir();
  const srv = await start({ requestsPerWindow: 1, windowMs: 60_000 }, t); // a slow node start cannot reach the next window
  const env = { RESUMABLE_UNIT_ID: 'item-1', RESUMABLE_SHARD: '1of2', RESUMABLE_RESULT_FILE: path.join(dir, 'u', 'result.json') };
  const ok = await client([srv.url, '7'], env);
  assert.equal(ok.code, 0, ok.stderr);
  const result = JSON.parse(fs.readFileSync(env.RESUMABLE_RESULT_FILE, 'utf8'));
  assert.deepEqual([result.passed, result.unit, result.tokens], [true, 'item-1', 7]);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'u')), ['result.json']);

  const lim = await client([srv.url], { ...env, RESUMABLE_RESULT_FILE: path.join(dir, 'second.json') });
  assert.equal(lim.code, 1);
  assert.match(lim.stderr, /^HTTP\/1\.1 429 Too Many Requests\n/);
  assert.match(lim.stderr, /^retry-after: \d+$/m);
  assert.match(lim.stderr, /\n\n\{"error":\{"message":"Rate limit reached/);
  assert.equal(fs.existsSync(path.join(dir, 'second.json')), false);
  assert.deepEqual(srv.stats().byShard, { '1of2': { ok: 1, limited: 1 } });

  await srv.close();
  const gone = await client([srv.url], env);
  assert.equal(gone.code, 3);
  assert.match(gone.stderr, /fetch failed.*ECONNREFUSED/);
});

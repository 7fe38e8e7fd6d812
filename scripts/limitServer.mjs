// @ts-check
// A real rate-limited HTTP server on 127.0.0.1, for tests and benchmarks: it answers
// GET /call?tokens=N&unit=ID&shard=S with 200 or a 429 shaped like a real provider's
// (`form`), and counts what it accepted so a test can prove the limit held. Types: limitServer.d.mts.
import * as http from 'node:http';

/** @typedef {import('./limitServer.d.mts').LimitServerOptions} Options */
/** @typedef {import('./limitServer.d.mts').LimitServer} LimitServer */
/** @typedef {import('./limitServer.d.mts').LimitStats} LimitStats */
/** @typedef {import('./limitServer.d.mts').Quota} Quota */
/** @typedef {{ kind: 'requests' | 'tokens', retryAt: number, reqResetAt: number, tokResetAt: number, used: number, usedTokens: number }} Refusal */

/** @type {readonly import('./limitServer.d.mts').LimitForm[]} */
export const LIMIT_FORMS = ['openai', 'anthropic', 'retry-after-seconds', 'retry-after-date', 'retry-after-ms', 'gemini', 'none'];

const QUOTA_MESSAGE =
  'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.';

/** Go's time.Duration.String() of whole milliseconds: 20ms, 1s, 1.2s, 6m0s, 1h0m0s. */
export function goDuration(/** @type {number} */ ms) {
  ms = Math.max(0, Math.ceil(ms));
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${((ms % 60_000) / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
  return h ? `${h}h${m}m${s}` : m ? `${m}m${s}` : s;
}

/** @param {Options} [opts] @returns {Promise<LimitServer>} */
export async function startLimitServer(opts = {}) {
  const rpw = opts.requestsPerWindow ?? Infinity;
  const tpw = opts.tokensPerWindow ?? Infinity;
  const windowMs = opts.windowMs ?? 60_000;
  const mode = opts.mode ?? 'sliding';
  const latencyMs = opts.latencyMs ?? 0;
  const form = opts.form ?? 'openai';
  if (!(windowMs > 0)) throw new Error(`windowMs must be > 0, got ${windowMs}`);
  if (mode !== 'sliding' && mode !== 'fixed') throw new Error(`mode must be sliding or fixed, got ${String(mode)}`);
  if (!LIMIT_FORMS.includes(form)) throw new Error(`form must be one of ${LIMIT_FORMS.join(', ')}, got ${String(form)}`);

  let last = 0;
  const now = () => (last = Math.max(last, Date.now())); // never backwards: acceptedAt stays sorted
  /** The accepted requests the current window still counts. @type {{ at: number, tokens: number }[]} */
  let log = [];
  let logTokens = 0;
  let fixedStart = now();
  /** @type {{ message?: string, resetAt?: number } | undefined} */
  let quota;
  const setQuota = (/** @type {Quota | null | undefined} */ q) => {
    quota = q ? { message: q.message, resetAt: q.resetAt === undefined ? undefined : +q.resetAt } : undefined;
  };
  setQuota(opts.quota);
  /** @returns {Omit<LimitStats, 'byShard'>} */
  const fresh = () => ({ ok: 0, limited: 0, quotaLimited: 0, acceptedAt: [], limitedAt: [], tokensAccepted: 0, maxInWindow: 0 });
  let s = fresh();
  /** @type {Map<string, { ok: number, limited: number }>} */
  let byShard = new Map();

  /** Drops from the log what the window no longer counts. */
  function roll(/** @type {number} */ t) {
    if (mode === 'fixed') {
      if (t < fixedStart + windowMs) return;
      fixedStart += Math.floor((t - fixedStart) / windowMs) * windowMs;
      log = [];
      logTokens = 0;
    } else while (log[0] && log[0].at + windowMs <= t) logTokens -= /** @type {{ tokens: number }} */ (log.shift()).tokens;
  }

  /** Accepts (undefined) or says why not and when each kind of slot frees. @returns {Refusal | undefined} */
  function admit(/** @type {number} */ tokens, /** @type {number} */ t) {
    roll(t);
    const used = log.length;
    const reqOver = used + 1 > rpw;
    const tokOver = logTokens + tokens > tpw;
    if (!reqOver && !tokOver) {
      log.push({ at: t, tokens });
      logTokens += tokens;
      return undefined;
    }
    // When a slot frees: the window's end, or when the entry that makes it full leaves.
    const end = fixedStart + windowMs;
    const leaves = (/** @type {number} */ i) => (log[i] ? log[i].at + windowMs : t);
    const reqResetAt = mode === 'fixed' ? end : leaves(Math.max(0, used - rpw));
    let tokResetAt = mode === 'fixed' ? end : leaves(0);
    if (tokOver && mode === 'sliding') {
      // The instant enough of the oldest tokens leave for this request to fit (never, if it alone is over).
      tokResetAt = t + windowMs;
      let left = logTokens;
      for (const e of log) {
        left -= e.tokens;
        if (left + tokens <= tpw) {
          tokResetAt = e.at + windowMs;
          break;
        }
      }
    }
    const retryAt = Math.max(reqOver ? reqResetAt : t, tokOver ? tokResetAt : t);
    return { kind: reqOver ? 'requests' : 'tokens', retryAt, reqResetAt, tokResetAt, used, usedTokens: logTokens };
  }

  /** Accepted requests in the window ending at `t`, counted afresh from acceptedAt (not from the log). */
  function inWindow(/** @type {number} */ t) {
    const from = mode === 'fixed' ? fixedStart : t - windowMs + 1;
    let lo = 0;
    let hi = s.acceptedAt.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((s.acceptedAt[mid] ?? from) < from) lo = mid + 1;
      else hi = mid;
    }
    return s.acceptedAt.length - lo;
  }

  /** The 429's headers and body in the provider's shape. @returns {[Record<string, string>, unknown]} */
  function limitedAnswer(/** @type {Refusal} */ d, /** @type {number} */ t, /** @type {number} */ tokens) {
    const wait = d.retryAt - t;
    const secs = String(Math.max(1, Math.ceil(wait / 1000)));
    const [limit, used] = d.kind === 'requests' ? [rpw, d.used] : [tpw, d.usedTokens];
    const what = `${d.kind} per ${goDuration(windowMs)}`;
    let message = `Rate limit reached for ${d.kind} in organization org-limitserver on ${what}: Limit ${limit}, Used ${used}, Requested ${d.kind === 'requests' ? 1 : tokens}. Please try again in ${goDuration(wait)}.`;
    /** @type {Record<string, string>} */
    const h = {};
    const dims = /** @type {const} */ ([
      ['requests', rpw, rpw - d.used, d.reqResetAt],
      ['tokens', tpw, tpw - d.usedTokens, d.tokResetAt],
    ]);
    switch (form) {
      case 'openai':
        for (const [k, lim, rem, at] of dims) {
          if (lim === Infinity) continue;
          h[`x-ratelimit-limit-${k}`] = String(lim);
          h[`x-ratelimit-remaining-${k}`] = String(Math.max(0, rem));
          h[`x-ratelimit-reset-${k}`] = goDuration(at - t);
        }
        h['retry-after'] = secs;
        return [h, { error: { message, type: d.kind, param: null, code: 'rate_limit_exceeded' } }];
      case 'anthropic':
        for (const [k, lim, rem, at] of dims) {
          if (lim === Infinity) continue;
          h[`anthropic-ratelimit-${k}-limit`] = String(lim);
          h[`anthropic-ratelimit-${k}-remaining`] = String(Math.max(0, rem));
          h[`anthropic-ratelimit-${k}-reset`] = new Date(at).toISOString();
        }
        h['retry-after'] = secs;
        message = `This request would exceed the rate limit for ${what}. ${message}`;
        return [h, { type: 'error', error: { type: 'rate_limit_error', message } }];
      case 'retry-after-seconds':
        return [{ 'retry-after': secs }, 'Too Many Requests\n'];
      case 'retry-after-date': // HTTP-dates have whole seconds: rounded up, never early
        return [{ 'retry-after': new Date(Math.ceil(d.retryAt / 1000) * 1000).toUTCString() }, 'Too Many Requests\n'];
      case 'retry-after-ms':
        return [{ 'retry-after-ms': String(Math.ceil(wait)) }, 'Too Many Requests\n'];
      case 'gemini': {
        const delay = wait % 1000 === 0 ? `${wait / 1000}s` : `${(wait / 1000).toFixed(3)}s`;
        const details = [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: delay }];
        message = `Resource has been exhausted (e.g. check quota). ${message}`;
        return [{}, { error: { code: 429, message, status: 'RESOURCE_EXHAUSTED', details } }];
      }
      default:
        return [{}, 'Too Many Requests\n'];
    }
  }

  /** @type {Set<NodeJS.Timeout>} */
  const pending = new Set();
  /** @param {http.ServerResponse} res @param {number} status @param {Record<string, string>} headers @param {unknown} body */
  function send(res, status, headers, body, delay = latencyMs) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
    const go = () =>
      void (
        res.destroyed ||
        res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(text)), ...headers }).end(text)
      );
    if (delay <= 0) return go();
    const timer = setTimeout(() => {
      pending.delete(timer);
      go();
    }, delay);
    pending.add(timer);
  }

  function stats() {
    return {
      ...s,
      acceptedAt: [...s.acceptedAt],
      limitedAt: [...s.limitedAt],
      byShard: Object.fromEntries([...byShard].map(([k, v]) => [k, { ...v }])),
    };
  }

  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (u.pathname === '/stats') return send(res, 200, {}, stats(), 0);
    if (u.pathname !== '/call') return send(res, 404, {}, 'Not Found\n', 0);
    const tokens = Number(u.searchParams.get('tokens') ?? 1);
    if (!Number.isInteger(tokens) || tokens < 0)
      return send(res, 400, {}, `tokens must be a whole number ≥ 0, got ${u.searchParams.get('tokens')}\n`, 0);
    const unit = u.searchParams.get('unit');
    const shard = u.searchParams.get('shard') ?? '-';
    const by = byShard.get(shard) ?? { ok: 0, limited: 0 };
    byShard.set(shard, by);
    const t = now();
    if (quota?.resetAt !== undefined && t >= quota.resetAt) quota = undefined;
    const refusal = quota ? undefined : admit(tokens, t);
    if (quota || refusal) {
      s.limited++;
      by.limited++;
      s.limitedAt.push(t);
      if (quota) {
        s.quotaLimited++;
        const error = { message: quota.message ?? QUOTA_MESSAGE, type: 'insufficient_quota', param: null, code: 'insufficient_quota' };
        return send(res, 429, {}, { error });
      }
      return send(res, 429, ...limitedAnswer(/** @type {Refusal} */ (refusal), t, tokens));
    }
    s.ok++;
    by.ok++;
    s.acceptedAt.push(t);
    s.tokensAccepted += tokens;
    s.maxInWindow = Math.max(s.maxInWindow, inWindow(t));
    const usage = { input_tokens: tokens - Math.floor(tokens / 4), output_tokens: Math.floor(tokens / 4) };
    send(res, 200, {}, { passed: true, unit, usage, tokens, cost_usd: tokens * 0.000002 });
  });

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(undefined));
  });
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;

  /** @type {Promise<void> | undefined} */
  let closing;
  const close = () =>
    (closing ??= new Promise((resolve) => {
      clearTimeout(lifetime);
      for (const t of pending) clearTimeout(t);
      pending.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    }));
  const maxLifetimeMs = opts.maxLifetimeMs ?? 600_000;
  const lifetime = setTimeout(() => {
    process.stderr.write(`limitServer on port ${port}: closed itself after maxLifetimeMs (${maxLifetimeMs} ms)\n`);
    void close();
  }, maxLifetimeMs).unref();

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stats,
    reset() {
      s = fresh();
      byShard = new Map();
      log = [];
      logTokens = 0;
      fixedStart = now();
    },
    setQuota,
    close,
  };
}

/* global require, module, setInterval */
/* eslint-disable @typescript-eslint/no-require-imports */
// The worker side of Resumable's worker protocol (version 1). Node built-ins only.
//
// A worker is a long-lived process that loads what it needs once (a model, a client, a data
// set) and then runs many units, one JSON line per unit on stdin, one JSON answer line per unit
// on stdout. This module speaks the protocol; you write the function that runs one unit:
//
//   const { serve, RateLimitError } = require(process.env.RESUMABLE_NODE_WORKER);
//   const client = makeClient(); // once per worker process
//   serve(async (u) => {
//     const answer = await client.ask(u.item.question, { model: u.matrix.model });
//     return { passed: answer === u.item.expected, answer };
//   });
//
// The handler returns the result object, a boolean (shorthand for { passed }), or undefined
// when it wrote u.resultFile itself. Throwing RateLimitError (or any error with status 429)
// makes the runner wait and run the unit again; any other error is retried as an error.
// console.log and process.stdout.write go to stderr (the unit's log): protocol lines use a
// private reference to the real stdout. Node cannot move file descriptors, so a child process
// started with stdio 'inherit' would share the protocol's stdin and stdout: start it with
// stdio ['ignore', 2, 2] (or 'pipe') instead.
'use strict';

const fs = require('node:fs');
const util = require('node:util');

/** The protocol version this module speaks (sent in the `ready` line). */
const PROTOCOL = 1;
/** The runner refuses longer lines (a result that big is written to `resultFile` instead). */
const MAX_LINE_BYTES = 8 * 1024 * 1024;

const MESSAGE_MAX = 4000;
const TRACEBACK_MAX = 20000;
const HEADERS_MAX = 100;
const HEADER_VALUE_MAX = 2000;
/** Marks a RateLimitError even when two copies of this module are loaded. */
const RATE_LIMIT = Symbol.for('resumable.worker.rateLimit');

/**
 * Throw from a handler when the service said "too many requests".
 * `resetAt`: when the limit resets (epoch ms, a Date, or text such as an HTTP date);
 * `retryAfterSeconds`: how long to wait; `headers`: the response's headers, if you have them;
 * `usage`: what the failed call cost.
 */
class RateLimitError extends Error {
  /**
   * @param {string} [message]
   * @param {{ resetAt?: number | Date | string, retryAfterSeconds?: number, headers?: unknown, usage?: Record<string, unknown>, cause?: unknown }} [options]
   */
  constructor(message = 'rate limited', options = {}) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'RateLimitError';
    this.resetAt = options.resetAt;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers;
    this.usage = options.usage;
    Object.defineProperty(this, RATE_LIMIT, { value: true });
  }
}

/** One attempt of one unit, as the runner sent it. */
class Unit {
  /** @param {Record<string, any>} raw */
  constructor(raw) {
    this.id = raw.id;
    this.itemId = raw.itemId;
    this.item = raw.item ?? {};
    this.matrix = raw.matrix ?? {};
    this.repeat = raw.repeat ?? 1;
    this.seed = raw.seed;
    this.attempt = raw.attempt ?? 1;
    this.unitDir = raw.unitDir;
    this.resultFile = raw.resultFile;
    /** Epoch ms when the unit's time is up, or null. */
    this.deadline = typeof raw.deadline === 'number' ? raw.deadline : null;
    this.raw = raw;
  }

  /** Milliseconds left before the deadline (may be negative), or null without one. */
  remainingMs() {
    return this.deadline === null ? null : this.deadline - Date.now();
  }
}

// ------------------------------------------------------------------------------ the channel

/** @type {((line: string, cb?: () => void) => boolean) | null} */
let protoWrite = null;
let watching = false;
let started = false;

function note(text) {
  process.stderr.write(`[resumable-worker] ${text}\n`);
}

/** Keeps the real stdout for protocol lines and sends everything else written there to stderr. */
function secureChannel() {
  if (protoWrite) return;
  const out = process.stdout;
  protoWrite = out.write.bind(out);
  out.on('error', () => process.exit(1)); // EPIPE: the runner is gone
  out.write = /** @type {typeof out.write} */ (
    function (chunk, encoding, cb) {
      return process.stderr.write(chunk, encoding, cb);
    }
  );
}

/** Exits (1) as soon as the runner is gone, even while a unit is busy (an unref'd timer). */
function watchParent() {
  if (watching) return;
  watching = true;
  const ppid = process.ppid;
  setInterval(() => {
    if (process.ppid !== ppid) process.exit(1);
  }, 500).unref();
}

function send(line) {
  protoWrite(line);
}

// ------------------------------------------------------------------------------ answers

function finiteNumber(v) {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The usage object as the runner accepts it (costUSD and tokens: finite numbers ≥ 0). */
function cleanUsage(usage) {
  if (usage === null || typeof usage !== 'object' || Array.isArray(usage)) return undefined;
  const out = {};
  for (const [k, v] of Object.entries(usage)) {
    if ((k === 'costUSD' || k === 'tokens') && !(finiteNumber(v) && v >= 0)) continue;
    out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function cleanHeaders(h) {
  if (h === null || typeof h !== 'object') return undefined;
  const out = {};
  let n = 0;
  const add = (v, k) => {
    if (n >= HEADERS_MAX) return;
    out[String(k).toLowerCase()] = String(v).slice(0, HEADER_VALUE_MAX);
    n++;
  };
  try {
    if (typeof h.forEach === 'function' && typeof h.get === 'function')
      h.forEach(add); // Headers, Map
    else for (const [k, v] of Object.entries(h)) if (v !== undefined) add(Array.isArray(v) ? v.join(', ') : v, k);
  } catch {
    return undefined;
  }
  return n > 0 ? out : undefined;
}

function errorName(e) {
  const n = typeof e.name === 'string' ? e.name : '';
  const c = e.constructor && typeof e.constructor.name === 'string' ? e.constructor.name : '';
  if (n && n !== 'Error') return n;
  return c && c !== 'Object' ? c : n || 'Error';
}

function describe(e) {
  let text;
  if (e instanceof Error || (e !== null && typeof e === 'object' && 'message' in e)) text = `${errorName(e)}: ${String(e.message)}`;
  else text = `Error: ${typeof e === 'string' ? e : util.inspect(e, { depth: 2 })}`;
  return text.slice(0, MESSAGE_MAX);
}

function isRateLimit(e) {
  if (e === null || typeof e !== 'object') return false;
  return e[RATE_LIMIT] === true || e.status === 429 || e.statusCode === 429;
}

function line(msg) {
  return JSON.stringify(msg) + '\n';
}

function resultLine(id, value, u) {
  if (value === undefined || value === null) return line({ type: 'result', id });
  if (typeof value === 'boolean') return line({ type: 'result', id, result: { passed: value } });
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(
      `the handler returned ${Array.isArray(value) ? 'an array' : typeof value}; return an object, a boolean or undefined`,
    );
  }
  const msg = { type: 'result', id, result: value };
  const usage = 'usage' in value ? cleanUsage(value.usage) : undefined;
  if (usage) msg.usage = usage;
  const text = line(msg);
  if (text.length * 3 < MAX_LINE_BYTES || Buffer.byteLength(text) <= MAX_LINE_BYTES) return text;
  // Too long for a protocol line: write the result file here and say so.
  if (!u.resultFile) throw new RangeError(`the result is ${Buffer.byteLength(text)} bytes as JSON, more than a protocol line may carry`);
  const tmp = `${u.resultFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(value));
  fs.renameSync(tmp, u.resultFile);
  delete msg.result;
  return line(msg);
}

function exceptionLine(id, e) {
  try {
    if (isRateLimit(e)) {
      const own = e[RATE_LIMIT] === true;
      const msg = { type: 'rate_limited', id, message: own ? String(e.message).slice(0, MESSAGE_MAX) : describe(e) };
      let reset = own ? e.resetAt : undefined;
      if (reset instanceof Date) reset = reset.getTime();
      if (finiteNumber(reset) || (typeof reset === 'string' && reset !== '')) msg.resetAt = reset;
      const after = own ? e.retryAfterSeconds : undefined;
      if (finiteNumber(after)) msg.retryAfterSeconds = Math.max(0, after);
      const headers = cleanHeaders(e.headers ?? (e.response && typeof e.response === 'object' ? e.response.headers : undefined));
      if (headers) msg.headers = headers;
      const usage = own ? cleanUsage(e.usage) : undefined;
      if (usage) msg.usage = usage;
      note(`unit ${id}: ${msg.message}`);
      return line(msg);
    }
  } catch (inner) {
    e = inner; // a strange error object must not stop the answer
  }
  const stack = e instanceof Error && typeof e.stack === 'string' ? e.stack : describe(e);
  note(`unit ${id} failed:\n${stack}`);
  return line({ type: 'error', id, message: describe(e), traceback: stack.slice(-TRACEBACK_MAX) });
}

async function runOne(handler, raw) {
  try {
    const u = new Unit(raw);
    return resultLine(raw.id, await handler(u), u);
  } catch (e) {
    return exceptionLine(raw.id, e);
  }
}

function parse(text) {
  if (text.trim() === '') return undefined;
  let raw;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    note(`ignoring a line that is not JSON (${e.message}): ${JSON.stringify(text.slice(0, 200))}`);
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    note(`ignoring a line that is not a JSON object: ${JSON.stringify(text.slice(0, 200))}`);
    return undefined;
  }
  const type = raw.type ?? 'unit';
  if (type !== 'unit') {
    note(`ignoring a message of type ${JSON.stringify(type)}`);
    return undefined;
  }
  if (typeof raw.id !== 'string' || raw.id === '') {
    note(`ignoring a unit without an id: ${JSON.stringify(text.slice(0, 200))}`);
    return undefined;
  }
  return raw;
}

function perWorker() {
  const n = Number.parseInt(process.env.RESUMABLE_PER_WORKER ?? '1', 10);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

/**
 * Runs units until the runner closes stdin. Resolves when stdin has ended and the units in
 * flight are answered; then the process exits (code 0) unless `options.exit` is false: at once
 * if nothing else keeps it alive, else after a second.
 *
 * @param {(u: Unit) => unknown} handler
 * @param {{ concurrency?: number, exit?: boolean }} [options]
 * @returns {Promise<void>}
 */
function serve(handler, options = {}) {
  if (typeof handler !== 'function') throw new TypeError('serve() needs a function: serve(async (u) => ({ passed: true }))');
  if (started) throw new Error('serve() was already called in this process');
  started = true;
  secureChannel();
  watchParent();
  const limit = Math.max(1, Math.floor(options.concurrency ?? perWorker()));

  return new Promise((resolve) => {
    const queue = [];
    let active = 0;
    let ended = false;
    let finished = false;

    const pump = () => {
      while (active < limit && queue.length > 0) {
        active++;
        void runOne(handler, queue.shift()).then((answer) => {
          send(answer);
          active--;
          pump();
        });
      }
      if (ended && active === 0 && queue.length === 0 && !finished) {
        finished = true;
        protoWrite('', () => {
          resolve();
          if (options.exit !== false) setTimeout(() => process.exit(), 1000).unref();
        });
      }
    };

    const onLine = (text) => {
      const raw = parse(text);
      if (raw) queue.push(raw);
    };

    let buf = '';
    const stdin = process.stdin;
    stdin.setEncoding('utf8');
    stdin.on('data', (chunk) => {
      buf += chunk;
      let start = 0;
      let i;
      while ((i = buf.indexOf('\n', start)) !== -1) {
        onLine(buf.slice(start, i));
        start = i + 1;
      }
      if (start > 0) buf = buf.slice(start);
      pump();
    });
    const end = () => {
      if (ended) return;
      if (buf !== '') onLine(buf);
      buf = '';
      ended = true;
      pump();
    };
    stdin.on('end', end);
    stdin.on('error', end);

    send(line({ type: 'ready', protocol: PROTOCOL }));
  });
}

// Inside a worker, take the channel and watch the runner from the require on: output printed
// while the worker loads already goes to the log, and a runner that dies meanwhile ends it.
if (process.env.RESUMABLE_WORKER_PROTOCOL) {
  secureChannel();
  watchParent();
}

module.exports = { serve, RateLimitError, Unit, PROTOCOL, MAX_LINE_BYTES };

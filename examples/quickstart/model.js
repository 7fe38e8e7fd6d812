#!/usr/bin/env node
// Stands in for a model API behind a flaky, rate-limited endpoint. Deterministic per unit
// seed and attempt, so a resumed run reproduces the same answers.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const arg = (name) => process.argv[process.argv.indexOf(name) + 1];
const question = arg('--question');
const model = arg('--model');
const out = arg('--out');
const seed = Number(process.env.DEMO_SEED);
const attempt = Number(process.env.RESUMABLE_ATTEMPT);

// A tiny seeded PRNG (mulberry32): the same unit and attempt behave the same way every time.
function rng(s) {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(seed * 31 + attempt);
const latency = 40 + Math.floor(rand() * 210);

// The API answers exactly one request of the whole demo with a 429 and "retry-after: 4".
const apiState = path.join(__dirname, '.demo-api');
function rateLimitedOnce() {
  if (process.env.RESUMABLE_ITEM_ID !== 'q-060') return false;
  fs.mkdirSync(apiState, { recursive: true });
  try {
    fs.writeFileSync(path.join(apiState, 'rate-limited'), String(Date.now()), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

setTimeout(() => {
  if (rateLimitedOnce()) {
    console.error('HTTP 429 Too Many Requests: rate limit exceeded; retry-after: 4');
    process.exit(75);
  }
  if (rand() < 0.04) {
    console.error('HTTP 502 Bad Gateway (upstream hiccup)');
    process.exit(1);
  }
  const [a, b] = question.split('+').map(Number);
  const wrong = rand() < (model === 'careful' ? 0.05 : 0.3);
  const answer = wrong ? a + b + 1 + Math.floor(rand() * 9) : a + b;
  console.log(`${model}: ${question} = ${answer}`);
  fs.writeFileSync(path.join(out, 'result.json'), JSON.stringify({ question, model, answer, correct: answer === a + b }) + '\n');
}, latency);

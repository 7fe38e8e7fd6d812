// Goodput under a rate limit: units that each make one request to a real local server that
// allows L requests a second (sliding window, 429 with OpenAI-style headers and body). The
// engine's adaptive run vs the same run at fixed concurrency (rateLimit.adaptive: false), and
// three shards of one run against the same server.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { core, fmt, inChild, root, table, tmp } from './lib.mjs';

const CLIENT = path.join(root, 'scripts', 'limitClient.mjs');
const CONCURRENCY = 16;
const LATENCY_MS = 200;

function experiment(dir, url, ids, adaptive) {
  fs.writeFileSync(path.join(dir, 'items.jsonl'), ids.map((id) => `{"id":"${id}"}`).join('\n') + '\n');
  const file = path.join(dir, 'e.experiment.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      name: 'goodput',
      items: { file: 'items.jsonl' },
      run: { command: [process.execPath, CLIENT, url, '10'] },
      concurrency: CONCURRENCY,
      rateLimit: { adaptive, maxWaitSeconds: 600 },
    }),
  );
  return file;
}

/** Goodput / L over the accepted requests after the first 10% (the warm-up), and the share answered 429. */
function measure(stats, limit) {
  const at = stats.acceptedAt;
  const from = Math.floor(at.length / 10);
  const span = (at[at.length - 1] - at[from]) / 1000;
  return {
    goodput: span > 0 ? (at.length - 1 - from) / span / limit : 0,
    share429: stats.limited / (stats.ok + stats.limited),
    ok: stats.ok,
    limited: stats.limited,
  };
}

export async function child(kind, { n, limit, shards }) {
  const { startLimitServer } = await import(path.join(root, 'scripts', 'limitServer.mjs'));
  const server = await startLimitServer({ requestsPerWindow: limit, windowMs: 1000, latencyMs: LATENCY_MS, form: 'openai' });
  const dir = tmp('goodput');
  try {
    const { Run } = await core();
    const ids = Array.from({ length: n }, (_, i) => `u${String(i).padStart(6, '0')}`);
    const file = experiment(dir, server.url, ids, kind !== 'fixed');
    const t0 = performance.now();
    const runs =
      shards > 1
        ? Array.from({ length: shards }, (_, i) => new Run({ experiment: file, shard: { k: i + 1, n: shards } }))
        : [new Run({ experiment: file })];
    const summaries = await Promise.all(runs.map((r) => r.run()));
    const passed = summaries.reduce((s, x) => s + x.counts.passed, 0);
    if (passed !== n) throw new Error(`${kind}: ${passed} of ${n} passed`);
    return { ms: performance.now() - t0, ...measure(server.stats(), limit) };
  } finally {
    await server.close();
    if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
    else console.error(dir);
  }
}

export function run({ quick, log }) {
  // Each unit is a node process (~85 ms of CPU to start here): 10 a second leave the 2 cores
  // of the benchmark machine to the engine and the server, so the limit, not the CPU, binds.
  const n = quick ? 40 : 1000;
  const limit = 10;
  const rows = [];
  const results = [];
  for (const [label, kind, shards] of [
    ['engine, adaptive (default)', 'adaptive', 1],
    [`fixed concurrency ${CONCURRENCY} (adaptive: false)`, 'fixed', 1],
    ['engine, 3 shards of one run', 'adaptive', 3],
  ]) {
    const r = inChild('goodput', kind, { n, limit, shards });
    results.push({ label, n, limit, shards, ...r });
    log(`goodput: ${label}: ${fmt.pct(r.goodput)} of the limit, ${fmt.pct(r.share429)} answered 429, ${fmt.ms(r.ms)}`);
    const adaptive = kind === 'adaptive';
    rows.push([
      label,
      n.toLocaleString('en-US'),
      fmt.ms(r.ms),
      `${fmt.pct(r.goodput)}${adaptive ? (r.goodput >= 0.9 ? ' (met)' : ' (missed)') : ''}`,
      `${fmt.pct(r.share429)} (${r.limited} of ${r.ok + r.limited})${adaptive ? (r.share429 <= 0.05 ? ' (met)' : ' (missed)') : ''}`,
    ]);
  }
  const md = [
    '## Goodput under a rate limit',
    '',
    `Each unit runs \`node scripts/limitClient.mjs\`: one request to a real HTTP server on 127.0.0.1 (scripts/limitServer.mjs) that accepts ${limit} requests in any second, answers after ${LATENCY_MS} ms, and refuses the rest with 429, \`retry-after\`, \`x-ratelimit-reset-requests\` and an OpenAI "Please try again in …" body. No rateLimit patterns: the standard signals and hints only. Concurrency ${CONCURRENCY}. Goodput: accepted requests a second after the first 10% (the warm-up), over the limit; goals ≥ 90% and ≤ 5% of requests answered 429. One run each.`,
    '',
    table(['run', 'units', 'time', 'goodput / limit', 'answered 429'], rows),
  ].join('\n');
  return { md, results };
}

// @ts-check
/* global AbortSignal */
// The unit command for scripts/limitServer.mjs: node scripts/limitClient.mjs <url> [tokens]
// 200: writes the body to $RESUMABLE_RESULT_FILE (write, then rename; stdout without it), exit 0.
// 429: stderr shows what `curl -i` would (status line, headers, blank line, body), exit 1.
// Another status: the same on stderr, exit 2 (also for bad arguments).
// No answer (refused, reset, 30 s timeout): exit 3.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Exits once `text` is out (a pipe may be asynchronous). */
const quit = (/** @type {number} */ code, /** @type {NodeJS.WriteStream} */ stream, /** @type {string} */ text) =>
  void stream.write(text, () => process.exit(code));

/** @param {string[]} args */
async function main([base, tokens = '1']) {
  /** @type {URL} */
  let url;
  try {
    url = new URL(base ?? '');
  } catch {
    return quit(2, process.stderr, `usage: node scripts/limitClient.mjs <url> [tokens] (got ${JSON.stringify(base ?? null)})\n`);
  }
  if (url.pathname === '/') url.pathname = '/call';
  url.searchParams.set('tokens', tokens);
  if (process.env.RESUMABLE_UNIT_ID) url.searchParams.set('unit', process.env.RESUMABLE_UNIT_ID);
  if (process.env.RESUMABLE_SHARD) url.searchParams.set('shard', process.env.RESUMABLE_SHARD);

  let res;
  let body;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    body = await res.text();
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? ` (${e.cause.message})` : '';
    return quit(3, process.stderr, `${url.href}: ${e instanceof Error ? e.message : String(e)}${cause}\n`);
  }
  const nl = body.endsWith('\n') ? '' : '\n';
  if (res.status === 200) {
    const file = process.env.RESUMABLE_RESULT_FILE;
    if (!file) return quit(0, process.stdout, body + nl);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, body);
    fs.renameSync(tmp, file);
    return quit(0, process.stdout, '');
  }
  const head = [`HTTP/1.1 ${res.status} ${res.statusText}`, ...[...res.headers].map(([k, v]) => `${k}: ${v}`)];
  quit(res.status === 429 ? 1 : 2, process.stderr, `${head.join('\n')}\n\n${body}${nl}`);
}

await main(process.argv.slice(2));

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LimitServer, LimitServerOptions } from '../../scripts/limitServer.mjs' with { 'resolution-mode': 'import' };
import { writeFiles } from '../helpers/tmp';
import { journalSoFar, runDirSoFar } from '../helpers/waitFor';

export const CLIENT = path.resolve(__dirname, '../../scripts/limitClient.mjs');

export async function limitServer(o: LimitServerOptions): Promise<LimitServer> {
  const { startLimitServer } = await import('../../scripts/limitServer.mjs');
  return startLimitServer({ maxLifetimeMs: 300_000, ...o });
}

/** An experiment whose n units each make one request to the server (tokens each), reporting cost and tokens. */
export function limitedExperiment(dir: string, url: string, n: number, extra: Record<string, unknown> = {}, tokens = 10): string {
  writeFiles(dir, {
    'items.jsonl': Array.from({ length: n }, (_, i) => JSON.stringify({ id: `q${String(i).padStart(4, '0')}` })).join('\n') + '\n',
    'e.experiment.json': JSON.stringify(
      {
        name: 'limited',
        items: { file: 'items.jsonl' },
        run: { command: [process.execPath, CLIENT, url, String(tokens)], timeoutSeconds: 60 },
        result: { cost: 'cost_usd', tokens: ['usage.input_tokens', 'usage.output_tokens'] },
        concurrency: 8,
        retries: { maxAttempts: 2, backoffSeconds: [0.1, 0.5] },
        ...extra,
      },
      null,
      2,
    ),
  });
  return path.join(dir, 'e.experiment.json');
}

/** Every journal (one per shard) of the run under `dir`, records in order. */
export function journals(dir: string): { name: string; records: Record<string, unknown>[] }[] {
  const runDir = runDirSoFar(dir);
  if (!runDir) return [];
  return fs
    .readdirSync(runDir)
    .filter((n) => /^journal(\.\d+of\d+)?\.jsonl$/.test(n))
    .map((name) => ({ name, records: journalSoFar(runDir, name) }));
}

export function ends(records: Record<string, unknown>[]): Record<string, unknown>[] {
  return records.filter((r) => r.t === 'end');
}

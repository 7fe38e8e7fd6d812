import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { experimentJsonSchema } from '../../src/core/config/schema';

test('the published JSON Schema is the one generated from the zod schema (run `npm run schema` after changing it)', () => {
  const published = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schema/experiment.schema.json'), 'utf8'));
  assert.deepEqual(published, JSON.parse(JSON.stringify(experimentJsonSchema())));
  for (const key of ['name', 'items', 'matrix', 'run', 'result', 'concurrency', 'retries', 'rateLimit', 'seed']) {
    assert.ok(key in published.properties, `schema documents ${key}`);
  }
  assert.equal(published.additionalProperties, false, 'unknown keys are flagged while typing');
});

test('every key of the published JSON Schema has a description (what editors show on hover)', () => {
  const published = JSON.parse(fs.readFileSync(path.join(__dirname, '../../schema/experiment.schema.json'), 'utf8'));
  const missing: string[] = [];
  let keys = 0;
  const walk = (s: unknown, at: string): void => {
    if (typeof s !== 'object' || s === null) return;
    const o = s as Record<string, unknown>;
    if (o.properties && typeof o.properties === 'object')
      for (const [k, v] of Object.entries(o.properties as Record<string, Record<string, unknown>>)) {
        keys++;
        if (typeof v.description !== 'string' || v.description.trim() === '') missing.push(`${at}.${k}`);
        walk(v, `${at}.${k}`);
      }
    // A key the user names (a matrix key) is described by its additionalProperties.
    const extra = o.additionalProperties;
    if (extra && typeof extra === 'object' && (extra as Record<string, unknown>).type !== 'string') {
      if (typeof (extra as Record<string, unknown>).description !== 'string') missing.push(`${at}.<any key>`);
      walk(extra, `${at}.<any key>`);
    }
    for (const k of ['anyOf', 'oneOf', 'allOf', 'prefixItems'])
      if (Array.isArray(o[k])) (o[k] as unknown[]).forEach((x, i) => walk(x, `${at}<${k}[${i}]>`));
    if (o.items) walk(o.items, `${at}[]`);
  };
  walk(published, '$');
  assert.ok(keys > 40, `walked the whole schema (${keys} keys)`);
  assert.deepEqual(missing, [], 'keys without a description');
});

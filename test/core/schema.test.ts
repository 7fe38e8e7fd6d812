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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

// The benchmark script runs end to end on tiny sizes: every section, numeric ratios. No time is asserted.
test('npm run bench --quick: every benchmark runs beside its baseline and reports ratios', { timeout: 180_000 }, () => {
  const root = path.resolve(__dirname, '../..');
  const r = spawnSync(process.execPath, ['scripts/bench.mjs', '--quick'], { cwd: root, encoding: 'utf8', timeout: 170_000 });
  assert.equal(r.status, 0, r.stderr);
  const report = /Wrote (.+\.md)/.exec(r.stderr)?.[1];
  assert.ok(report, r.stderr);
  const md = fs.readFileSync(path.resolve(root, report), 'utf8');
  const json = JSON.parse(fs.readFileSync(path.resolve(root, report).replace(/\.md$/, '.json'), 'utf8'));
  assert.ok(path.resolve(root, report).startsWith(os.tmpdir()), 'a quick run does not touch docs/');
  for (const h of [
    '## Bookkeeping per unit',
    '## Resume of a big run',
    '## Repair over many result files',
    '## Dispatch of process units',
    '## Tail read for the tree',
    '## Workers: Python units that load once',
  ])
    assert.ok(md.includes(h), h);
  const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;
  assert.ok(
    json.results.bookkeeping.length === 3 &&
      json.results.bookkeeping.every((b: { ofFloor: number; vsNaive: number }) => finite(b.ofFloor) && finite(b.vsNaive)),
  );
  assert.ok(json.results.resume.every((x: { ratio: number; engineRss: number }) => finite(x.ratio) && finite(x.engineRss)));
  assert.ok(finite(json.results.repair[0].ratio));
  assert.ok(json.results.dispatch.every((x: { share: number }) => finite(x.share)));
  assert.ok(finite(json.results.workers.speedup) && finite(json.results.workers.share));
  assert.ok(json.results.tail.every((x: { tailMs: number; fullMs: number }) => finite(x.tailMs) && finite(x.fullMs)));
  fs.rmSync(path.resolve(root, report));
  fs.rmSync(path.resolve(root, report).replace(/\.md$/, '.json'));
});

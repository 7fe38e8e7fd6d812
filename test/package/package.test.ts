// What a user gets: the npm tarball (`npm pack`) and the .vsix, checked as a user meets them,
// from outside the repository and without its node_modules. Runs on the bundles of the last
// `npm run build` (as `npm test` does first); packing does not rebuild.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, test } from 'node:test';
import { inflateRawSync } from 'node:zlib';
import { tmpDir } from '../helpers/tmp';

const ROOT = path.resolve(__dirname, '../..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  dependencies?: Record<string, string>;
  scripts: Record<string, string>;
  exports: Record<string, unknown>;
  types?: string;
};

/** esbuild marks each bundled module with a comment naming it; these two are the engine. */
const ENGINE_MARKERS = ['// src/core/run/runner.ts', '// node_modules/zod/'];

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000, killSignal: 'SIGKILL' });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** The entries of a zip file (a .vsix), read from its central directory. */
function unzip(file: string): Map<string, Buffer> {
  const zip = fs.readFileSync(file);
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, `${file} is not a zip file`);
  const entries = new Map<string, Buffer>();
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = zip.readUInt16LE(eocd + 10); i > 0; i--) {
    const method = zip.readUInt16LE(at + 10);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + size);
    entries.set(name, method === 8 ? inflateRawSync(data) : data);
    at += 46 + skip;
  }
  return entries;
}

before(() => {
  for (const f of ['dist/cli.js', 'dist/core.js', 'dist/types/index.d.ts'])
    assert.ok(fs.existsSync(path.join(ROOT, f)), `${f} is missing: run \`npm run build\` first`);
});

describe('the npm package', () => {
  const work = tmpDir('resumable-package-');
  const installed = path.join(work, 'consumer', 'node_modules', 'resumable');
  let files: string[] = [];

  before(() => {
    // --ignore-scripts: prepack would rebuild, and the bundles under test are the built ones.
    const out = ok(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT), 'npm pack');
    const [report] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    files = report!.files.map((f) => f.path);
    fs.mkdirSync(installed, { recursive: true });
    ok(run('tar', ['-xzf', path.join(work, report!.filename), '-C', installed, '--strip-components=1'], work), 'tar');
  });

  test('ships the bundles, typings, worker helpers and schema, and no sources, tests or source maps', () => {
    for (const f of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/cli.js',
      'dist/core.js',
      'dist/types/index.d.ts',
      'schema/experiment.schema.json',
      'workers/node/resumable-worker.js',
      'workers/node/resumable-worker.d.ts',
      'workers/python/resumable_worker.py',
    ])
      assert.ok(files.includes(f), `${f} is not in the package`);
    const unwanted = files.filter((f) => /^(src|test|scripts|docs|examples|media|bench|\.ci)\//.test(f) || f.endsWith('.map'));
    assert.deepEqual(unwanted, []);
    // Every file the package.json points at is in it.
    assert.ok(files.includes(pkg.types!.replace(/^\.\//, '')), 'package.json "types" is not packed');
  });

  test('installs nothing: every library is bundled into dist/*.js', () => {
    // `npm i resumable` would fetch whatever is listed here, though the bundles never require it.
    // A library the code imports goes in devDependencies (npm i -D): esbuild bundles it.
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), []);
  });

  test('the packed CLI runs from outside the repository, without node_modules', () => {
    const cli = path.join(installed, 'dist', 'cli.js');
    assert.equal(ok(run(process.execPath, [cli, '--version'], work), 'resumable --version').trim(), pkg.version);
    const help = ok(run(process.execPath, [cli, '--help'], work), 'resumable --help');
    assert.match(help, /\bresumable run\b/);
  });

  test('the packed library runs an experiment with a handler, and the worker helper loads', () => {
    const consumer = path.dirname(path.dirname(installed));
    const script = `
      const { Run, isUserError } = require('resumable');
      const { serve } = require('resumable/worker');
      if (typeof serve !== 'function' || typeof isUserError !== 'function') throw new Error('missing exports');
      const run = new Run({
        experiment: { name: 'packed', items: { values: ['a', 'b', 'c'] }, run: {} },
        baseDir: process.cwd(),
        handler: async ({ unit }) => ({ passed: unit.item.id !== 'b' }),
      });
      run.run().then((s) => console.log(JSON.stringify({ status: s.status, counts: s.counts })));
    `;
    const out = ok(run(process.execPath, ['-e', script], consumer), 'the library');
    const summary = JSON.parse(out.trim().split('\n').pop()!) as { status: string; counts: Record<string, number> };
    assert.equal(summary.status, 'completed');
    assert.equal(summary.counts.passed, 2);
    assert.equal(summary.counts.failed, 1);
  });

  test('TypeScript finds real typings for `resumable` and `resumable/worker` (no TS7016, no zod needed)', () => {
    const consumer = path.dirname(path.dirname(installed));
    const code = (extra: string) => `
      import { Run, RateLimitError, experimentSchema, type RunSummary, type Experiment } from 'resumable';
      import { serve, type Handler } from 'resumable/worker';
      const run = new Run({ experiment: 'x.experiment.json', handler: async ({ unit }) => ({ passed: unit.id.length > 0 }) });
      export const summary: Promise<RunSummary> = run.run();
      export const concurrency: number = experimentSchema.parse({}).concurrency;
      export const first: Experiment['matrix'] | undefined = undefined;
      export const limit = new RateLimitError('429', Date.now() + 1000);
      const handler: Handler = async (u) => ({ passed: u.id !== '' });
      export const served: unknown = serve;
      export { handler };
      // Typings that degraded to \`any\` would accept these.
      // @ts-expect-error a Run is not a number
      export const wrong: number = run;
      // @ts-expect-error concurrency is a number
      export const wrongToo: string = experimentSchema.parse({}).concurrency;
      ${extra}
    `;
    fs.writeFileSync(path.join(consumer, 'index.ts'), code(''));
    fs.writeFileSync(path.join(consumer, 'esm.mts'), code(''));
    // No skipLibCheck: an error inside the shipped .d.ts (a `zod` it cannot find) fails too.
    // @types/node from the repository: the typings name Node's types, as any Node library's do.
    fs.writeFileSync(
      path.join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
          typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        },
        files: ['index.ts', 'esm.mts'],
      }),
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = run(process.execPath, [tsc, '-p', consumer], consumer);
    assert.equal(r.status, 0, `tsc found errors in a consumer of the package:\n${r.stdout}${r.stderr}`);
  });
});

describe('the .vsix', () => {
  test('holds the engine once, and its dist/cli.js runs beside its dist/core.js alone', () => {
    const work = tmpDir('resumable-vsix-');
    const vsix = path.join(work, 'resumable.vsix');
    // The flags of `npm run package`, without its build (the bundles are built) and its output path.
    const script = pkg.scripts.package ?? '';
    const flags = /vsce package (.*?) -o \S+/.exec(script)?.[1];
    assert.ok(flags !== undefined, `cannot read the vsce flags of the package script: ${script}`);
    const vsce = path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
    ok(run(process.execPath, [vsce, 'package', ...flags.split(/\s+/), '-o', vsix], ROOT), 'vsce package');
    const entries = unzip(vsix);
    for (const marker of ENGINE_MARKERS) {
      const holders = [...entries].filter(([, data]) => data.includes(marker)).map(([name]) => name);
      assert.deepEqual(holders, ['extension/dist/core.js'], `"${marker}" is bundled in ${holders.join(', ')}`);
    }
    const cli = entries.get('extension/dist/cli.js');
    assert.ok(cli, 'the .vsix has no dist/cli.js');
    assert.ok(cli.length < 300_000, `dist/cli.js is ${cli.length} bytes: the engine should be in dist/core.js only`);

    const dir = path.join(work, 'dist');
    fs.mkdirSync(dir);
    for (const f of ['cli.js', 'core.js']) fs.writeFileSync(path.join(dir, f), entries.get(`extension/dist/${f}`)!);
    assert.equal(ok(run(process.execPath, [path.join(dir, 'cli.js'), '--version'], work), 'the .vsix CLI').trim(), pkg.version);
  });
});

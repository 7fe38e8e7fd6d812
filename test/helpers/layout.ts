import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'csv-parse/sync';

/**
 * The real data of the system Resumable replaces, beside the project (`../shared/fixtures`,
 * never copied into it). RESUMABLE_FIXTURES names it when the checkout lives elsewhere; a
 * missing folder fails the tests that need it, loudly, never skips them.
 */
export const FIXTURES = findFixtures();

function findFixtures(): string {
  const candidates = [process.env.RESUMABLE_FIXTURES, path.resolve(__dirname, '../../../shared/fixtures'), '/work/shared/fixtures'];
  for (const c of candidates) if (c && fs.existsSync(path.join(c, 'scylla-dryrun'))) return c;
  throw new Error(
    `The real fixtures (scylla-dryrun, scylla-haiku-runs.csv) are not at ${candidates.filter(Boolean).join(' or ')}; set RESUMABLE_FIXTURES to their folder.`,
  );
}

/** A copy of a read-only fixture folder, writable, in `dest` (the fixture itself is never touched). */
export function copyFixture(name: string, dest: string): string {
  const to = path.join(dest, name);
  fs.cpSync(path.join(FIXTURES, name), to, { recursive: true });
  for (const f of fs.readdirSync(to, { recursive: true, withFileTypes: true }))
    fs.chmodSync(path.join(f.parentPath, f.name), f.isDirectory() ? 0o755 : 0o644);
  fs.chmodSync(to, 0o755);
  return to;
}

/**
 * Every file below `dir` (the run folder left out) by its path, with a hash of its bytes
 * (links by their target): what "the user's files are byte-identical" compares.
 */
export function treeHashes(
  dir: string,
  skip = (rel: string) => rel === '.resumable' || rel.startsWith('.resumable/'),
): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const abs = path.join(e.parentPath, e.name);
    const rel = path.relative(dir, abs);
    if (skip(rel)) continue;
    if (e.isSymbolicLink()) out.set(rel, `link:${fs.readlinkSync(abs)}`);
    else if (e.isFile()) out.set(rel, createHash('sha256').update(fs.readFileSync(abs)).digest('hex'));
    else if (e.isDirectory()) out.set(rel + '/', 'dir');
  }
  return out;
}

export interface HaikuRun {
  readonly experiment: string;
  readonly tier: string;
  readonly subtest: string;
  readonly run: number;
  readonly passed: boolean;
}

/**
 * The 1,080 real Scylla results of scylla-haiku-runs.csv laid out as Scylla writes them:
 * `<experiment>/<tier>/<subtest>/run_<NN>/run_result.json`, field names as in scylla-dryrun.
 */
export function layOutHaikuRuns(dir: string): HaikuRun[] {
  const rows = parse<Record<string, string>>(fs.readFileSync(path.join(FIXTURES, 'scylla-haiku-runs.csv'), 'utf8'), { columns: true });
  return rows.map((r) => {
    const run = Number(r.run_number);
    const folder = path.join(dir, r.experiment!, r.tier!, r.subtest!, `run_${String(run).padStart(2, '0')}`);
    fs.mkdirSync(folder, { recursive: true });
    const passed = r.passed === 'True';
    const result = {
      run_number: run,
      exit_code: Number(r.exit_code),
      tokens_input: Number(r.input_tokens),
      tokens_output: Number(r.output_tokens),
      cost_usd: Number(r.cost_usd),
      duration_seconds: Number(r.duration_seconds),
      judge_score: Number(r.score),
      judge_passed: passed,
      judge_grade: r.grade,
    };
    fs.writeFileSync(path.join(folder, 'run_result.json'), JSON.stringify(result, null, 2));
    return { experiment: r.experiment!, tier: r.tier!, subtest: r.subtest!, run, passed };
  });
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import fg from 'fast-glob';
import { loadExperiment, type LoadedExperiment } from '../../core/config/load';
import { UserError } from '../../core/errors';
import { RunPaths, runFolderFor } from '../../core/store/paths';
import { findAdoptable } from '../../core/run/recover';
import { driftError } from '../../core/run/drift';
import { whichRun, type RunFolder } from '../../core/run/whichRun';
import { knownItems } from '../../core/run/itemsFingerprint';
import { growthText } from '../../core/model/growth';
import { listRunDirs, RunFollower, type RunReport } from '../../core/status/report';
import { topReasons, type Reason } from '../../core/model/reasons';
import type { GroupCount } from '../../core/status/groupBy';
import { doneCount, emptyCounts, newView, type Counts } from '../../core/model/view';
import { wilson } from '../../core/status/wilson';
import { formatConcurrency, formatWorkers } from '../../core/model/spendText';
import { spendLine } from '../../core/status/spendLines';
import { formatClock, formatCounts, formatDuration, formatMetric, formatRate, formatSpend } from '../format';
import { readReports } from '../reports';
import { out } from '../stdio';

export async function statusCommand(target: string | undefined, json: boolean, by?: string, errors = false): Promise<number> {
  const { dirs, exp, where } = await resolveRunDirs(target);
  const { reports: read, failed } = await readReports(dirs, dirs.length === 1, { by });
  const reports = errors ? await withReasons(read) : read;
  const code = failed > 0 ? 1 : 0;
  if (json) {
    out(JSON.stringify(target && dirs.length === 1 ? reports[0] : reports, null, 2) + '\n');
    return code;
  }
  if (dirs.length === 0) {
    out(exp && target ? notStarted(exp, target, where) : 'No runs found under this folder.\n');
    return code;
  }
  out(reports.map(renderReport).join('\n'));
  if (where?.kind === 'grows' && target)
    out(
      `The experiment file grew since this run was started: ${growthText(where.growth)}; \`resumable run ${target}\` continues the run with them.\n`,
    );
  return code;
}

/**
 * An experiment file → its run folder (and the experiment, loaded once); a run folder →
 * itself; a folder of runs → all; nothing → every run below cwd.
 */
async function resolveRunDirs(target: string | undefined): Promise<{ dirs: string[]; exp?: LoadedExperiment; where?: RunFolder }> {
  if (!target) {
    const found = await fg('**/.resumable/*/experiment.json', { dot: true, ignore: ['**/node_modules/**', '**/archive/**'], deep: 6 });
    return { dirs: found.map((f) => path.resolve(path.dirname(f))).sort() };
  }
  const abs = path.resolve(target);
  if (!fs.existsSync(abs)) throw new UserError(`Expected an experiment file or a run folder, got no such path`, { file: target });
  if (fs.statSync(abs).isDirectory()) {
    if (fs.existsSync(path.join(abs, 'experiment.json'))) return { dirs: [abs] };
    const inside = listRunDirs(abs);
    if (inside.length) return { dirs: inside };
    throw new UserError('Expected a run folder (with experiment.json) or a folder of run folders', { file: target });
  }
  // Items are read only if the run is not found by its fingerprint (a million of them need not be, to show a status).
  const exp = await loadExperiment(abs, { requireRun: false, knownItems, lazyItems: true });
  const where = whichRun(exp);
  return { dirs: fs.existsSync(path.join(where.root, 'experiment.json')) ? [where.root] : [], exp, where };
}

export function renderReport(r: RunReport): string {
  const rows: [string, string][] = [];
  const runner = r.runner;
  let status: string = r.status;
  if (runner && (r.status === 'running' || r.status === 'paused_rate_limit')) {
    status += ` (pid ${runner.pid} on ${runner.host}${runner.heartbeatAgeMs !== null ? `, heartbeat ${formatDuration(runner.heartbeatAgeMs)} ago` : ''})`;
  } else if (r.status === 'interrupted') status += ' (run the experiment again to resume)';
  else if (r.status === 'budget_exhausted') status += ' (budget reached: raise it in the experiment file and run again to continue)';
  rows.push(['status', status]);
  rows.push(['progress', `${doneCount(r.counts)}/${r.total} · ${formatCounts(r.counts)}${scoreText(overall(r.groups))}`]);
  if (r.rate > 0) rows.push(['rate', `${r.rate.toFixed(1)}/s${r.etaMs !== null ? ` · ETA ${formatDuration(r.etaMs)}` : ''}`]);
  // "concurrency 6/32, adapting · paced 240/min", its first word the row's name.
  const conc = formatConcurrency(r.concurrency);
  if (conc !== undefined) rows.push(['concurrency', conc.replace(/^concurrency /, '')]);
  const workers = formatWorkers(r.workers);
  if (workers !== undefined) rows.push(['workers', `${workers} (started ${r.workers!.started})`]);
  const spent = spendLine(r);
  if (spent !== undefined) rows.push(['spent', spent]);
  if (r.rateLimitedUntil) {
    rows.push([
      'rate limit',
      `paused until ${formatClock(r.rateLimitedUntil)} (in ${formatDuration(r.rateLimitedUntil - Date.now())})${pausedBy(r.pauseSource)}`,
    ]);
  }
  if (r.pauseCount) rows.push(['pauses', String(r.pauseCount)]);
  if (r.shards.length > 0) {
    const live = r.shards.filter((s) => s.state === 'running' || s.state === 'paused').length;
    rows.push(['shards', `${r.shards.length} (${live} running, ${r.shards.filter((s) => s.state === 'done').length} done)`]);
    // "budget_exhausted" is longer than the other states: the column widens only when it is there.
    const stateWidth = Math.max(11, ...r.shards.map((s) => s.state.length));
    for (const s of r.shards) {
      const who = s.host ? ` · ${s.pid !== null ? `pid ${s.pid} on ` : ''}${s.host}` : '';
      const beat =
        (s.state === 'running' || s.state === 'paused' || s.stale) && s.heartbeatAgeMs !== null
          ? `, heartbeat ${formatDuration(s.heartbeatAgeMs)} ago`
          : '';
      let extra = s.stale ? ' · STALE' : s.rateLimitedUntil ? ` · rate limited until ${formatClock(s.rateLimitedUntil)}` : '';
      const shardConc = formatConcurrency(s.concurrency);
      if (shardConc !== undefined) extra += ` · ${shardConc}`;
      if (s.spend) extra += ` · ${formatSpend(s.spend)}`;
      rows.push([
        `  shard ${s.k}/${s.n}`,
        `${s.state.padEnd(stateWidth)} ${s.done}/${s.total}${s.counts.running ? ` (${s.counts.running} running)` : ''}${who}${beat}${extra}`,
      ]);
    }
  }
  if (r.groupBy !== undefined) rows.push([`by ${r.groupBy}`, `${r.groups.length} group${r.groups.length === 1 ? '' : 's'}`]);
  // By matrix cell, a run without a matrix has one unnamed group: the progress row says it all.
  if (r.groupBy !== undefined || r.groups.length > 1 || (r.groups[0] && r.groups[0].group !== '')) {
    for (const g of r.groups) {
      const spend = g.spend && (g.spend.usd > 0 || g.spend.tokens > 0) ? ` · ${formatSpend(g.spend)}` : '';
      rows.push([`  ${g.group}`, `${doneCount(g.counts)}/${g.total} · ${formatCounts(g.counts)}${scoreText(g)}${spend}`]);
    }
  }
  const reasons = (r as Partial<WithReasons>).reasons;
  if (reasons?.length) {
    rows.push([
      'why',
      `${reasons.length === 1 ? 'one reason' : `top ${reasons.length} reasons`} (resumable results --status error,failed lists every unit)`,
    ]);
    for (const x of reasons)
      rows.push([`  ${x.count} ${x.status}`, `${x.why}  (${x.units.join(', ')}${x.count > x.units.length ? ', …' : ''})`]);
  }
  for (const n of r.notes) rows.push(['note', n]);
  const width = Math.max(...rows.map(([k]) => k.length));
  return (
    `${r.name}  (${path.relative(process.cwd(), r.runDir) || r.runDir})\n` +
    rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n') +
    '\n'
  );
}

/** An experiment with no run folder yet: and what on disk its first run would adopt (results in the user's own layout). */
function notStarted(exp: LoadedExperiment, target: string, where: RunFolder | undefined): string {
  if (where?.kind === 'drift') {
    let why: { detail: string; hints: readonly string[] };
    try {
      why = driftError(exp, where.other);
    } catch (e) {
      // The other run's frozen config is damaged: no diff to show.
      why = { detail: `The experiment changed since run ${path.basename(where.other.dir)} was started`, hints: [(e as Error).message] };
    }
    return `Not started under this config. ${why.detail.replace(/; refusing.*$/, '')}.\n${why.hints.map((h) => `  ${h.replace(/^ {2}/, '')}\n`).join('')}  Its status: resumable status ${path.relative(process.cwd(), where.other.dir) || where.other.dir}\n`;
  }
  const paths = new RunPaths(runFolderFor(exp.dir, exp.config.runRoot, exp.config.name, exp.hash));
  const found = findAdoptable(exp, paths, newView(exp.units.map((u) => u.id)), Date.now(), { firstRun: true }).length;
  const line = 'Not started yet: no run folder for this experiment.\n';
  if (found === 0) return line;
  return `${line}  ${found} of ${exp.units.length} unit(s) have a result on disk that \`resumable run ${target}\` would adopt, not run (see --dry-run).\n`;
}

/** " · pass 67% [21–94%] · score 0.72": the pass rate over units with a verdict, its 95% interval, the metrics' means. */
export function scoreText(g: GroupCount): string {
  const rate = g.passRate ? ` · pass ${formatRate(g.passRate)}` : '';
  const metrics = Object.entries(g.metrics ?? {})
    .map(([k, m]) => ` · ${k} ${formatMetric(m.mean)}`)
    .join('');
  return rate + metrics;
}

/** The groups as one: every unit's verdict and metrics. */
function overall(groups: readonly GroupCount[]): GroupCount {
  const counts = emptyCounts();
  const metrics: Record<string, { sum: number; n: number; mean: number }> = {};
  for (const g of groups) {
    for (const k of Object.keys(counts) as (keyof Counts)[]) counts[k] += g.counts[k];
    for (const [k, m] of Object.entries(g.metrics ?? {})) {
      const acc = (metrics[k] ??= { sum: 0, n: 0, mean: 0 });
      acc.sum += m.sum;
      acc.n += m.n;
      acc.mean = acc.sum / acc.n;
    }
  }
  const rate = wilson(counts.passed, counts.passed + counts.failed);
  return { group: '', total: 0, counts, ...(rate ? { passRate: rate } : {}), ...(Object.keys(metrics).length ? { metrics } : {}) };
}

type WithReasons = RunReport & { readonly reasons: readonly Reason[] };

/** `--errors`: each report with the reasons its errors and failures share (one more read of the journal). */
async function withReasons(reports: readonly RunReport[]): Promise<WithReasons[]> {
  const all: WithReasons[] = [];
  for (const r of reports) {
    const f = RunFollower.open(r.runDir);
    await f.poll();
    all.push({ ...r, reasons: topReasons(f.ids, f.view) });
  }
  return all;
}

/** ", from unit q-017", ", from shard 2of4", ", from preflight": a bare unit id ("1") said nothing. */
function pausedBy(src: string | null): string {
  if (!src) return '';
  return /^(shard |preflight)/.test(src) ? `, from ${src}` : `, from unit ${src}`;
}

import type { RunReport } from '../../core/status/report';
import type { ReportStatus } from '../../core/status/runStatus';
import type { ShardReport } from '../../core/status/shards';
import type { GroupCount } from '../../core/status/groupBy';
import { formatSpend, formatWorkers } from '../../core/model/spendText';
import { concurrencyShort, spendAndConcurrencyLines, spendShort } from '../../core/status/spendLines';
import type { Counts } from '../../core/model/view';
import { formatCountdown, formatDuration, formatHhmm } from '../../core/time';
import type { Unreadable } from './unreadable';
import { countOf } from './wording';

/**
 * The Experiments tree as plain data: experiment → matrix groups → status buckets → units.
 * Pure, so it is tested without VS Code; the TreeDataProvider only maps nodes to TreeItems.
 */
export type Bucket = 'running' | 'rate_limited' | 'error' | 'failed' | 'passed' | 'pending';
export const BUCKETS: readonly Bucket[] = ['running', 'rate_limited', 'error', 'failed', 'passed', 'pending'];
/**
 * How a bucket is shown: the journal's `running` units of a run whose runner is gone are not
 * running (nothing works on them; a resume runs them again), so they show as `interrupted`.
 */
export type BucketShown = Bucket | 'interrupted';

/** A runner works on the run now (a parked run and a dead runner's run do not count). */
export function isLive(r: RunReport | undefined): boolean {
  if (!r || (r.status !== 'running' && r.status !== 'paused_rate_limit')) return false;
  return r.runner?.alive === true || r.shards.some((s) => s.state === 'running' || s.state === 'paused');
}

export function shownAs(bucket: Bucket, r: RunReport | undefined): BucketShown {
  return bucket === 'running' && !isLive(r) ? 'interrupted' : bucket;
}

export interface ExperimentEntry {
  /** Absolute path of the experiment file (or of the frozen config when the file is gone). */
  readonly file: string;
  readonly label: string;
  readonly report?: RunReport;
  /** Unit ids with their group and status, in config order. */
  readonly units?: readonly {
    readonly id: string;
    readonly group: string;
    readonly status: Bucket;
    readonly why?: string;
    readonly attempts: number;
  }[];
}

export type TreeNode =
  | { kind: 'experiment'; id: string; entry: ExperimentEntry }
  | { kind: 'group'; id: string; entry: ExperimentEntry; group: string; total: number; counts: Counts; spend?: GroupCount['spend'] }
  | { kind: 'bucket'; id: string; entry: ExperimentEntry; group: string | undefined; bucket: Bucket; shown: BucketShown; count: number }
  | {
      kind: 'unit';
      id: string;
      entry: ExperimentEntry;
      unitId: string;
      bucket: Bucket;
      shown: BucketShown;
      why?: string;
      attempts: number;
    }
  | { kind: 'more'; id: string; bucketId: string; shown: number; left: number; pageSize: number }
  | { kind: 'shards'; id: string; entry: ExperimentEntry; shards: readonly ShardReport[] }
  | { kind: 'shard'; id: string; entry: ExperimentEntry; shard: ShardReport }
  /** A run folder this build cannot read (e.g. written by a newer Resumable): shown, not dropped. */
  | { kind: 'unreadable'; id: string; run: Unreadable };

export function childrenOf(
  node: TreeNode | undefined,
  entries: readonly ExperimentEntry[],
  pages: ReadonlyMap<string, number>,
  pageSize: number,
  unreadable: readonly Unreadable[] = [],
): TreeNode[] {
  if (!node) {
    return [
      ...entries.map((entry): TreeNode => ({ kind: 'experiment', id: `exp:${entry.file}`, entry })),
      ...unreadable.map((run): TreeNode => ({ kind: 'unreadable', id: `unreadable:${run.runDir}`, run })),
    ];
  }
  switch (node.kind) {
    case 'experiment': {
      const report = node.entry.report;
      if (!report) return [];
      const shards: TreeNode[] =
        report.shards.length > 0 ? [{ kind: 'shards', id: `${node.id}|shards`, entry: node.entry, shards: report.shards }] : [];
      const named = report.groups.filter((g) => g.group !== '');
      if (named.length > 1) {
        return [
          ...shards,
          ...named.map((g): TreeNode => ({
            kind: 'group',
            id: `${node.id}|g:${g.group}`,
            entry: node.entry,
            group: g.group,
            total: g.total,
            counts: g.counts,
            ...(g.spend ? { spend: g.spend } : {}),
          })),
        ];
      }
      return [...shards, ...buckets(node.id, node.entry, undefined, report.counts)];
    }
    case 'shards':
      return node.shards.map((shard) => ({ kind: 'shard', id: `${node.id}|${shard.k}of${shard.n}`, entry: node.entry, shard }));
    case 'group':
      return buckets(node.id, node.entry, node.group, node.counts);
    case 'bucket': {
      const all = (node.entry.units ?? []).filter((u) => u.status === node.bucket && (node.group === undefined || u.group === node.group));
      const shown = Math.min(all.length, (pages.get(node.id) ?? 1) * pageSize);
      const out: TreeNode[] = all.slice(0, shown).map((u) => ({
        kind: 'unit',
        id: `${node.id}|u:${u.id}`,
        entry: node.entry,
        unitId: u.id,
        bucket: u.status,
        shown: shownAs(u.status, node.entry.report),
        why: u.why,
        attempts: u.attempts,
      }));
      if (shown < all.length)
        out.push({ kind: 'more', id: `${node.id}|more`, bucketId: node.id, shown, left: all.length - shown, pageSize });
      return out;
    }
    default:
      return [];
  }
}

function buckets(parentId: string, entry: ExperimentEntry, group: string | undefined, counts: Counts): TreeNode[] {
  return BUCKETS.filter((b) => counts[b] > 0).map((bucket) => ({
    kind: 'bucket',
    id: `${parentId}|b:${bucket}`,
    entry,
    group,
    bucket,
    shown: shownAs(bucket, entry.report),
    count: counts[bucket],
  }));
}

export const BUCKET_LABELS: Record<BucketShown, string> = {
  running: 'Running',
  interrupted: 'Interrupted',
  rate_limited: 'Rate limited',
  error: 'Errors',
  failed: 'Failed',
  passed: 'Passed',
  pending: 'Pending',
};

/** "3 of 4 running · 1 stale" for the Shards row. */
export function shardsDescription(shards: readonly ShardReport[]): string {
  const by = (st: ShardReport['state']) => shards.filter((s) => s.state === st).length;
  const parts = [`${by('running') + by('paused')} running`, `${by('done')} done`];
  for (const st of ['interrupted', 'budget_exhausted', 'failed', 'missing'] as const)
    if (by(st)) parts.push(`${by(st)} ${shardStateText(st)}`);
  const stale = shards.filter((s) => s.stale).length;
  if (stale) parts.push(`${stale} stale`);
  return parts.join(' · ');
}

/** A shard's state in words: "rate limited", "budget reached", else as it is named. */
function shardStateText(state: ShardReport['state']): string {
  return state === 'paused' ? 'rate limited' : state === 'budget_exhausted' ? 'budget reached' : state;
}

/** "running · 57/100 · node-a · $0.12 · concurrency 3/8" for one shard's row. */
export function shardDescription(s: ShardReport): string {
  const spent = s.spend ? spendShort({ spend: s.spend, budget: null }) : undefined;
  const conc = concurrencyShort(s.concurrency);
  return [
    shardStateText(s.state),
    `${s.done}/${s.total}`,
    s.host ?? '',
    spent ?? '',
    conc ? `concurrency ${conc}` : '',
    s.stale ? 'stale heartbeat' : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** A run's status in words, as the rows and tooltips say it: "rate limited", "budget reached", "not started"... */
export function statusText(status: ReportStatus): string {
  switch (status) {
    case 'paused_rate_limit':
      return 'rate limited';
    case 'budget_exhausted':
      return 'budget reached';
    default:
      return status.replace(/_/g, ' ');
  }
}

/**
 * The experiment row's first words: what the run is doing, or a pause's countdown. A live
 * pause past its end reads "resuming" until the runner's unpause is read (moments later).
 */
export function headWord(r: RunReport | undefined, now: number): string {
  if (!r) return 'not started';
  if (r.status !== 'paused_rate_limit') return statusText(r.status);
  const until = r.rateLimitedUntil;
  if (isLive(r)) return until !== null && until > now ? `rate limited (${formatCountdown(until - now)})` : 'resuming';
  return until !== null && until > now ? `parked until ${formatHhmm(until)}` : 'parked on a rate limit';
}

/**
 * "running · 412/1000 · 400 passed · 10 failed · 2 errors · ETA 1m02s · $0.42 · concurrency 6/32":
 * what matters first, since a narrow side bar cuts the end off (the tooltip has it all).
 */
export function experimentDescription(r: RunReport | undefined, now: number): string {
  if (!r) return 'not started';
  const parts = [headWord(r, now), `${r.done}/${r.total}`];
  if (r.done > 0) parts.push(`${r.counts.passed} passed`);
  if (r.counts.failed) parts.push(`${r.counts.failed} failed`);
  if (r.counts.error) parts.push(countOf(r.counts.error, 'error'));
  // The report's ETA is the runner's own (one figure for the CLI and the tree); none during a pause.
  if (r.status === 'running' && isLive(r) && r.etaMs !== null && r.done < r.total) parts.push(`ETA ${formatDuration(r.etaMs)}`);
  const spent = spendShort(r);
  if (spent !== undefined) parts.push(spent);
  // Only a live run has a concurrency (the report says null otherwise).
  const conc = concurrencyShort(r.concurrency);
  if (conc !== undefined) parts.push(`concurrency ${conc}`);
  const workers = formatWorkers(r.workers);
  if (workers !== undefined) parts.push(workers);
  return parts.join(' · ');
}

/** Markdown-escapes text shown as is (a run's name). */
function md(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

/** Every count, in the buckets' order: outcomes always, the rest when there are some. */
export function countsLine(r: RunReport): string {
  const c = r.counts;
  const parts = [`${r.done}/${r.total} done`, `${c.passed} passed`, `${c.failed} failed`, countOf(c.error, 'error')];
  if (c.running) parts.push(`${c.running} ${shownAs('running', r) === 'interrupted' ? 'interrupted' : 'running'}`);
  if (c.rate_limited) parts.push(`${c.rate_limited} rate limited`);
  if (c.pending) parts.push(`${c.pending} pending`);
  return parts.join(' · ');
}

/**
 * The experiment row's tooltip (Markdown): everything the row has no room for. `rel` makes a
 * path workspace-relative. Pure.
 */
export function experimentTooltip(
  entry: Pick<ExperimentEntry, 'label' | 'file'>,
  r: RunReport | undefined,
  now: number,
  rel: (p: string) => string,
): string {
  const base = entry.file.replace(/^.*[\\/]/, '');
  const lines = [`**${md(entry.label)}** — ${headWord(r, now)}`, code(base)];
  if (!r) return [...lines, 'Not run yet: Resume Experiment starts it.'].join('\n\n');
  lines.push(countsLine(r));
  const live = isLive(r);
  const pace: string[] = [];
  if (live && r.rate > 0) pace.push(`${r.rate >= 10 ? r.rate.toFixed(0) : r.rate.toFixed(1)} units/s`);
  if (r.status === 'running' && live && r.etaMs !== null && r.done < r.total) pace.push(`ETA ${formatDuration(r.etaMs)}`);
  if (pace.length) lines.push(pace.join(' · '));
  if (r.status === 'paused_rate_limit') lines.push(pauseLine(r, now, live));
  else if (r.pauseCount > 0) lines.push(`${countOf(r.pauseCount, 'rate-limit pause')} so far`);
  if (r.runner) {
    const beat = r.runner.heartbeatAgeMs !== null ? `, heartbeat ${formatDuration(r.runner.heartbeatAgeMs)} ago` : '';
    lines.push(`Runner: pid ${r.runner.pid} on ${md(r.runner.host)}${r.runner.alive ? beat : ' (gone)'}`);
  }
  const workers = formatWorkers(r.workers);
  if (workers !== undefined) lines.push(`Workers: ${workers}`);
  for (const line of spendAndConcurrencyLines(r)) lines.push(md(line));
  lines.push(`Run folder: ${code(rel(r.runDir))}`);
  for (const n of r.notes) lines.push(`⚠ ${md(n)}`);
  return lines.join('\n\n');
}

function pauseLine(r: RunReport, now: number, live: boolean): string {
  const until = r.rateLimitedUntil;
  const by = r.pauseSource ? ` (by ${code(r.pauseSource)})` : '';
  const count = ` · ${countOf(r.pauseCount, 'pause')} so far`;
  if (!live)
    return until !== null && until > now
      ? `Parked on a rate limit${by} until ${formatHhmm(until)}: resume it then${count}`
      : `Parked on a rate limit${by}: resume it to go on${count}`;
  return until !== null && until > now
    ? `Rate limited${by} until ${formatHhmm(until)} (${formatCountdown(until - now)}), then it resumes by itself${count}`
    : `The rate-limit pause${by} is over: resuming${count}`;
}

/** "3/4 · 75% passed · $0.21" for a group row. */
export function groupDescription(g: { total: number; counts: Counts; spend?: GroupCount['spend'] }): string {
  const done = g.counts.passed + g.counts.failed + g.counts.error;
  const parts = [`${done}/${g.total}`];
  if (g.total) parts.push(`${Math.round((100 * g.counts.passed) / Math.max(1, done))}% passed`);
  if (g.spend && (g.spend.usd > 0 || g.spend.tokens > 0)) parts.push(spendShort({ spend: g.spend, budget: null })!);
  return parts.join(' · ');
}

/** The group row's tooltip: which group, and what its units spent. */
export function groupTooltip(g: { group: string; spend?: GroupCount['spend'] }, by: string | undefined): string {
  const head = by ? `${by}: ${g.group}` : `matrix cell: ${g.group}`;
  return g.spend && (g.spend.usd > 0 || g.spend.tokens > 0) ? `${head}\nSpent ${formatSpend(g.spend)}` : head;
}

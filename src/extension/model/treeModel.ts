import type { RunReport } from '../../core/status/report';
import type { ReportStatus } from '../../core/status/runStatus';
import type { ShardReport } from '../../core/status/shards';
import type { GroupCount } from '../../core/status/groupBy';
import { formatSpend, formatWorkers } from '../../core/model/spendText';
import { concurrencyShort, spendShort } from '../../core/status/spendLines';
import type { Counts } from '../../core/model/view';
import type { Unreadable } from './unreadable';

/**
 * The Experiments tree as plain data: experiment → matrix groups → status buckets → units.
 * Pure, so it is tested without VS Code; the TreeDataProvider only maps nodes to TreeItems.
 */
export type Bucket = 'running' | 'rate_limited' | 'error' | 'failed' | 'passed' | 'pending';
export const BUCKETS: readonly Bucket[] = ['running', 'rate_limited', 'error', 'failed', 'passed', 'pending'];

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
  | { kind: 'bucket'; id: string; entry: ExperimentEntry; group: string | undefined; bucket: Bucket; count: number }
  | { kind: 'unit'; id: string; entry: ExperimentEntry; unitId: string; bucket: Bucket; why?: string; attempts: number }
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
    count: counts[bucket],
  }));
}

export const BUCKET_LABELS: Record<Bucket, string> = {
  running: 'Running',
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

/** "412/1000 · 3 errors · ETA 2m05s · $0.42 · concurrency 6/32" for the experiment row. */
export function experimentDescription(r: RunReport | undefined, formatDuration: (ms: number) => string): string {
  if (!r) return 'not started';
  const parts = [`${r.done}/${r.total}`];
  if (r.counts.failed) parts.push(`${r.counts.failed} failed`);
  if (r.counts.error) parts.push(`${r.counts.error} errors`);
  if (r.status === 'running' && r.etaMs !== null) parts.push(`ETA ${formatDuration(r.etaMs)}`);
  else if (r.status !== 'running') parts.push(statusText(r.status));
  const spent = spendShort(r);
  if (spent !== undefined) parts.push(spent);
  // Only a live run has a concurrency (the report says null otherwise).
  const conc = concurrencyShort(r.concurrency);
  if (conc !== undefined) parts.push(`concurrency ${conc}`);
  const workers = formatWorkers(r.workers);
  if (workers !== undefined) parts.push(workers);
  return parts.join(' · ');
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

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatDuration } from '../core/time';
import { Commands } from './constants';
import {
  BUCKET_LABELS,
  childrenOf,
  experimentDescription,
  experimentTooltip,
  groupDescription,
  groupTooltip,
  headWord,
  isLive,
  shardDescription,
  shardsDescription,
  type BucketShown,
  type ExperimentEntry,
  type TreeNode,
} from './model/treeModel';
import { countOf } from './model/wording';
import type { ReportStatus } from '../core/status/runStatus';
import type { ShardReport } from '../core/status/shards';
import { formatConcurrency, formatSpend } from '../core/model/spendText';
import type { RunRegistry } from './runs';
import type { StartupTiming } from './startup';

const BUCKET_ICONS: Record<BucketShown, [string, string | undefined]> = {
  running: ['sync~spin', undefined],
  // Left "running" by a runner that is gone: nothing works on them, so nothing spins.
  interrupted: ['debug-pause', 'list.warningForeground'],
  rate_limited: ['watch', 'list.warningForeground'],
  error: ['error', 'list.errorForeground'],
  failed: ['close', 'testing.iconFailed'],
  passed: ['pass', 'testing.iconPassed'],
  pending: ['circle-outline', undefined],
};

const SHARD_ICONS: Record<ShardReport['state'], [string, string | undefined]> = {
  running: ['sync~spin', undefined],
  paused: ['watch', 'list.warningForeground'],
  interrupted: ['debug-pause', 'list.warningForeground'],
  budget_exhausted: ['credit-card', 'list.warningForeground'],
  done: ['pass-filled', 'testing.iconPassed'],
  failed: ['error', 'list.errorForeground'],
  missing: ['circle-large-outline', 'disabledForeground'],
};

const STATUS_ICONS: Record<ReportStatus, [string, string | undefined]> = {
  running: ['sync~spin', undefined],
  paused_rate_limit: ['watch', 'list.warningForeground'],
  budget_exhausted: ['credit-card', 'list.warningForeground'],
  interrupted: ['debug-pause', 'list.warningForeground'],
  completed: ['pass-filled', 'testing.iconPassed'],
  failed: ['error', 'list.errorForeground'],
  not_started: ['beaker', undefined],
};

/**
 * The Experiments view. `getChildren` only reads the registry's in-memory state: no I/O, no
 * notifications. A change event fires once per batch of file events, and, during a pause,
 * when a row's countdown would read differently.
 */
export class ExperimentsTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly pages = new Map<string, number>();
  private readonly sub: vscode.Disposable;
  private ticker: NodeJS.Timeout | undefined;
  /** The pause rows' head words as last rendered: a tick re-renders only when one changed. */
  private heads = '';

  /** `startup`: told when rows are first ready and first returned (the startup figure). */
  constructor(
    private readonly registry: RunRegistry,
    private readonly pageSize: () => number,
    private readonly startup?: Pick<StartupTiming, 'rowsReady' | 'firstRows'>,
  ) {
    this.sub = registry.onDidChange((change) => {
      const rows = change.entries.length + registry.unreadable.length;
      if (rows > 0) startup?.rowsReady(rows);
      this.emitter.fire(undefined);
      this.heads = this.pauseHeads();
      this.followCountdowns();
    });
  }

  private pauseHeads(): string {
    const now = Date.now();
    return this.registry.current
      .filter((e) => e.report?.status === 'paused_rate_limit')
      .map((e) => headWord(e.report, now))
      .join('\n');
  }

  /** Ticks once a second while a live run is paused, so its row counts down with the status bar. */
  private followCountdowns(): void {
    const paused = this.registry.current.some((e) => e.report?.status === 'paused_rate_limit' && isLive(e.report));
    if (paused && !this.ticker) {
      this.ticker = setInterval(() => {
        const heads = this.pauseHeads();
        if (heads === this.heads) return;
        this.heads = heads;
        this.emitter.fire(undefined);
      }, 1000);
    } else if (!paused && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  showMore(node: TreeNode): void {
    if (node.kind !== 'more') return;
    this.pages.set(node.bucketId, (this.pages.get(node.bucketId) ?? 1) + 1);
    this.emitter.fire(undefined);
  }

  getChildren(node?: TreeNode): TreeNode[] {
    const rows = childrenOf(node, this.registry.current, this.pages, this.pageSize(), this.registry.unreadable);
    if (!node && rows.length > 0) this.startup?.firstRows(rows.length);
    return rows;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    switch (node.kind) {
      case 'experiment':
        return experimentItem(node.entry, node.id);
      case 'group': {
        const item = new vscode.TreeItem(node.group, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = groupDescription(node);
        item.iconPath = new vscode.ThemeIcon('symbol-array');
        item.tooltip = groupTooltip(node, node.entry.report?.groupBy);
        item.id = node.id;
        return item;
      }
      case 'bucket': {
        const item = new vscode.TreeItem(BUCKET_LABELS[node.shown], vscode.TreeItemCollapsibleState.Collapsed);
        item.description = String(node.count);
        item.iconPath = icon(BUCKET_ICONS[node.shown]);
        if (node.shown === 'interrupted')
          item.tooltip = `${countOf(node.count, 'unit')} in flight when the runner stopped: no result yet; Resume runs them again.`;
        item.id = node.id;
        item.contextValue = `bucket.${node.bucket}`;
        return item;
      }
      case 'unit': {
        const item = new vscode.TreeItem(node.unitId, vscode.TreeItemCollapsibleState.None);
        item.description = [node.attempts > 1 ? `${node.attempts} attempts` : '', node.why ?? ''].filter(Boolean).join(' · ');
        item.tooltip = `${node.unitId}\n${BUCKET_LABELS[node.shown]}${node.why ? `: ${node.why}` : ''}`;
        item.iconPath = icon(BUCKET_ICONS[node.shown]);
        item.id = node.id;
        item.contextValue = 'unit';
        item.command = { command: Commands.showUnitLog, title: 'Show Unit Log', arguments: [node] };
        return item;
      }
      case 'shards': {
        const item = new vscode.TreeItem(`Shards (${node.shards.length})`, vscode.TreeItemCollapsibleState.Collapsed);
        item.description = shardsDescription(node.shards);
        item.iconPath = new vscode.ThemeIcon('server-process');
        item.id = node.id;
        return item;
      }
      case 'shard': {
        const s = node.shard;
        const item = new vscode.TreeItem(`Shard ${s.k}/${s.n}`, vscode.TreeItemCollapsibleState.None);
        item.description = shardDescription(s);
        item.iconPath = icon(s.stale ? ['warning', 'list.warningForeground'] : SHARD_ICONS[s.state]);
        item.tooltip = [
          `Shard ${s.k} of ${s.n}: ${s.state}${s.stale ? ' (heartbeat stale: its node may be gone)' : ''}`,
          `${s.done}/${s.total} done · ${s.counts.passed} passed · ${s.counts.failed} failed · ${countOf(s.counts.error, 'error')}`,
          s.host ? `${s.pid !== null ? `pid ${s.pid} on ` : ''}${s.host}` : 'not started',
          s.heartbeatAgeMs !== null ? `heartbeat ${formatDuration(s.heartbeatAgeMs)} ago` : '',
          s.rateLimitedUntil ? `rate limited until ${new Date(s.rateLimitedUntil).toLocaleTimeString()}` : '',
          s.spend ? `Spent ${formatSpend(s.spend)}` : '',
          formatConcurrency(s.concurrency) ?? '',
        ]
          .filter(Boolean)
          .join('\n');
        item.id = node.id;
        item.contextValue = `shard.${s.state}`;
        return item;
      }
      case 'unreadable': {
        const item = new vscode.TreeItem(path.basename(node.run.runDir), vscode.TreeItemCollapsibleState.None);
        item.description = `cannot read: ${node.run.reason}`;
        item.tooltip = `${vscode.workspace.asRelativePath(node.run.runDir)}\n\n${node.run.detail}`;
        item.iconPath = icon(['warning', 'list.warningForeground']);
        item.id = node.id;
        item.contextValue = 'run.unreadable';
        item.command = { command: Commands.openRunFolder, title: 'Open Run Folder', arguments: [node] };
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(`Show ${Math.min(node.pageSize, node.left)} more`, vscode.TreeItemCollapsibleState.None);
        item.description = `${node.left} not shown`;
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        item.id = node.id;
        item.command = { command: Commands.showMore, title: 'Show more', arguments: [node] };
        return item;
      }
    }
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.sub.dispose();
    this.emitter.dispose();
  }
}

function experimentItem(entry: ExperimentEntry, id: string): vscode.TreeItem {
  const r = entry.report;
  const item = new vscode.TreeItem(entry.label, r ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  // Another id once it has a run: VS Code keeps a row's expansion by id, and a row first seen
  // without children would stay collapsed when its run starts.
  item.id = r ? id : `${id}|not-started`;
  const now = Date.now();
  item.description = experimentDescription(r, now);
  item.iconPath = icon(STATUS_ICONS[r?.status ?? 'not_started'] ?? STATUS_ICONS.not_started);
  item.resourceUri = vscode.Uri.file(entry.file);
  item.contextValue = `experiment.${isLive(r) ? 'live' : r ? 'idle' : 'new'}`;
  item.tooltip = new vscode.MarkdownString(experimentTooltip(entry, r, now, (p) => vscode.workspace.asRelativePath(p)));
  return item;
}

function icon([id, color]: [string, string | undefined]): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatDuration } from '../core/time';
import { Commands } from './constants';
import {
  BUCKET_LABELS,
  childrenOf,
  experimentDescription,
  groupDescription,
  groupTooltip,
  shardDescription,
  shardsDescription,
  statusText,
  type Bucket,
  type ExperimentEntry,
  type TreeNode,
} from './model/treeModel';
import type { ReportStatus } from '../core/status/runStatus';
import type { ShardReport } from '../core/status/shards';
import { formatConcurrency, formatSpend } from '../core/model/spendText';
import { spendAndConcurrencyLines } from '../core/status/spendLines';
import type { RunRegistry } from './runs';

const BUCKET_ICONS: Record<Bucket, [string, string | undefined]> = {
  running: ['sync~spin', undefined],
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
 * notifications. A change event fires once per batch of file events.
 */
export class ExperimentsTree implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly pages = new Map<string, number>();
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly registry: RunRegistry,
    private readonly pageSize: () => number,
  ) {
    this.sub = registry.onDidChange(() => this.emitter.fire(undefined));
  }

  showMore(node: TreeNode): void {
    if (node.kind !== 'more') return;
    this.pages.set(node.bucketId, (this.pages.get(node.bucketId) ?? 1) + 1);
    this.emitter.fire(undefined);
  }

  getChildren(node?: TreeNode): TreeNode[] {
    return childrenOf(node, this.registry.current, this.pages, this.pageSize(), this.registry.unreadable);
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
        const item = new vscode.TreeItem(BUCKET_LABELS[node.bucket], vscode.TreeItemCollapsibleState.Collapsed);
        item.description = String(node.count);
        item.iconPath = icon(BUCKET_ICONS[node.bucket]);
        item.id = node.id;
        item.contextValue = `bucket.${node.bucket}`;
        return item;
      }
      case 'unit': {
        const item = new vscode.TreeItem(node.unitId, vscode.TreeItemCollapsibleState.None);
        item.description = [node.attempts > 1 ? `${node.attempts} attempts` : '', node.why ?? ''].filter(Boolean).join(' · ');
        item.tooltip = `${node.unitId}\n${BUCKET_LABELS[node.bucket]}${node.why ? `: ${node.why}` : ''}`;
        item.iconPath = icon(BUCKET_ICONS[node.bucket]);
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
          `${s.done}/${s.total} done · ${s.counts.passed} passed · ${s.counts.failed} failed · ${s.counts.error} errors`,
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
    this.sub.dispose();
    this.emitter.dispose();
  }
}

function experimentItem(entry: ExperimentEntry, id: string): vscode.TreeItem {
  const r = entry.report;
  const item = new vscode.TreeItem(entry.label, r ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  item.id = id;
  item.description = experimentDescription(r, formatDuration);
  item.iconPath = icon(STATUS_ICONS[r?.status ?? 'not_started'] ?? STATUS_ICONS.not_started);
  item.resourceUri = vscode.Uri.file(entry.file);
  const live = r && (r.status === 'running' || r.status === 'paused_rate_limit');
  item.contextValue = `experiment.${live ? 'live' : r ? 'idle' : 'new'}`;
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown(`**${entry.label}** — ${statusText(r?.status ?? 'not_started')}\n\n`);
  md.appendMarkdown(`\`${path.basename(entry.file)}\`\n\n`);
  if (r) {
    md.appendMarkdown(`${r.done}/${r.total} done · ${r.counts.passed} passed · ${r.counts.failed} failed · ${r.counts.error} errors\n\n`);
    if (r.runner) md.appendMarkdown(`Runner: pid ${r.runner.pid} on ${r.runner.host}${r.runner.alive ? '' : ' (gone)'}\n\n`);
    for (const line of spendAndConcurrencyLines(r)) md.appendText(line).appendMarkdown('\n\n');
    for (const n of r.notes) md.appendMarkdown(`⚠ ${n}\n\n`);
  }
  item.tooltip = md;
  return item;
}

function icon([id, color]: [string, string | undefined]): vscode.ThemeIcon {
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

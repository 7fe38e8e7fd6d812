import * as path from 'node:path';
import * as vscode from 'vscode';
import { createPanel, pageHtml, PageQueries } from './webviewPage';
import { runHistory } from '../../core/status/history';
import { DashboardViewType } from '../constants';
import { errorText, type Log } from '../log';
import { isLive } from '../model/treeModel';
import type { RunRegistry } from '../runs';
import { logOf, resultOf, RowsDiff } from './data';
import { JournalFeed } from './journalFeed';
import type { FromWebview, Summary, TestState, ToWebview } from './protocol';

/** Time slices of the progress chart: enough for a smooth line, few enough to post every second. */
const BUCKETS = 120;

/**
 * One run's dashboard: a webview fed from the registry the tree uses. It reads the run's
 * journals itself (only new bytes) for the history; rows and report come from the registry's
 * follower, so nothing is spawned and nothing re-reads the run to refresh.
 */
export class DashboardPanel implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  /** Made on the first update that finds the run read (it knows the run's unit ids then). */
  private feed: JournalFeed | undefined;
  private readonly rows = new RowsDiff();
  private readonly subs: vscode.Disposable[] = [];
  /** Whether the webview has said it is ready for this load of its page (it reloads when shown again). */
  private ready = false;
  private dirty = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly queries = new PageQueries<TestState>();
  private disposed = false;
  /** Whether this load of the page has had its full rows. */
  private sentInit = false;
  /** The files the details showed: the only ones the webview may ask to open. */
  private readonly shownFiles = new Set<string>();

  constructor(
    readonly runDir: string,
    private readonly registry: RunRegistry,
    private readonly extensionUri: vscode.Uri,
    private readonly groupBy: () => string,
    private readonly log: Log,
    onDispose: () => void,
  ) {
    const run = registry.runOf(runDir);
    const name = run?.report.name ?? path.basename(runDir);
    this.panel = createPanel(DashboardViewType, `Resumable: ${name}`, extensionUri);
    this.panel.webview.html = this.html();
    this.subs.push(
      this.panel.webview.onDidReceiveMessage((m: FromWebview) => this.onMessage(m)),
      this.panel.onDidChangeViewState(() => {
        // Hidden, the page is dropped (no retainContextWhenHidden): shown again, it loads and says ready.
        if (!this.panel.visible) this.ready = false;
        else if (this.dirty) this.schedule();
      }),
      registry.onDidChange((c) => {
        if (c.changed.some((x) => x.next.runDir === runDir)) this.schedule();
      }),
      this.panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Test hook: the webview's own state (what it shows), after setting its filter when given. */
  testState(filter?: string): Promise<TestState | undefined> {
    return this.queries.ask((seq) => void this.post({ type: 'testQuery', seq, ...(filter !== undefined ? { filter } : {}) }));
  }

  private onMessage(m: FromWebview): void {
    switch (m.type) {
      case 'ready':
        this.ready = true;
        this.sentInit = false;
        this.rows.reset();
        this.schedule();
        return;
      case 'openUnit': {
        // The one read the message handler does: this unit's result and log, on demand.
        const result = resultOf(this.runDir, m.id);
        const log = logOf(this.runDir, m.id);
        for (const f of [result, log]) if (f) this.shownFiles.add(f.file);
        void this.post({ type: 'unit', id: m.id, result, log, attempts: this.feed?.attemptsOf(m.id) ?? [] });
        return;
      }
      case 'openFile':
        // Only a file the details showed: the webview is not trusted to name any path.
        if (!this.shownFiles.has(m.file)) return;
        void vscode.window.showTextDocument(vscode.Uri.file(m.file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
        return;
      case 'testState': {
        const { type: _t, ...state } = m;
        this.queries.answer(m.seq, state);
        return;
      }
    }
  }

  /** Updates one at a time, in order: a poll of the journals never interleaves with another. */
  private schedule(): void {
    if (!this.ready || !this.panel.visible) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    this.chain = this.chain.then(
      () => this.update(),
      () => this.update(),
    );
  }

  private async update(): Promise<void> {
    if (this.disposed || !this.ready) return;
    const run = this.registry.runOf(this.runDir);
    if (!run) {
      await this.post({ type: 'gone', why: `${vscode.workspace.asRelativePath(this.runDir)} cannot be read now (see Output › Resumable)` });
      return;
    }
    this.feed ??= new JournalFeed(this.runDir, new Set(run.follower.units.map((u) => u.id)));
    try {
      await this.feed.poll();
    } catch (e) {
      // The history stays as it was; the rows and the report still come from the registry.
      this.log.warn(`dashboard: could not read the journals of ${this.runDir}: ${errorText(e)}`);
    }
    const { report, follower } = run;
    const live = isLive(report);
    const now = Date.now();
    const summary: Summary = {
      report,
      history: runHistory(this.feed.journals, BUCKETS, live ? { now } : {}),
      live,
      groupBy: report.groupBy ?? '',
      hasMatrix: follower.units.some((u) => u.group !== ''),
      now,
    };
    const { all, changed } = this.rows.next(follower, this.groupBy());
    if (!this.sentInit) {
      this.sentInit = true;
      await this.post({ type: 'init', rows: all, ...summary });
    } else await this.post({ type: 'update', changed, ...summary });
  }

  private async post(m: ToWebview): Promise<void> {
    if (!this.disposed) await this.panel.webview.postMessage(m);
  }

  private html(): string {
    return pageHtml(this.panel.webview, this.extensionUri, {
      script: 'dashboard.js',
      styles: ['dashboard.css', 'results.css'],
      title: 'Resumable dashboard',
      loading: 'Reading the run…',
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
  }
}

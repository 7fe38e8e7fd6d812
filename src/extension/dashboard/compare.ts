import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { createPanel, pageHtml, PageQueries } from './webviewPage';
import type { CompareSide, Comparison, MatchBy, UnitChange } from '../../core/index';
import { CompareViewType, Commands } from '../constants';
import { engine } from '../engine';
import type { Log } from '../log';
import type { TreeNode } from '../model/treeModel';
import type { RunRegistry } from '../runs';
import { registerSafeCommand } from '../safeCommand';
import {
  LIST_CAP,
  type CompareTestState,
  type FromCompareWebview,
  type ShownChange,
  type ShownComparison,
  type ToCompareWebview,
} from './compareProtocol';

/** A run as the comparison reads it: the registry's follower when it has the run, else read once here. */
async function sideOf(registry: RunRegistry, runDir: string, label: string): Promise<CompareSide> {
  const known = registry.runOf(runDir)?.follower;
  if (known) return { label, units: known.units, view: known.view };
  const f = engine().RunFollower.open(runDir);
  await f.poll();
  return { label, units: f.units, view: f.view };
}

/** The two runs' names: the experiments', or the run folders' when both are of one experiment. */
function labelsOf(registry: RunRegistry, a: string, b: string): [string, string] {
  const name = (d: string) => registry.runOf(d)?.report.name ?? path.basename(d);
  const [na, nb] = [name(a), name(b)];
  return na !== nb ? [na, nb] : [path.basename(a), path.basename(b)];
}

function shownChanges(list: readonly UnitChange[]): ShownChange[] {
  return list.slice(0, LIST_CAP).map((c) => ({ a: c.a, b: c.b, before: c.before, after: c.after, why: c.why ?? null }));
}

/** What the webview draws: the Comparison with each group's pass rates and 95% Wilson intervals. */
export function shownComparison(c: Comparison): ShownComparison {
  const { wilson } = engine();
  const rate = (passed: number, total: number) => {
    const w = wilson(passed, total);
    return w ? { passed, total, ...w } : null;
  };
  return {
    a: c.a,
    b: c.b,
    matchBy: c.matchBy,
    matched: c.matched,
    onlyA: c.onlyA.length,
    onlyB: c.onlyB.length,
    regressions: shownChanges(c.regressions),
    fixes: shownChanges(c.fixes),
    newErrors: shownChanges(c.newErrors),
    counts: { regressions: c.regressions.length, fixes: c.fixes.length, newErrors: c.newErrors.length },
    otherChanges: c.otherChanges,
    groups: c.groups.map((g) => {
      const a = rate(g.passedA, g.verdictsA);
      const b = rate(g.passedB, g.verdictsB);
      return {
        group: g.group,
        matched: g.matched,
        a,
        b,
        points: a && b ? (b.rate - a.rate) * 100 : null,
        metrics: Object.entries(g.metrics).map(([name, m]) => ({ name, a: m.a, b: m.b })),
      };
    }),
    computedAt: Date.now(),
  };
}

/** Two runs side by side, computed when opened and on Refresh (it does not follow the runs). */
export class ComparePanel implements vscode.Disposable {
  readonly panel: vscode.WebviewPanel;
  private readonly subs: vscode.Disposable[] = [];
  private readonly queries = new PageQueries<CompareTestState>();
  private disposed = false;
  /** The unit ids of each side: the only ones the webview may ask to open. */
  private ids: { a: Set<string>; b: Set<string> } = { a: new Set(), b: new Set() };

  constructor(
    readonly runDirA: string,
    readonly runDirB: string,
    private readonly matchBy: MatchBy,
    private readonly registry: RunRegistry,
    private readonly extensionUri: vscode.Uri,
    onDispose: () => void,
  ) {
    const [la, lb] = labelsOf(registry, runDirA, runDirB);
    this.panel = createPanel(CompareViewType, `Resumable: ${la} ↔ ${lb}`, extensionUri);
    this.panel.webview.html = this.html();
    this.subs.push(
      this.panel.webview.onDidReceiveMessage((m: FromCompareWebview) => this.onMessage(m)),
      this.panel.onDidDispose(() => {
        this.dispose();
        onDispose();
      }),
    );
  }

  reveal(): void {
    this.panel.reveal();
  }

  /** Test hook: what the webview shows (undefined while its page is still loading). */
  testState(): Promise<CompareTestState | undefined> {
    return this.queries.ask((seq) => void this.post({ type: 'testQuery', seq }));
  }

  private onMessage(m: FromCompareWebview): void {
    switch (m.type) {
      case 'ready':
      case 'refresh':
        void this.compute();
        return;
      case 'openUnit': {
        // Only a unit of that run: the webview is not trusted to name a path.
        if (!this.ids[m.side].has(m.id)) return;
        const runDir = m.side === 'a' ? this.runDirA : this.runDirB;
        const file = engine().findResultFile(runDir, m.id);
        if (file) void vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true, viewColumn: vscode.ViewColumn.Beside });
        else void vscode.window.showInformationMessage(`Resumable: ${m.id} has no result file in ${path.basename(runDir)}.`);
        return;
      }
      case 'testState': {
        const { type: _t, ...state } = m;
        this.queries.answer(m.seq, state);
        return;
      }
    }
  }

  private async compute(): Promise<void> {
    try {
      const [la, lb] = labelsOf(this.registry, this.runDirA, this.runDirB);
      const a = await sideOf(this.registry, this.runDirA, la);
      const b = await sideOf(this.registry, this.runDirB, lb);
      this.ids = { a: new Set(a.units.map((u) => u.id)), b: new Set(b.units.map((u) => u.id)) };
      await this.post({ type: 'comparison', cmp: shownComparison(engine().compareRuns(a, b, this.matchBy)) });
    } catch (e) {
      await this.post({ type: 'error', why: e instanceof Error ? e.message : String(e) });
    }
  }

  private async post(m: ToCompareWebview): Promise<void> {
    if (!this.disposed) await this.panel.webview.postMessage(m);
  }

  private html(): string {
    return pageHtml(this.panel.webview, this.extensionUri, {
      script: 'compare.js',
      styles: ['dashboard.css', 'compare.css'],
      title: 'Resumable compare',
      loading: 'Comparing the runs…',
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.subs.splice(0)) s.dispose();
    this.panel.dispose();
  }
}

/** One compare panel per pair of runs (and way of matching); disposed with the extension. */
export class ComparePanels implements vscode.Disposable {
  private readonly panels = new Map<string, ComparePanel>();

  constructor(
    private readonly registry: RunRegistry,
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
  ) {}

  open(a: string, b: string, matchBy: MatchBy): ComparePanel {
    const key = `${a}\n${b}\n${matchBy}`;
    const open = this.panels.get(key);
    if (open) {
      open.reveal();
      return open;
    }
    const p = new ComparePanel(a, b, matchBy, this.registry, this.extensionUri, () => this.panels.delete(key));
    this.panels.set(key, p);
    this.log.info(`compare view opened for ${a} ↔ ${b} (by ${matchBy})`);
    return p;
  }

  get(a: string, b: string): ComparePanel | undefined {
    return [...this.panels.values()].find((p) => p.runDirA === a && p.runDirB === b);
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
    this.panels.clear();
  }
}

type Arg = TreeNode | vscode.Uri | string | undefined;

function dirOf(arg: Arg): string | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string') return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg.kind === 'unreadable') throw new Error(`${vscode.workspace.asRelativePath(arg.run.runDir)} cannot be read: ${arg.run.detail}`);
  return 'entry' in arg ? arg.entry.report?.runDir : undefined;
}

async function pickRun(registry: RunRegistry, title: string, except?: string): Promise<string | undefined> {
  const runs = registry.allReports.filter((r) => r.runDir !== except).sort((x, y) => (y.lastActivity ?? 0) - (x.lastActivity ?? 0));
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(`Resumable: no ${except ? 'other ' : ''}run to compare with.`);
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(
    runs.map((r) => ({
      label: r.name,
      description: `${path.basename(r.runDir)} · ${r.status.replace(/_/g, ' ')} · ${r.done}/${r.total}`,
      detail: vscode.workspace.asRelativePath(r.runDir),
      runDir: r.runDir,
    })),
    { title, placeHolder: 'Pick a run' },
  );
  return pick?.runDir;
}

/** By unit id, unless the two runs share none: then the user says (by item pairs two experiments over the same items). */
async function matchOf(registry: RunRegistry, a: string, b: string): Promise<MatchBy | undefined> {
  const [sa, sb] = [await sideOf(registry, a, 'A'), await sideOf(registry, b, 'B')];
  const ids = new Set(sa.units.map((u) => u.id));
  if (sb.units.some((u) => ids.has(u.id))) return 'id';
  const pick = await vscode.window.showQuickPick(
    [
      { label: 'Match by item', description: 'the same item (and repeat), whatever the matrix says', by: 'item' as const },
      { label: 'Match by unit id', description: 'the two runs share no unit id: nothing will match', by: 'id' as const },
    ],
    { title: 'The two runs share no unit id' },
  );
  return pick?.by;
}

/**
 * Compare Runs… (palette, the view's title menu) and Compare With… (an experiment's row: it is A).
 * `(runDirA, runDirB[, matchBy])` skips the picks, for tests and scripts.
 */
export function registerCompareCommands(registry: RunRegistry, panels: ComparePanels, log: Log): vscode.Disposable[] {
  const compare = async (arg: Arg, other?: string | vscode.Uri, by?: MatchBy) => {
    const a = dirOf(arg) ?? (await pickRun(registry, 'Compare runs: pick A'));
    if (!a) return;
    const b = (other instanceof vscode.Uri ? other.fsPath : other) ?? (await pickRun(registry, `Compare ${path.basename(a)} with`, a));
    if (!b) return;
    for (const d of [a, b])
      if (!fs.existsSync(path.join(d, 'experiment.json'))) throw new Error(`${vscode.workspace.asRelativePath(d)} is not a run folder`);
    const matchBy = by ?? (await matchOf(registry, a, b));
    if (matchBy) panels.open(a, b, matchBy);
  };
  return [
    registerSafeCommand(log, Commands.compareRuns, compare),
    registerSafeCommand(log, Commands.compareWith, compare),
    registerSafeCommand(log, Commands.compareTestState, (a: string, b: string) => panels.get(a, b)?.testState()),
  ];
}

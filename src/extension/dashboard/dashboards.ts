import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands } from '../constants';
import type { Log } from '../log';
import type { TreeNode } from '../model/treeModel';
import type { RunRegistry } from '../runs';
import { registerSafeCommand } from '../safeCommand';
import { DashboardPanel } from './panel';
import type { TestState } from './protocol';

/** One dashboard per run folder; they are disposed with the extension. */
export class Dashboards implements vscode.Disposable {
  private readonly panels = new Map<string, DashboardPanel>();

  constructor(
    private readonly registry: RunRegistry,
    private readonly extensionUri: vscode.Uri,
    private readonly groupBy: () => string,
    private readonly log: Log,
  ) {}

  open(runDir: string): DashboardPanel {
    const open = this.panels.get(runDir);
    if (open) {
      open.reveal();
      return open;
    }
    const p = new DashboardPanel(runDir, this.registry, this.extensionUri, this.groupBy, this.log, () => this.panels.delete(runDir));
    this.panels.set(runDir, p);
    this.log.info(`dashboard opened for ${runDir}`);
    return p;
  }

  get(runDir: string): DashboardPanel | undefined {
    return this.panels.get(runDir);
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.dispose();
    this.panels.clear();
  }
}

type Arg = TreeNode | vscode.Uri | string | undefined;

/** Open Dashboard (tree item, title bar, palette, CodeLens) and the test hook that reads a panel's webview. */
export function registerDashboardCommands(registry: RunRegistry, dashboards: Dashboards, log: Log): vscode.Disposable[] {
  return [
    registerSafeCommand(log, Commands.openDashboard, async (arg: Arg) => {
      const named = runDirOf(registry, arg);
      if (named && 'notRun' in named) {
        // From a CodeLens or a row of an experiment not run yet: nothing to show, and no error either.
        void vscode.window.showInformationMessage(`Resumable: ${named.notRun} has no run yet; its dashboard opens once it runs.`);
        return;
      }
      const runDir = named?.runDir ?? (await pickRun(registry));
      if (runDir) dashboards.open(runDir);
    }),
    registerSafeCommand(log, Commands.dashboardTestState, (runDir: string, filter?: string): Promise<TestState | undefined> | undefined =>
      dashboards.get(runDir)?.testState(filter),
    ),
  ];
}

/** The run folder an argument names (a tree node, an experiment file, a run folder: Uri or path), or the experiment without a run. */
function runDirOf(registry: RunRegistry, arg: Arg): { runDir: string } | { notRun: string } | undefined {
  if (arg === undefined) return undefined;
  if (typeof arg === 'string' || arg instanceof vscode.Uri) {
    const p = typeof arg === 'string' ? arg : arg.fsPath;
    if (fs.existsSync(path.join(p, 'experiment.json'))) return { runDir: p };
    const dir = registry.reportFor(p)?.runDir;
    return dir ? { runDir: dir } : { notRun: path.basename(p, '.experiment.json') };
  }
  if (arg.kind === 'unreadable') throw new Error(`${vscode.workspace.asRelativePath(arg.run.runDir)} cannot be read: ${arg.run.detail}`);
  if (arg.kind === 'more') return undefined;
  const dir = arg.entry.report?.runDir;
  return dir ? { runDir: dir } : { notRun: arg.entry.label };
}

async function pickRun(registry: RunRegistry): Promise<string | undefined> {
  const runs = registry.current.filter((e) => e.report);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('Resumable: no run to show yet.');
    return undefined;
  }
  if (runs.length === 1) return runs[0]!.report!.runDir;
  const pick = await vscode.window.showQuickPick(
    runs.map((e) => ({
      label: e.label,
      description: `${e.report!.status.replace(/_/g, ' ')} · ${e.report!.done}/${e.report!.total}`,
      detail: vscode.workspace.asRelativePath(e.file),
      runDir: e.report!.runDir,
    })),
    { title: 'Open the dashboard of', placeHolder: 'Pick an experiment' },
  );
  return pick?.runDir;
}

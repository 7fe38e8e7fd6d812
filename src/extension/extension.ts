import * as vscode from 'vscode';
import { registerAuthoring, type Authoring } from './authoring';
import { registerCommands } from './commands';
import { ComparePanels, registerCompareCommands } from './dashboard/compare';
import { Dashboards, registerDashboardCommands } from './dashboard/dashboards';
import { ContextKeys, Settings, TaskType, ViewIds } from './constants';
import { LivePoll } from './livePoll';
import { createLog, errorText, LOG_NAME } from './log';
import { RunNotifications } from './notifications';
import { DisposableOwner } from './owner';
import { RunRegistry } from './runs';
import { RunStatusBar } from './statusBar';
import { ResumableTaskProvider } from './tasks';
import { StartupTiming } from './startup';
import { ExperimentsTree } from './tree';
import { registerUnitCommands } from './unitCommands';
import { RunWatcher } from './watcher';

/** What the extension hands to its tests (and to other extensions). */
export interface ResumableApi {
  readonly registry: RunRegistry;
  readonly tasks: ResumableTaskProvider;
  readonly tree: ExperimentsTree;
  /** Where the "Resumable" output channel is written (what the extension read, refused and swallowed). */
  readonly logFile: vscode.Uri;
  /** Resolves after the first scan of the workspace. */
  readonly ready: Promise<void>;
  /** CodeLens, the loader's diagnostics, the walkthrough (authoring.ts). */
  readonly authoring: Authoring;
  /** The status bar item's text as shown, and when it changes. */
  readonly statusBar: RunStatusBar;
}

export function activate(context: vscode.ExtensionContext): ResumableApi {
  const owner = new DisposableOwner();
  context.subscriptions.push(owner);
  const cfg = () => vscode.workspace.getConfiguration(Settings.section);
  const log = owner.add(createLog());

  const groupBy = () => {
    const v = cfg().get<unknown>(Settings.groupBy, '');
    return typeof v === 'string' ? v.trim() : '';
  };
  const registry = owner.add(new RunRegistry(log, groupBy, context.workspaceState));
  const watcher = owner.add(new RunWatcher(registry, () => cfg().get<number>(Settings.refreshDebounceMs, 250), log));
  const startup = new StartupTiming(log, () => registry.firstSearch);
  const tree = owner.add(new ExperimentsTree(registry, () => cfg().get<number>(Settings.pageSize, 500), startup));
  owner.add(vscode.window.createTreeView(ViewIds.experiments, { treeDataProvider: tree, showCollapseAll: true }));
  const statusBar = owner.add(new RunStatusBar(registry));
  const notifications = new RunNotifications();
  owner.add(
    registry.onDidChange((change) => {
      notifications.handle(change);
      void vscode.commands.executeCommand('setContext', ContextKeys.hasExperiments, change.entries.length + registry.unreadable.length > 0);
      void vscode.commands.executeCommand('setContext', ContextKeys.anyRunning, registry.liveRunDirs().length > 0);
    }),
  );
  const tasks = new ResumableTaskProvider(context.asAbsolutePath('dist/cli.js'), () => registry.current.map((e) => e.file));
  owner.add(vscode.tasks.registerTaskProvider(TaskType, tasks));
  for (const c of registerCommands({ registry, tasks, tree, watcher, log })) owner.add(c);
  const dashboards = owner.add(new Dashboards(registry, context.extensionUri, groupBy, log));
  for (const c of [...registerDashboardCommands(registry, dashboards, log), ...registerUnitCommands(tasks, log)]) owner.add(c);
  const compares = owner.add(new ComparePanels(registry, context.extensionUri, log));
  for (const c of registerCompareCommands(registry, compares, log)) owner.add(c);
  const authoring = registerAuthoring(log, registry);
  for (const d of authoring.disposables) owner.add(d);

  // File events can be late or missing (in code-server here none arrived for a run folder), so
  // live runs are also read on a timer and a pause is read as it ends (livePoll.ts).
  owner.add(new LivePoll(registry, watcher));
  const onTask = (e: vscode.TaskProcessStartEvent | vscode.TaskProcessEndEvent) => {
    if (e.execution.task.definition.type === TaskType) watcher.queue(undefined, true);
  };
  owner.add(vscode.tasks.onDidStartTaskProcess(onTask));
  owner.add(vscode.tasks.onDidEndTaskProcess(onTask));
  owner.add(vscode.workspace.onDidGrantWorkspaceTrust(() => void registry.rescan()));
  owner.add(
    vscode.workspace.onDidChangeConfiguration((e) => {
      // Through the watcher's queue: a re-read of a journal never interleaves with another.
      if (e.affectsConfiguration(`${Settings.section}.${Settings.groupBy}`)) watcher.readNow([], true);
    }),
  );

  // The first scan (the last scan's runs at once, then the workspace search) runs after activation returns.
  const ready = new Promise<void>((resolve) => setTimeout(resolve, 0))
    .then(() => registry.start())
    .catch((e: unknown) => log.error(`first scan of the workspace failed: ${errorText(e)}`))
    .finally(() => void vscode.commands.executeCommand('setContext', ContextKeys.scanned, true));
  log.info(`activated (VS Code ${vscode.version}, workspace ${vscode.workspace.isTrusted ? 'trusted' : 'not trusted'})`);
  // The log channel writes here (ExtHostOutputService: <logUri>/<channel name>.log).
  return { registry, tasks, tree, ready, authoring, statusBar, logFile: vscode.Uri.joinPath(context.logUri, `${LOG_NAME}.log`) };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

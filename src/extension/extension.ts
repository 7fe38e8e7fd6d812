import * as vscode from 'vscode';
import { registerCommands } from './commands';
import { ContextKeys, Settings, TaskType, ViewIds } from './constants';
import { createLog, errorText, LOG_NAME } from './log';
import { RunNotifications } from './notifications';
import { DisposableOwner } from './owner';
import { RunRegistry } from './runs';
import { RunStatusBar } from './statusBar';
import { ResumableTaskProvider } from './tasks';
import { ExperimentsTree } from './tree';
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
}

const LIVE_POLL_MS = 2000;
const SLOW_RESCAN_TICKS = 8;

export function activate(context: vscode.ExtensionContext): ResumableApi {
  const owner = new DisposableOwner();
  context.subscriptions.push(owner);
  const cfg = () => vscode.workspace.getConfiguration(Settings.section);
  const log = owner.add(createLog());

  const groupBy = () => {
    const v = cfg().get<unknown>(Settings.groupBy, '');
    return typeof v === 'string' ? v.trim() : '';
  };
  const registry = owner.add(new RunRegistry(log, groupBy));
  const watcher = owner.add(new RunWatcher(registry, () => cfg().get<number>(Settings.refreshDebounceMs, 250), log));
  const tree = owner.add(new ExperimentsTree(registry, () => cfg().get<number>(Settings.pageSize, 500)));
  owner.add(vscode.window.createTreeView(ViewIds.experiments, { treeDataProvider: tree, showCollapseAll: true }));
  owner.add(new RunStatusBar(registry));
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

  // Watcher events can be missed (a run folder created after the watcher started was seen to
  // go unnoticed in code-server), so the watcher is not the only source: live runs are
  // re-read every few seconds (only their new journal bytes); while one of our tasks runs
  // the workspace is rescanned for new run folders; otherwise a slow rescan finds runs
  // started from a terminal. The poll reads at once: through the debounce it would only
  // push back the batch it joined.
  let ticks = 0;
  const poll = setInterval(() => {
    ticks++;
    const ourTaskRuns = vscode.tasks.taskExecutions.some((e) => e.task.definition.type === TaskType);
    if (ourTaskRuns || ticks % SLOW_RESCAN_TICKS === 0) watcher.readNow([], true);
    else watcher.readNow(registry.liveRunDirs());
  }, LIVE_POLL_MS);
  owner.add({ dispose: () => clearInterval(poll) });
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

  // The first scan (which loads the engine) runs after activation returns.
  const ready = new Promise<void>((resolve) => setTimeout(resolve, 0))
    .then(() => registry.rescan())
    .catch((e: unknown) => log.error(`first scan of the workspace failed: ${errorText(e)}`));
  log.info(`activated (VS Code ${vscode.version}, workspace ${vscode.workspace.isTrusted ? 'trusted' : 'not trusted'})`);
  // The log channel writes here (ExtHostOutputService: <logUri>/<channel name>.log).
  return { registry, tasks, tree, ready, logFile: vscode.Uri.joinPath(context.logUri, `${LOG_NAME}.log`) };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

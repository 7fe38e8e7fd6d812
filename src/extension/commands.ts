import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands, TaskType } from './constants';
import { engine } from './engine';
import type { Log } from './log';
import { stopPlan } from './model/stopPlan';
import type { ExperimentEntry, TreeNode } from './model/treeModel';
import type { RunRegistry } from './runs';
import { registerSafeCommand } from './safeCommand';
import { executionFor, type ResumableTaskProvider } from './tasks';
import type { ExperimentsTree } from './tree';
import type { RunWatcher } from './watcher';

interface Deps {
  readonly registry: RunRegistry;
  readonly tasks: ResumableTaskProvider;
  readonly tree: ExperimentsTree;
  readonly watcher: RunWatcher;
  readonly log: Log;
}

type Arg = TreeNode | vscode.Uri | undefined;

export function registerCommands(d: Deps): vscode.Disposable[] {
  const run = (flags: string[]) => async (arg: Arg) => {
    if (!trusted(d.log, flags[0] ?? 'resume')) return;
    const entry = await pickExperiment(
      d.registry,
      arg,
      flags.length ? `Experiment to ${flags[0]!.slice(2).replace('-', ' ')}` : 'Experiment to resume',
    );
    if (!entry) return;
    if (flags[0] === '--fresh' && !(await confirmFresh(entry))) return;
    return startRun(d, entry, flags);
  };
  const register = (id: string, fn: (...args: never[]) => unknown) => registerSafeCommand(d.log, id, fn);
  return [
    register(Commands.resume, run([])),
    register(Commands.startFresh, run(['--fresh'])),
    register(Commands.retryErrors, run(['--retry-errors'])),
    register(Commands.retryFailed, run(['--retry-failed'])),
    register(Commands.repair, (arg: Arg) => repair(d, arg)),
    register(Commands.stop, (arg: Arg) => stop(d, arg)),
    register(Commands.openRunFolder, (arg: Arg) => openRunFolder(d, arg)),
    register(Commands.showUnitLog, (arg: Arg) => showUnitLog(d, arg)),
    register(Commands.showMore, (node: TreeNode) => d.tree.showMore(node)),
    register(Commands.refresh, () => d.registry.rescan()),
    register(Commands.newExperiment, () => newExperiment()),
  ];
}

function trusted(log: Log, what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  log.info(`refused ${what}: the workspace is not trusted`);
  void vscode.window.showWarningMessage(
    'Resumable runs no experiment in an untrusted workspace. Trust the workspace to run it; the views still show its state.',
  );
  return false;
}

async function startRun(d: Deps, entry: ExperimentEntry, flags: string[]): Promise<vscode.TaskExecution | undefined> {
  if (executionFor(entry.file) || (entry.report?.status === 'running' && entry.report.runner?.alive)) {
    void vscode.window.showInformationMessage(`Resumable: ${entry.label} is already running.`);
    return undefined;
  }
  const task = d.tasks.build({ type: TaskType, experiment: entry.file, flags });
  return vscode.tasks.executeTask(task);
}

async function confirmFresh(entry: ExperimentEntry): Promise<boolean> {
  const r = entry.report;
  if (!r) return true;
  const rel = vscode.workspace.asRelativePath(r.runDir);
  const pick = await vscode.window.showWarningMessage(
    `Start ${entry.label} from scratch?`,
    {
      modal: true,
      detail: `The current state of ${rel} — ${r.done} finished unit(s), the journal, state.json and the unit folders — moves to ${rel}/archive/<time>/. Nothing is deleted.`,
    },
    'Start Fresh',
  );
  return pick === 'Start Fresh';
}

async function repair(d: Deps, arg: Arg): Promise<void> {
  if (!trusted(d.log, 'repair')) return;
  const entry = await pickExperiment(d.registry, arg, 'Experiment whose checkpoint to repair', true);
  const dir = entry?.report?.runDir;
  if (!dir) return;
  const core = engine();
  const label = entry.label;
  try {
    const preview = await core.repairRun(dir, { dryRun: true, clock: core.systemClock });
    if (!preview.plan.changed) {
      void vscode.window.showInformationMessage(`Resumable: ${entry.label}: nothing to repair (${preview.summary}).`);
      return;
    }
    const lines = [
      preview.plan.adopted.length
        ? `Adopt ${preview.plan.adopted.length} result(s) the journal missed: ${preview.plan.adopted.slice(0, 5).join(', ')}${preview.plan.adopted.length > 5 ? ', …' : ''}`
        : '',
      preview.plan.dropped.length ? `Leave out damaged journal line(s) ${preview.plan.dropped.slice(0, 10).join(', ')}` : '',
      preview.plan.droppedTornTail ? 'Leave out a torn last line' : '',
      'The current journal and state are backed up into archive/ first.',
    ].filter(Boolean);
    const pick = await vscode.window.showWarningMessage(
      `Repair ${entry.label}: ${preview.summary}`,
      { modal: true, detail: lines.join('\n') },
      'Repair',
    );
    if (pick !== 'Repair') return;
    const done = await core.repairRun(dir, { clock: core.systemClock });
    d.watcher.queue(dir);
    d.log.info(`repaired ${dir}: ${done.summary}; backup in ${done.backup ?? '(none)'}`);
    void vscode.window.showInformationMessage(
      `Resumable: repaired ${entry.label} (${done.summary}). Backup: ${vscode.workspace.asRelativePath(done.backup ?? dir)}`,
    );
  } catch (e) {
    throw withContext(`could not repair ${label}`, e);
  }
}

/** The error with what was being done in front of its message; its name (UserError or not) and stack kept for the log. */
function withContext(context: string, e: unknown): Error {
  const inner = e instanceof Error ? e : new Error(String(e));
  return Object.assign(new Error(`${context}: ${inner.message}`), {
    name: inner.name,
    stack: inner.stack,
    hints: (inner as { hints?: unknown }).hints,
  });
}

async function stop(d: Deps, arg: Arg): Promise<void> {
  const live = d.registry.current.filter(
    (e) => executionFor(e.file) || e.report?.status === 'running' || e.report?.status === 'paused_rate_limit',
  );
  const entry = await pickExperiment(d.registry, arg, 'Experiment to stop', true, live);
  if (!entry) return;
  const exec = executionFor(entry.file);
  if (exec) {
    // The task's process gets a signal: the CLI's clean interrupt path (units in flight finish).
    exec.terminate();
    d.log.info(`stop: ended the task of ${entry.file}`);
    return;
  }
  const plan = stopPlan(entry.label, entry.report?.runner ?? null, os.hostname());
  switch (plan.kind) {
    case 'elsewhere':
      d.log.info(`stop: ${plan.message}`);
      void vscode.window.showWarningMessage(`Resumable: ${plan.message}`);
      return;
    case 'signal':
      try {
        process.kill(plan.pid, 'SIGINT');
      } catch (e) {
        throw withContext(`could not stop ${entry.label} (pid ${plan.pid} on this machine)`, e);
      }
      d.log.info(`stop: sent SIGINT to pid ${plan.pid}, the runner of ${entry.report?.runDir}`);
      void vscode.window.showInformationMessage(`Resumable: asked ${entry.label} (pid ${plan.pid}) to stop; units in flight finish first.`);
      return;
    case 'notRunning':
      void vscode.window.showInformationMessage(`Resumable: ${entry.label} is not running.`);
  }
}

async function openRunFolder(d: Deps, arg: Arg): Promise<void> {
  let dir: string | undefined;
  if (arg instanceof vscode.Uri && fs.existsSync(path.join(arg.fsPath, 'experiment.json'))) dir = arg.fsPath;
  else if (arg && !(arg instanceof vscode.Uri) && arg.kind === 'unreadable') dir = arg.run.runDir;
  else dir = (await pickExperiment(d.registry, arg, 'Experiment whose run folder to open', true))?.report?.runDir;
  if (!dir) return;
  await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(dir));
}

async function showUnitLog(d: Deps, arg: Arg): Promise<void> {
  let entry: ExperimentEntry | undefined;
  let unitId: string | undefined;
  if (arg && !(arg instanceof vscode.Uri) && arg.kind === 'unit') {
    entry = arg.entry;
    unitId = arg.unitId;
  } else {
    entry = await pickExperiment(d.registry, arg, 'Experiment', true);
    const units = entry?.units;
    if (!units) return;
    const order = ['error', 'failed', 'rate_limited', 'running', 'passed', 'pending'];
    const sorted = [...units].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
    unitId = (await vscode.window.showQuickPick(sorted.map((u) => ({ label: u.id, description: u.status, detail: u.why }))))?.label;
  }
  const dir = entry?.report?.runDir;
  if (!dir || !unitId) return;
  const log = path.join(dir, 'units', engine().unitFolderName(unitId), 'output.log');
  if (!fs.existsSync(log)) {
    // A unit adopted from a result on disk (often in the experiment's own layout) never ran here: show its result.
    const result = engine().findResultFile(dir, unitId);
    if (result) {
      await vscode.window.showTextDocument(vscode.Uri.file(result), { preview: true });
      return;
    }
    void vscode.window.showInformationMessage(`Resumable: ${unitId} has no log yet (it has not run).`);
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(log), { preview: true });
}

/** The experiment an argument names (tree node, file, run folder), or one the user picks. */
async function pickExperiment(
  registry: RunRegistry,
  arg: Arg,
  title: string,
  needsRun = false,
  among?: readonly ExperimentEntry[],
): Promise<ExperimentEntry | undefined> {
  if (arg && !(arg instanceof vscode.Uri) && arg.kind === 'unreadable') {
    throw new Error(`${vscode.workspace.asRelativePath(arg.run.runDir)} cannot be read: ${arg.run.detail}`);
  }
  if (arg && !(arg instanceof vscode.Uri) && arg.kind !== 'more') return arg.entry;
  if (arg instanceof vscode.Uri) {
    const found = registry.current.find((e) => e.file === arg.fsPath || e.report?.runDir === arg.fsPath);
    if (found) return found;
  }
  const candidates = (among ?? registry.current).filter((e) => !needsRun || e.report);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(
      needsRun ? 'Resumable: no run to act on yet.' : 'Resumable: no *.experiment.json in this workspace.',
    );
    return undefined;
  }
  if (candidates.length === 1 && arg === undefined && among) return candidates[0];
  const pick = await vscode.window.showQuickPick(
    candidates.map((e) => ({
      label: e.label,
      description: e.report ? `${e.report.status.replace(/_/g, ' ')} · ${e.report.done}/${e.report.total}` : 'not started',
      detail: vscode.workspace.asRelativePath(e.file),
      entry: e,
    })),
    { title, placeHolder: 'Pick an experiment' },
  );
  return pick?.entry;
}

async function newExperiment(): Promise<void> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) return;
  const file = vscode.Uri.joinPath(folder.uri, 'my-eval.experiment.json');
  const data = vscode.Uri.joinPath(folder.uri, 'data', 'items.jsonl');
  if (!fs.existsSync(data.fsPath)) {
    await vscode.workspace.fs.writeFile(data, Buffer.from('{"id": "q-001", "question": "2 + 2"}\n{"id": "q-002", "question": "3 + 5"}\n'));
  }
  if (!fs.existsSync(file.fsPath)) await vscode.workspace.fs.writeFile(file, Buffer.from(TEMPLATE));
  await vscode.window.showTextDocument(file);
}

const TEMPLATE = `{
  // One unit per item × matrix cell. See the Resumable README for every key.
  "name": "my-eval",
  "items": { "file": "data/items.jsonl", "id": "id" },
  "matrix": { "model": ["model-a", "model-b"] },
  "run": {
    // argv array, no shell; the command writes \${unitDir}/result.json with {"passed": true|false}
    "command": ["python", "eval.py", "--question", "\${item.question}", "--model", "\${model}", "--out", "\${unitDir}"],
    "timeoutSeconds": 600
  },
  "result": { "file": "result.json", "passed": "passed" },
  "concurrency": 4,
  "retries": { "maxAttempts": 3, "backoffSeconds": [5, 300] },
  "rateLimit": { "exitCodes": [75], "patterns": ["429", "retry-after: (?<reset>\\\\d+)"] },
  "seed": 1
}
`;

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { Commands, TaskType } from './constants';
import { engine } from './engine';
import type { Log } from './log';
import { stopPlan } from './model/stopPlan';
import { followStop } from './stopNotice';
import { headWord, isLive, type ExperimentEntry, type TreeNode } from './model/treeModel';
import { countOf, nothingToRepairMessage, PICK_TITLES, repairSummary, runPickTitle } from './model/wording';
import type { RunRegistry } from './runs';
import { registerSafeCommand } from './safeCommand';
import { executionFor, type ResumableTaskProvider } from './tasks';
import { newExperiment } from './newExperiment';
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
    const entry = await pickExperiment(d.registry, arg, runPickTitle(flags));
    if (!entry) return;
    if (flags[0] === '--fresh' && !entry.report) {
      // Never run: nothing to archive, so no modal (a question with one answer); it starts as
      // Resume does. Without --fresh, a run folder the view has not seen yet is resumed, never
      // archived without asking.
      d.log.info(`start fresh: ${entry.label} has not run yet, so nothing is archived; starting it`);
      vscode.window.setStatusBarMessage(`Resumable: ${entry.label} has not run yet — nothing to archive; starting it.`, 5000);
      return startRun(d, entry, []);
    }
    if (flags[0] === '--fresh' && entry.report && !(await confirmFresh(entry.label, entry.report))) return;
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
    register(Commands.newExperiment, (arg: unknown, name: unknown) => newExperiment(d.log, arg, name)),
    register(Commands.run, run([])),
    register(Commands.dryRun, run(['--dry-run'])),
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
  if (executionFor(entry.file) || isLive(entry.report)) {
    void vscode.window.showInformationMessage(`Resumable: ${entry.label} is already running.`);
    return undefined;
  }
  const task = d.tasks.build({ type: TaskType, experiment: entry.file, flags });
  return vscode.tasks.executeTask(task);
}

async function confirmFresh(label: string, r: NonNullable<ExperimentEntry['report']>): Promise<boolean> {
  const rel = vscode.workspace.asRelativePath(r.runDir);
  const pick = await vscode.window.showWarningMessage(
    `Start ${label} from scratch?`,
    {
      modal: true,
      detail: `The current state of ${rel} — ${countOf(r.done, 'finished unit')}, the journal, state.json and the unit folders — moves to ${rel}/archive/<time>/. Nothing is deleted.`,
    },
    'Start Fresh',
  );
  return pick === 'Start Fresh';
}

async function repair(d: Deps, arg: Arg): Promise<void> {
  if (!trusted(d.log, 'repair')) return;
  const entry = await pickExperiment(d.registry, arg, PICK_TITLES.repair, true);
  const dir = entry?.report?.runDir;
  if (!dir) return;
  const core = engine();
  const label = entry.label;
  try {
    const preview = await core.repairRun(dir, { dryRun: true, clock: core.systemClock });
    if (!preview.plan.changed) {
      void vscode.window.showInformationMessage(nothingToRepairMessage(entry.label, entry.report));
      return;
    }
    const lines = [
      preview.plan.adopted.length
        ? `Adopt ${countOf(preview.plan.adopted.length, 'result')} the journal missed: ${preview.plan.adopted.slice(0, 5).join(', ')}${preview.plan.adopted.length > 5 ? ', …' : ''}`
        : '',
      preview.plan.dropped.length
        ? `Leave out ${preview.plan.dropped.length === 1 ? 'damaged journal line' : 'damaged journal lines'} ${preview.plan.dropped.slice(0, 10).join(', ')}`
        : '',
      preview.plan.droppedTornTail ? 'Leave out a torn last line' : '',
      'The current journal and state are backed up into archive/ first.',
    ].filter(Boolean);
    const pick = await vscode.window.showWarningMessage(
      `Repair the checkpoint of ${entry.label}? The repair ${repairSummary(preview.plan)}.`,
      { modal: true, detail: lines.join('\n') },
      'Repair',
    );
    if (pick !== 'Repair') return;
    const done = await core.repairRun(dir, { clock: core.systemClock });
    d.watcher.queue(dir);
    d.log.info(`repaired ${dir}: ${done.summary}; backup in ${done.backup ?? '(none)'}`);
    void vscode.window.showInformationMessage(
      `Resumable: repaired ${entry.label}: ${repairSummary(done.plan, 'did')}. The journal before it is in ${vscode.workspace.asRelativePath(done.backup ?? dir)}.`,
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
  const live = d.registry.current.filter((e) => executionFor(e.file) || isLive(e.report));
  const entry = await pickExperiment(d.registry, arg, PICK_TITLES.stop, true, live);
  if (!entry) return;
  const exec = executionFor(entry.file);
  if (exec) {
    // The task's process gets a signal: the CLI's clean interrupt path (units in flight finish).
    exec.terminate();
    d.log.info(`stop: ended the task of ${entry.file}`);
    void followStop(d.registry, entry.label, entry.file);
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
      void followStop(d.registry, entry.label, entry.file);
      return;
    case 'notRunning':
      void vscode.window.showInformationMessage(`Resumable: ${entry.label} is not running.`);
  }
}

async function openRunFolder(d: Deps, arg: Arg): Promise<void> {
  let dir: string | undefined;
  if (arg instanceof vscode.Uri && fs.existsSync(path.join(arg.fsPath, 'experiment.json'))) dir = arg.fsPath;
  else if (arg && !(arg instanceof vscode.Uri) && arg.kind === 'unreadable') dir = arg.run.runDir;
  else dir = (await pickExperiment(d.registry, arg, PICK_TITLES.openRunFolder, true))?.report?.runDir;
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
    entry = await pickExperiment(d.registry, arg, PICK_TITLES.showUnitLog, true);
    const units = entry?.units;
    if (!units) return;
    const order = ['error', 'failed', 'rate_limited', 'running', 'passed', 'pending'];
    const sorted = [...units].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
    unitId = (
      await vscode.window.showQuickPick(
        sorted.map((u) => ({ label: u.id, description: u.status.replace(/_/g, ' '), detail: u.why })),
        { title: PICK_TITLES.unit, placeHolder: 'Pick a unit' },
      )
    )?.label;
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
    // An experiment file the registry has not seen yet (just written): itself, not a pick.
    if (arg.fsPath.endsWith('.experiment.json') && fs.existsSync(arg.fsPath))
      return { file: arg.fsPath, label: path.basename(arg.fsPath, '.experiment.json') };
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
      description: e.report ? `${headWord(e.report, Date.now())} · ${e.report.done}/${e.report.total}` : 'not started',
      detail: vscode.workspace.asRelativePath(e.file),
      entry: e,
    })),
    { title, placeHolder: 'Pick an experiment' },
  );
  return pick?.entry;
}

import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, cli, logText, recordShown, runDirOf, until, workspaceDir, writeExperiment } from './helpers';

/** The log, the command wrapper and Stop on another host; called inside the trusted suite. */
export function diagnosticsSuite(): void {
  it('a run folder written by a newer Resumable is a tree row that says it cannot be read, and why; the log says it too', async () => {
    const a = await api();
    const dir = path.join(workspaceDir(), '.resumable', 'future-1a2b3c4d');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'experiment.json'),
      JSON.stringify({
        schemaVersion: 99,
        name: 'future',
        hash: '1a2b3c4d',
        experimentFile: path.join(workspaceDir(), 'future.experiment.json'),
        createdAt: Date.now(),
        somethingNew: {},
      }),
    );
    await vscode.commands.executeCommand('resumable.refresh');
    const row = await until('the unreadable row', () => a.tree.getChildren().find((n) => n.kind === 'unreadable' && n.run.runDir === dir));
    const item = a.tree.getTreeItem(row);
    assert.equal(item.label, 'future-1a2b3c4d');
    assert.equal(item.description, 'cannot read: written by a newer Resumable (schemaVersion 99)');
    assert.match(
      typeof item.tooltip === 'string' ? item.tooltip : (item.tooltip?.value ?? ''),
      /this one reads up to 1\)\. Upgrade resumable to use this run; nothing was changed/,
    );
    assert.ok(
      a.tree.getChildren().some((n) => n.kind === 'experiment' && n.entry.label === 'evals'),
      'the readable runs are still there',
    );
    await until('the log to say why', () =>
      logText(a).match(new RegExp(`\\[warning\\] cannot read ${dir}: .*Written by a newer Resumable \\(schemaVersion 99`)),
    );
    fs.rmSync(dir, { recursive: true });
    await vscode.commands.executeCommand('resumable.refresh');
    await until('the row to go with its folder', () => !a.tree.getChildren().some((n) => n.kind === 'unreadable'));
  });

  it('a command that fails (Repair of a sharded run) shows the error with Show Log, logs it, and does not reject', async () => {
    const a = await api();
    const file = writeExperiment('halves');
    assert.equal((await cli(['run', 'halves.experiment.json', '--shard', '1/2'])).code, 0);
    await until('the sharded run in the registry', () => a.registry.current.find((e) => e.label === 'halves' && e.report?.shards.length));
    const errors = recordShown('showErrorMessage', 'Show Log');
    try {
      await vscode.commands.executeCommand('resumable.repair', vscode.Uri.file(file));
    } finally {
      errors.dispose();
    }
    assert.equal(errors.shown.length, 1, JSON.stringify(errors.shown));
    assert.match(errors.shown[0]!.message, /^Resumable: could not repair halves: .*split into shards \(1of2\).*Merge the shards first/);
    assert.deepEqual(errors.shown[0]!.items, ['Show Log']);
    await until('the log to hold the error', () =>
      /\[error\] resumable\.repair: could not repair halves: .*split into shards/.test(logText(a)),
    );
    // "Show Log" was clicked: the output channel is open.
    await until(
      'the Resumable output channel to be shown',
      () => vscode.workspace.textDocuments.some((d) => d.uri.scheme === 'output' && d.uri.path.includes('Resumable')),
      10_000,
    );
  });

  it('Stop on a run whose runner is on another host signals nothing here and says where it runs and how to stop it', async () => {
    const a = await api();
    const file = writeExperiment('remote');
    assert.equal((await cli(['run', 'remote.experiment.json'])).code, 0);
    const dir = runDirOf('remote')!;
    // A real local process with the pid the remote runner has: what a local kill would hit.
    const bystander = spawn('sleep', ['60'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => bystander.on('exit', (_code, signal) => resolve(signal)));
    const pid = bystander.pid!;
    const host = 'gpu-box-7';
    try {
      fs.appendFileSync(path.join(dir, 'journal.jsonl'), JSON.stringify({ t: 'runner_start', ts: Date.now(), pid, host }) + '\n');
      fs.writeFileSync(
        path.join(dir, 'lock'),
        JSON.stringify({ schemaVersion: 1, pid, host, startedAt: Date.now(), token: 'remote-runner', role: 'run' }),
      );
      const state = JSON.parse(fs.readFileSync(path.join(dir, 'state.json'), 'utf8'));
      fs.writeFileSync(path.join(dir, 'state.json'), JSON.stringify({ ...state, status: 'running', pid, host, heartbeat: Date.now() }));
      await vscode.commands.executeCommand('resumable.refresh');
      await until('the remote runner to be live in the registry', () => {
        const r = a.registry.current.find((e) => e.label === 'remote')?.report;
        return r?.status === 'running' && r.runner?.host === host && r.runner.alive;
      });
      const warnings = recordShown('showWarningMessage');
      try {
        await vscode.commands.executeCommand('resumable.stop', vscode.Uri.file(file));
      } finally {
        warnings.dispose();
      }
      assert.doesNotThrow(() => process.kill(pid, 0), 'the local process with that pid is alive');
      // Ours is the first signal it gets if Stop sent none (a SIGINT already sent would be what ends it).
      bystander.kill('SIGTERM');
      assert.equal(await exited, 'SIGTERM', 'Stop sent the local process nothing');
      assert.equal(warnings.shown.length, 1, JSON.stringify(warnings.shown));
      assert.match(
        warnings.shown[0]!.message,
        new RegExp(
          `remote runs on ${host} \\(pid ${pid}\\), not on this machine .*\`kill -INT ${pid}\` on ${host}, or Ctrl\\+C in its terminal`,
        ),
      );
      await until('the log to say where the runner is', () => logText(a).includes(`stop: remote runs on ${host} (pid ${pid})`));
    } finally {
      bystander.kill('SIGKILL');
      fs.rmSync(path.join(dir, 'lock'), { force: true });
    }
  });
}

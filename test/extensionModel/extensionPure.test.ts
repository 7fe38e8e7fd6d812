import { test } from 'node:test';
import assert from 'node:assert/strict';
import { folderOf, resolveExperiment, taskExperiment } from '../../src/extension/model/taskPaths';
import { stopPlan } from '../../src/extension/model/stopPlan';
import { unreadable } from '../../src/extension/model/unreadable';
import { childrenOf } from '../../src/extension/model/treeModel';
import { UserError } from '../../src/core/errors';
import { checkSchemaVersion } from '../../src/core/store/schemaVersion';

test('task paths (multi-root): an experiment in the second folder resolves against its own folder, not the first', () => {
  const folders = ['/ws/alpha', '/ws/beta', '/ws/beta/nested'];
  const file = '/ws/beta/evals/gsm8k.experiment.json';
  const folder = folderOf(file, folders);
  assert.equal(folder, '/ws/beta');
  const experiment = taskExperiment(file, folder);
  assert.equal(experiment, 'evals/gsm8k.experiment.json');
  assert.equal(resolveExperiment(experiment, folder, folders[0]!), file, 'round trip through the task definition');
  assert.notEqual(resolveExperiment(experiment, undefined, folders[0]!), file, 'what the first folder would give');
  assert.equal(folderOf('/ws/beta/nested/x.experiment.json', folders), '/ws/beta/nested', 'the innermost folder');
  assert.equal(folderOf('/ws/betamax/x.experiment.json', folders), undefined, 'a sibling with a common prefix is not inside');
  assert.equal(taskExperiment('/elsewhere/x.experiment.json', undefined), '/elsewhere/x.experiment.json');
  assert.equal(resolveExperiment('/abs/x.experiment.json', '/ws/beta', '/ws/alpha'), '/abs/x.experiment.json');
  assert.equal(
    resolveExperiment('x.experiment.json', undefined, '/ws/alpha'),
    '/ws/alpha/x.experiment.json',
    'a workspace-wide task: the first folder',
  );
});

test('stop plan: a pid is signalled only on its own host; a remote runner is told where it runs and how to stop it', () => {
  const runner = { pid: 4242, host: 'gpu-box-7', heartbeatAgeMs: 1000, alive: true };
  assert.deepEqual(stopPlan('evals', { ...runner, host: 'here' }, 'here'), { kind: 'signal', pid: 4242 });
  const remote = stopPlan('evals', runner, 'here');
  assert.equal(remote.kind, 'elsewhere');
  assert.match(
    remote.kind === 'elsewhere' ? remote.message : '',
    /evals runs on gpu-box-7 \(pid 4242\).*`kill -INT 4242` on gpu-box-7, or Ctrl\+C in its terminal/,
  );
  assert.deepEqual(stopPlan('evals', { ...runner, alive: false }, 'here'), { kind: 'notRunning' });
  assert.deepEqual(stopPlan('evals', null, 'here'), { kind: 'notRunning' });
});

test('unreadable run folder: the row says why in a few words, the tooltip has the whole message', () => {
  let err: unknown;
  try {
    checkSchemaVersion(99, '.resumable/future-1a2b3c4d/experiment.json');
  } catch (e) {
    err = e;
  }
  const u = unreadable('/ws/.resumable/future-1a2b3c4d', err);
  assert.equal(u.reason, 'written by a newer Resumable (schemaVersion 99)');
  assert.match(
    u.detail,
    /experiment\.json \$\.schemaVersion: Written by a newer Resumable \(schemaVersion 99; this one reads up to 1\)\. Upgrade/,
  );
  assert.equal(
    unreadable('/d', new UserError("Expected valid JSON: Unexpected end; the run's frozen config is damaged")).reason,
    "expected valid JSON: Unexpected end; the run's frozen config is damaged",
  );
  assert.equal(
    unreadable('/d', Object.assign(new Error("EACCES: permission denied, open 'x'"), { code: 'EACCES' })).reason,
    "EACCES: permission denied, open 'x'",
  );
  const rows = childrenOf(undefined, [], new Map(), 500, [u]);
  assert.deepEqual(
    rows.map((r) => r.kind === 'unreadable' && r.run.reason),
    ['written by a newer Resumable (schemaVersion 99)'],
  );
});

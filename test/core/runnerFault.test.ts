import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { tmpDir, writeFiles } from '../helpers/tmp';

test(
  "out of file descriptors, the process executor says it is the runner's fault (runnerFault EMFILE), not the unit's, and leaks none",
  { timeout: 60_000 },
  () => {
    const dir = tmpDir();
    writeFiles(dir, {
      'items.jsonl': '{"id":"a"}\n',
      'e.experiment.json': JSON.stringify({
        name: 'fds',
        items: { file: 'items.jsonl' },
        run: { command: ['sh', '-c', 'echo \'{"passed": true}\' > "$RESUMABLE_UNIT_DIR/result.json"'] },
      }),
    });
    const child = path.join(__dirname, 'emfileChild.ts');
    // A low limit, so taking every descriptor is quick; the child takes them all itself.
    const out = execFileSync(
      'sh',
      [
        '-c',
        'ulimit -n 256 && exec "$0" "$@"',
        process.execPath,
        '--import',
        'tsx',
        child,
        path.join(dir, 'e.experiment.json'),
        path.join(dir, 'run'),
      ],
      { encoding: 'utf8', timeout: 50_000 },
    );
    const r = JSON.parse(out);
    assert.equal(r.warm.status, 'passed', out);
    assert.equal(r.warm.runnerFault, undefined);
    // No descriptor for the unit's log.
    assert.equal(r.noneFree.runnerFault, 'EMFILE', out);
    assert.match(r.noneFree.why, /EMFILE/);
    // The log opened; spawn found no descriptor for its pipe.
    assert.equal(r.oneFree.runnerFault, 'EMFILE', out);
    assert.match(r.oneFree.why, /EMFILE: the runner has too many open files \(raise `ulimit -n` or lower the concurrency\)/);
    assert.equal(r.secondOpen, 'EMFILE', 'the failed start gave its descriptor back, and only it');
    assert.equal(r.after.status, 'passed', out);
    assert.equal(r.leaked, 0, out);
  },
);

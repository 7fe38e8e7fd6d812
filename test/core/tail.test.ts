import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Unit } from '../../src/core/config/units';
import { JournalTail } from '../../src/core/status/tail';
import { tmpDir } from '../helpers/tmp';

const units: Unit[] = ['a', 'b', 'c'].map((id) => ({ id, item: { id, fields: {}, where: {} }, cell: {}, group: '' }));
const line = (r: object) => JSON.stringify(r) + '\n';
const header = line({ t: 'header', ts: 1, schemaVersion: 1, run: 'r', hash: 'h' });

test('the tail reads only appended bytes, waits out a torn line, and starts over when the file is replaced', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const tail = new JournalTail(
    file,
    units.map((u) => u.id),
  );
  assert.equal(await tail.poll(), 0, 'no file yet');
  fs.writeFileSync(file, header + line({ t: 'end', ts: 2, u: 'a', a: 1, s: 'passed' }));
  const first = await tail.poll();
  assert.equal(first, fs.statSync(file).size);
  assert.equal(tail.view.counts.passed, 1);
  assert.equal(await tail.poll(), 0, 'nothing new: nothing read');

  const torn = line({ t: 'end', ts: 3, u: 'b', a: 1, s: 'failed' });
  fs.appendFileSync(file, torn.slice(0, 10));
  assert.equal(await tail.poll(), 0, 'half a line is not read yet');
  assert.equal(tail.problems.tornBytes, 10);
  fs.appendFileSync(file, torn.slice(10));
  assert.equal(await tail.poll(), torn.length, 'only the new line, from where the last good one ended');
  assert.equal(tail.view.counts.failed, 1);

  // A repair replaces the journal (new inode, maybe shorter): the tail re-reads from byte 0.
  const replaced = file + '.new';
  fs.writeFileSync(replaced, header + line({ t: 'adopt', ts: 4, u: 'c', s: 'passed', why: 'repair' }));
  fs.renameSync(replaced, file);
  await tail.poll();
  assert.deepEqual([tail.view.counts.passed, tail.view.counts.failed, tail.view.counts.pending], [1, 0, 2]);
  assert.equal(tail.bytesRead, fs.statSync(file).size);
});

test('a damaged line is reported by its line number across polls, and the lines after it still count', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const tail = new JournalTail(
    file,
    units.map((u) => u.id),
  );
  fs.writeFileSync(file, header);
  await tail.poll();
  fs.appendFileSync(file, 'garbage\n' + line({ t: 'end', ts: 2, u: 'c', a: 1, s: 'passed' }));
  await tail.poll();
  assert.deepEqual(
    tail.problems.corrupt.map((c) => c.line),
    [2],
  );
  assert.equal(tail.view.counts.passed, 1);
});

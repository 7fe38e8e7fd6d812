import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { tmpDir } from '../helpers/tmp';
import { readRegularFile, realDir } from '../../src/core/store/safeRead';
import { readJsonFile } from '../../src/core/store/atomicFile';
import { LogCapper } from '../../src/core/exec/logCap';
import { systemClock } from '../../src/core/clock';

test('readRegularFile reads regular files and refuses, by name, a FIFO, a socket, a device, a folder and a symlink, without blocking', async () => {
  const dir = tmpDir();
  const p = (n: string) => path.join(dir, n);
  fs.writeFileSync(p('ok.json'), '{"a":1}');
  execFileSync('mkfifo', [p('fifo')]);
  fs.mkdirSync(p('folder'));
  fs.symlinkSync(p('ok.json'), p('link'));
  fs.symlinkSync(p('nowhere'), p('dangling'));
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(p('sock'), resolve));
  try {
    assert.deepEqual(readRegularFile(p('ok.json')), { kind: 'text', text: '{"a":1}' });
    assert.deepEqual(readRegularFile(p('missing')), { kind: 'absent' });
    assert.deepEqual(readRegularFile(p('ok.json/below')), { kind: 'absent' });
    const why = (n: string) => (readRegularFile(n) as { why?: string }).why;
    assert.equal(why(p('fifo')), 'is a FIFO (named pipe), not a regular file');
    assert.equal(why(p('sock')), 'is a socket, not a regular file');
    assert.equal(why('/dev/null'), 'is a character device, not a regular file');
    assert.equal(why('/dev/zero'), 'is a character device, not a regular file', 'a device that never ends is not read');
    assert.equal(why(p('folder')), 'is a folder, not a regular file');
    assert.equal(why(p('link')), 'is a symbolic link; not followed');
    assert.equal(why(p('dangling')), 'is a symbolic link; not followed');
  } finally {
    server.close();
  }
});

test('readRegularFile caps the size: a bigger file is refused with its size and the cap', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'big');
  fs.writeFileSync(f, '');
  fs.truncateSync(f, 3 * 1024 * 1024);
  assert.deepEqual(readRegularFile(f, { maxBytes: 1024 * 1024, what: 'a result' }), {
    kind: 'refused',
    why: 'is 3.0 MiB; a result may be at most 1 MiB',
    code: 'EFBIG',
  });
  assert.equal((readRegularFile(f, { maxBytes: 3 * 1024 * 1024 }) as { text: string }).text.length, 3 * 1024 * 1024);
});

test('readJsonFile: a FIFO is an error naming the file, not a hang; absent is undefined', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'state.json');
  assert.equal(readJsonFile(f), undefined);
  execFileSync('mkfifo', [f]);
  assert.throws(() => readJsonFile(f), { message: `${f} is a FIFO (named pipe), not a regular file` });
});

test('realDir tells a folder from a symlink to one (naming its target), and from a file', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'real'));
  fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
  fs.writeFileSync(path.join(dir, 'file'), '');
  assert.deepEqual(realDir(path.join(dir, 'real')), { kind: 'dir' });
  assert.deepEqual(realDir(path.join(dir, 'none')), { kind: 'absent' });
  assert.deepEqual(realDir(path.join(dir, 'link')), {
    kind: 'refused',
    why: `is a symbolic link (to ${path.join(dir, 'real')}); not followed`,
    link: true,
  });
  assert.deepEqual(realDir(path.join(dir, 'file')), { kind: 'refused', why: 'is a regular file, not a folder' });
});

test("LogCapper keeps an attempt's head and tail with a marker, leaves earlier attempts alone, and the writer goes on at the new end", () => {
  const dir = tmpDir();
  const file = path.join(dir, 'output.log');
  fs.writeFileSync(file, 'EARLIER ATTEMPT\n');
  const writer = fs.openSync(file, 'a'); // the unit's descriptor: O_APPEND
  const reader = fs.openSync(file, 'a+');
  const from = fs.fstatSync(reader).size;
  const watched = new LogCapper(systemClock, 65536).watch(reader, file, from);
  try {
    const line = (i: number) => `line ${String(i).padStart(7, '0')}\n`; // 13 bytes
    for (let i = 0; i < 20000; i++) fs.writeSync(writer, line(i));
    watched.trimNow();
    fs.writeSync(writer, 'AFTER TRIM\n');
    const text = fs.readFileSync(file, 'utf8');
    assert.ok(text.startsWith('EARLIER ATTEMPT\nline 0000000\n'), text.slice(0, 40));
    assert.ok(text.length <= 16 + 65536 + 200, `${text.length} bytes`);
    const m = /\n\[resumable\] (\d+) bytes of this attempt's output cut here \(maxLogBytes = 65536/.exec(text);
    assert.ok(m, 'marker');
    // Cut on line boundaries: every kept line is whole, and the kept plus the cut are all of it.
    const kept = text
      .slice(16)
      .split('\n')
      .filter((l) => l.startsWith('line '));
    assert.ok(kept.every((l) => /^line \d{7}$/.test(l)));
    assert.equal(kept.length * 13 + Number(m[1]), 20000 * 13);
    assert.ok(text.endsWith(`${line(19999)}AFTER TRIM\n`));
  } finally {
    watched.stop();
    fs.closeSync(writer);
    fs.closeSync(reader);
  }
});

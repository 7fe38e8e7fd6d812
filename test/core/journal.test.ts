import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as path from 'node:path';
import type { JournalRecord } from '../../src/core/store/events';
import { JournalWriter } from '../../src/core/store/journalWriter';
import { parseLine, readJournal } from '../../src/core/store/journalReader';
import { tmpDir } from '../helpers/tmp';

const line = (r: object) => JSON.stringify(r) + '\n';
const header: JournalRecord = { t: 'header', ts: 1, schemaVersion: 1, run: 'r', hash: 'h' };
const endRec = (i: number): JournalRecord => ({ t: 'end', ts: 1000 + i, u: `u${i}`, a: 1, s: 'passed', d: i });

async function readAll(file: string, opts?: { from?: number; firstLine?: number }) {
  const records: { r: JournalRecord; line: number }[] = [];
  const read = await readJournal(file, (r, n) => records.push({ r, line: n }), opts);
  return { records, read };
}

const noFence = () => {};

test('records round-trip through the writer and the reader', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const w = JournalWriter.open(file, noFence);
  const recs: JournalRecord[] = [
    header,
    { t: 'runner_start', ts: 2, pid: 42, host: 'box', flags: ['--retry-errors'] },
    { t: 'start', ts: 3, u: 'q/1 ünïcødé ✓', a: 1, pid: 7, pst: 99 },
    { t: 'end', ts: 4, u: 'q/1 ünïcødé ✓', a: 1, s: 'failed', x: 1, sig: null, d: 12, why: 'line\nbreak "quoted"', r: { nested: [1, 2] } },
    { t: 'adopt', ts: 5, u: 'b', s: 'passed', why: 'repair' },
    { t: 'pause', ts: 6, until: 60, src: 'b', why: '429' },
    { t: 'unpause', ts: 7 },
    { t: 'requeue', ts: 8, u: ['a', 'b'], why: '--retry-failed' },
    { t: 'runner_end', ts: 9, status: 'completed' },
  ];
  for (const r of recs) await w.append(r);
  await w.close();
  const { records, read } = await readAll(file);
  assert.deepEqual(
    records.map((x) => x.r),
    recs,
  );
  assert.deepEqual(
    records.map((x) => x.line),
    recs.map((_, i) => i + 1),
  );
  assert.equal(read.lines, recs.length);
  assert.deepEqual(read.corrupt, []);
  assert.equal(read.tornTail, undefined);
  assert.equal(read.goodLength, fs.statSync(file).size);
});

test('appends made while a flush runs are batched into one write+fdatasync, and stay in order', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const w = JournalWriter.open(file, noFence);
  const sync = mock.method(fs, 'fdatasync');
  const settled: number[] = [];
  let promises: Promise<void>[];
  try {
    promises = Array.from({ length: 1000 }, (_, i) => w.append(endRec(i)).then(() => void settled.push(i)));
    assert.ok(w.queuedOffset > w.durableOffset, 'nothing is durable before the first fdatasync');
    await w.whenDurable();
    await Promise.all(promises);
    // The first append starts a flush of itself; the other 999 wait for it and go in one batch.
    assert.equal(sync.mock.callCount(), 2);
  } finally {
    sync.mock.restore();
  }
  assert.equal(settled.length, 1000);
  assert.equal(w.durableOffset, fs.statSync(file).size);
  assert.equal(w.durableOffset, w.queuedOffset);
  await w.close();
  const { records, read } = await readAll(file);
  assert.equal(records.length, 1000);
  assert.deepEqual(
    records.map((x) => x.r),
    Array.from({ length: 1000 }, (_, i) => endRec(i)),
  );
  assert.equal(read.goodLength, fs.statSync(file).size);
});

test('durableOffset starts at the existing size and equals the file size after whenDurable', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  fs.writeFileSync(file, line(header));
  const before = fs.statSync(file).size;
  const w = JournalWriter.open(file, noFence);
  assert.equal(w.durableOffset, before);
  assert.equal(w.queuedOffset, before);
  await w.whenDurable(); // nothing queued: resolves at once
  const p = w.append(endRec(1));
  void w.append(endRec(2));
  assert.equal(w.queuedOffset, before + Buffer.byteLength(line(endRec(1))) + Buffer.byteLength(line(endRec(2))));
  await p;
  assert.ok(w.durableOffset >= before + Buffer.byteLength(line(endRec(1))));
  await w.whenDurable();
  assert.equal(w.durableOffset, fs.statSync(file).size);
  assert.equal(w.durableOffset, w.queuedOffset);
  await w.close();
  const { records } = await readAll(file);
  assert.deepEqual(
    records.map((x) => x.r),
    [header, endRec(1), endRec(2)],
  );
});

test('a throwing fence rejects the append and not one more byte is written', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  let lost = false;
  let fenceCalls = 0;
  const lockLost = new Error('lock lost');
  const w = JournalWriter.open(file, () => {
    fenceCalls++;
    if (lost) throw lockLost;
  });
  await w.append(header);
  await w.append(endRec(1));
  const size = fs.statSync(file).size;
  assert.equal(fenceCalls, 2, 'the fence runs before every write');

  lost = true;
  await assert.rejects(w.append(endRec(2)), /lock lost/);
  assert.equal(w.error, lockLost);
  assert.equal(fs.statSync(file).size, size);
  // Once failed, the writer stays failed without asking the fence again.
  await assert.rejects(w.append(endRec(3)), /lock lost/);
  await assert.rejects(w.whenDurable(), /lock lost/);
  lost = false;
  await assert.rejects(w.append(endRec(4)), /lock lost/);
  assert.equal(fs.statSync(file).size, size);
  await assert.rejects(w.close(), /lock lost/);

  const { records } = await readAll(file);
  assert.deepEqual(
    records.map((x) => x.r),
    [header, endRec(1)],
  );
});

test('a fence that throws between two flushes rejects everything queued behind it', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  let calls = 0;
  const w = JournalWriter.open(file, () => {
    if (++calls > 1) throw new Error('lock lost');
  });
  const first = w.append(header);
  const queued = [w.append(endRec(1)), w.append(endRec(2))];
  await first;
  for (const p of queued) await assert.rejects(p, /lock lost/);
  assert.equal(fs.readFileSync(file, 'utf8'), line(header));
  assert.equal(w.durableOffset, fs.statSync(file).size);
  await assert.rejects(w.close(), /lock lost/);
});

test('readJournal reports a torn tail with its offset and drops it', async () => {
  const dir = tmpDir();
  const goodText = line(header) + line(endRec(1));
  const good = Buffer.byteLength(goodText);

  const torn = path.join(dir, 'torn.jsonl');
  fs.writeFileSync(torn, goodText + line(endRec(2)).slice(0, 17));
  let { records, read } = await readAll(torn);
  assert.deepEqual(
    records.map((x) => x.r),
    [header, endRec(1)],
  );
  assert.deepEqual(read.tornTail, { offset: good, bytes: 17 });
  assert.equal(read.goodLength, good);
  assert.deepEqual(read.corrupt, []);
  assert.equal(read.lines, 2);

  // What a crash can leave after the last newline on some filesystems: a run of NULs.
  const nuls = path.join(dir, 'nuls.jsonl');
  fs.writeFileSync(nuls, Buffer.concat([Buffer.from(goodText), Buffer.alloc(4096)]));
  ({ records, read } = await readAll(nuls));
  assert.equal(records.length, 2);
  assert.deepEqual(read.tornTail, { offset: good, bytes: 4096 });
  assert.equal(read.goodLength, good);
  assert.deepEqual(read.corrupt, []);

  const whole = path.join(dir, 'whole.jsonl');
  fs.writeFileSync(whole, goodText);
  ({ read } = await readAll(whole));
  assert.equal(read.tornTail, undefined);
});

test('readJournal reports a corrupt middle line by its 1-based number and still delivers the lines after it', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const l1 = line(header);
  const l2 = '{"t":"end","ts":5,"u":"a"\n'; // cut short, then the next record was appended
  const l3 = line(endRec(1));
  const l4 = 'not json at all\n';
  const l5 = line({ some: 'json', but: 'no record' });
  const l6 = '\n'; // blank lines are not damage
  const l7 = line(endRec(2));
  fs.writeFileSync(file, l1 + l2 + l3 + l4 + l5 + l6 + l7);
  const { records, read } = await readAll(file);
  assert.deepEqual(
    records.map((x) => x.r),
    [header, endRec(1), endRec(2)],
  );
  assert.deepEqual(
    records.map((x) => x.line),
    [1, 3, 7],
  );
  assert.deepEqual(
    read.corrupt.map((c) => c.line),
    [2, 4, 5],
  );
  const b = (s: string) => Buffer.byteLength(s);
  assert.deepEqual(
    read.corrupt.map((c) => c.offset),
    [b(l1), b(l1 + l2 + l3), b(l1 + l2 + l3 + l4)],
  );
  assert.equal(read.corrupt[0]!.text, l2.trimEnd());
  assert.equal(read.lines, 7);
  assert.equal(read.tornTail, undefined);
  assert.equal(read.goodLength, fs.statSync(file).size);
});

test('readJournal from an offset gives only the later records, numbered from firstLine', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const recs = [header, endRec(1), endRec(2), endRec(3), endRec(4)];
  fs.writeFileSync(file, recs.map(line).join(''));
  const from = Buffer.byteLength(line(header) + line(endRec(1)));
  const { records, read } = await readAll(file, { from, firstLine: 3 });
  assert.deepEqual(
    records.map((x) => x.r),
    [endRec(2), endRec(3), endRec(4)],
  );
  assert.deepEqual(
    records.map((x) => x.line),
    [3, 4, 5],
  );
  assert.equal(read.lines, 5);
  assert.equal(read.goodLength, fs.statSync(file).size);

  // Reading on from where the last read ended: only what was appended since.
  fs.appendFileSync(file, line(endRec(5)) + 'garbage\n' + line(endRec(6)) + line(endRec(7)).slice(0, 5));
  const again = await readAll(file, { from: read.goodLength, firstLine: read.lines + 1 });
  assert.deepEqual(again.records, [
    { r: endRec(5), line: 6 },
    { r: endRec(6), line: 8 },
  ]);
  assert.deepEqual(
    again.read.corrupt.map((c) => [c.line, c.offset]),
    [[7, read.goodLength + Buffer.byteLength(line(endRec(5)))]],
  );
  assert.deepEqual(again.read.tornTail, {
    offset: read.goodLength + Buffer.byteLength(line(endRec(5)) + 'garbage\n' + line(endRec(6))),
    bytes: 5,
  });
});

test('damaged lines with no good record after them are a torn tail of several lines (what a crash leaves past the last fsync)', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const good = [header, endRec(1)].map(line).join('');
  fs.writeFileSync(file, good + 'AB\nCDEF\n\u0000\u0000GH\nIJ');
  const { records, read } = await readAll(file);
  assert.equal(records.length, 2);
  assert.deepEqual(read.corrupt, []);
  assert.deepEqual(read.tornTail, { offset: Buffer.byteLength(good), bytes: fs.statSync(file).size - Buffer.byteLength(good) });
  assert.equal(read.goodLength, Buffer.byteLength(good));
  assert.equal(read.lines, 2);
});

test('readJournal keeps lines whole across its read chunks (multi-megabyte journal, multi-byte text)', async () => {
  const file = path.join(tmpDir(), 'big.jsonl');
  const recs: JournalRecord[] = Array.from({ length: 40_000 }, (_, i) => ({
    t: 'end',
    ts: i,
    u: `ü${i}`,
    a: 1,
    s: 'error',
    why: '✓é'.repeat(i % 17),
  }));
  const text = recs.map(line).join('');
  fs.writeFileSync(file, text + '{"t":"end"');
  assert.ok(Buffer.byteLength(text) > 2 * (1 << 20), 'spans several chunks');
  const { records, read } = await readAll(file);
  assert.equal(records.length, recs.length);
  assert.deepEqual(
    records.map((x) => x.r),
    recs,
  );
  assert.ok(records.every((x, i) => x.line === i + 1));
  assert.deepEqual(read.corrupt, []);
  assert.deepEqual(read.tornTail, { offset: Buffer.byteLength(text), bytes: 10 });
  assert.equal(read.goodLength, Buffer.byteLength(text));
});

test('readJournal on a missing file is an empty journal', async () => {
  const { records, read } = await readAll(path.join(tmpDir(), 'nope.jsonl'));
  assert.deepEqual(records, []);
  assert.deepEqual(read, { goodLength: 0, corrupt: [], lines: 0 });
});

test('parseLine accepts records and rejects look-alikes', () => {
  assert.deepEqual(parseLine(JSON.stringify(endRec(1))), endRec(1));
  assert.equal(parseLine(''), undefined);
  assert.equal(parseLine(' {"t":"unpause","ts":1}'), undefined, 'lines start with {');
  assert.equal(parseLine('{"t":"unpause"}'), undefined, 'ts is required');
  assert.equal(parseLine('{"t":"bogus","ts":1}'), undefined);
  assert.equal(parseLine('{"t":"end","ts":1,"a":1,"s":"passed"}'), undefined, 'unit records need a unit id');
  assert.equal(parseLine('{"t":"unpause","ts":1'), undefined);
});

// Regression (found by this test): the writer ignored fs.write's byte count. A write can stop
// part-way without an error (a disk filling up); then only part of the batch is in the file,
// and it must not be reported durable. The writer now writes the rest.
test('a short write is never reported durable', async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  const w = JournalWriter.open(file, noFence);
  const realWrite = fs.write;
  let shortened = false;
  const write = mock.method(fs, 'write', (...args: unknown[]) => {
    const [fd, buf, offset, length, pos, cb] = args as [
      number,
      Buffer,
      number,
      number,
      null,
      (e: Error | null, n: number, b: Buffer) => void,
    ];
    if (shortened || !Buffer.isBuffer(buf)) return (realWrite as (...a: unknown[]) => void)(...args);
    shortened = true;
    // What the kernel does on a disk that fills up mid-write: part of the bytes, no error.
    realWrite(fd, buf, offset, Math.min(20, length), pos, (e, n) => cb(e, n, buf));
  });
  let outcome: string;
  try {
    outcome = await w.append(endRec(1)).then(
      () => 'durable',
      () => 'rejected',
    );
  } finally {
    write.mock.restore();
  }
  assert.ok(shortened, 'the write went through the mock');
  const size = fs.statSync(file).size;
  assert.ok(w.durableOffset <= size, `durableOffset ${w.durableOffset} is past the end of the file (${size} bytes)`);
  if (outcome === 'durable') {
    const { records } = await readAll(file);
    assert.deepEqual(
      records.map((x) => x.r),
      [endRec(1)],
      'a resolved append reads back',
    );
  }
  await w.close().catch(() => {});
});

test("flushSync while a write is in flight keeps the lines in order: a unit's end never lands before its start", async () => {
  const file = path.join(tmpDir(), 'journal.jsonl');
  fs.writeFileSync(file, line(header));
  const w = JournalWriter.open(file, noFence);
  // The async write of the first batch is slow (a busy disk): it lands only after flushSync.
  const orig = fs.write;
  let landed: () => void = () => {};
  const slowLanded = new Promise<void>((r) => (landed = r));
  const write = mock.method(fs, 'write', (...args: unknown[]) => {
    setTimeout(() => {
      const cb = args[args.length - 1] as (e: Error | null, n: number) => void;
      (orig as (...a: unknown[]) => void)(...args.slice(0, -1), (e: Error | null, n: number) => {
        cb(e, n);
        landed();
      });
    }, 100);
  });
  try {
    const start: JournalRecord = { t: 'start', ts: 2, u: 'u1', a: 1 };
    const end: JournalRecord = { t: 'end', ts: 3, u: 'u1', a: 1, s: 'passed' };
    void w.append(start); // starts a flush: its write is in flight
    void w.append(end); // queued behind it
    w.flushSync(); // second Ctrl+C
    await slowLanded;
    await w.close();
  } finally {
    write.mock.restore();
  }
  const { records, read } = await readAll(file);
  assert.deepEqual(
    records.map((x) => x.r.t),
    ['header', 'start', 'end'],
  );
  assert.deepEqual(read.corrupt, []);
  assert.equal(read.tornTail, undefined);
});

import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { systemClock } from '../../src/core/clock';
import { isUserError } from '../../src/core/errors';
import { HeldLock, LockLostError } from '../../src/core/store/lock';
import { tmpDir } from '../helpers/tmp';

const aged = (file: string, ms: number) => {
  const t = new Date(Date.now() - ms);
  fs.utimesSync(file, t, t);
};

/** What a takeover does to the file: the old one moved aside and removed, a new one made. */
function replaceLock(file: string, token: string): void {
  fs.renameSync(file, `${file}.aside`);
  fs.rmSync(`${file}.aside`);
  fs.writeFileSync(file, JSON.stringify({ schemaVersion: 1, pid: 1, host: 'other-node', startedAt: Date.now(), token }) + '\n');
}

test('a lock replaced behind its holder is seen as lost by check, verify and heartbeat; the new lock is left alone', async () => {
  const file = path.join(tmpDir(), 'lock');
  const { lock } = await HeldLock.acquire(file, systemClock);
  const ourIno = fs.statSync(file).ino;
  replaceLock(file, 'new-holder');
  // The holder keeps its file open, so the inode it had cannot be handed to the new file (on
  // ext4 a freed inode number was reused 5 times in 5, and the old check compared inodes).
  assert.notEqual(fs.statSync(file).ino, ourIno);
  assert.throws(() => lock.check(), LockLostError);
  assert.throws(() => lock.verify(), /Lost the run lock to pid 1 on other-node/);
  const before = fs.statSync(file).mtimeMs;
  aged(file, 60_000);
  const agedMtime = fs.statSync(file).mtimeMs;
  assert.throws(() => lock.heartbeat(), LockLostError);
  assert.equal(fs.statSync(file).mtimeMs, agedMtime, "the heartbeat did not touch the new holder's lock");
  lock.release();
  assert.ok(fs.existsSync(file), "release leaves the new holder's lock");
  assert.ok(before > 0);
});

test('verify catches a new lock that has our inode number but not our token (another host on a shared filesystem)', async () => {
  const file = path.join(tmpDir(), 'lock');
  const { lock } = await HeldLock.acquire(file, systemClock);
  // Rewrite in place: same inode, other token (what an NFS server may hand another host).
  fs.writeFileSync(file, JSON.stringify({ schemaVersion: 1, pid: 7, host: 'node-b', startedAt: Date.now(), token: 'theirs' }) + '\n');
  lock.check();
  assert.throws(() => lock.verify(), /Lost the run lock to pid 7 on node-b/);
  lock.release();
});

test('a live holder on this host is never stale, however old its heartbeat looks (a clock 3 minutes ahead)', async () => {
  const file = path.join(tmpDir(), 'lock');
  const { lock } = await HeldLock.acquire(file, systemClock);
  aged(file, 180_000);
  const ahead = { ...systemClock, now: () => Date.now() + 180_000 };
  await assert.rejects(
    HeldLock.acquire(file, ahead),
    (e: Error) => isUserError(e) && new RegExp(`already being run by pid ${process.pid} on ${os.hostname()}`).test(e.message),
  );
  lock.verify();
  lock.release();
});

test('an empty lock (its writer died before writing it, e.g. on a full disk) is taken over at once, and said so', async () => {
  const file = path.join(tmpDir(), 'lock');
  fs.writeFileSync(file, '');
  aged(file, 10_000);
  const { lock, takeover } = await HeldLock.acquire(file, systemClock);
  assert.match(takeover?.reason ?? '', /empty or damaged/);
  lock.release();
  fs.writeFileSync(file, '{"pid": 12, "tok');
  aged(file, 10_000);
  const again = await HeldLock.acquire(file, systemClock);
  assert.match(again.takeover?.reason ?? '', /empty or damaged/);
  again.lock.release();
});

test('a lock that cannot be read says what it is instead of "another runner keeps racing"', async () => {
  const file = path.join(tmpDir(), 'lock');
  fs.mkdirSync(file);
  await assert.rejects(
    HeldLock.acquire(file, systemClock),
    (e: Error) => isUserError(e) && /lock\b.*is a folder, not a regular file/.test(e.message) && !/racing/.test(e.message),
  );
});

test('a lock held by repair names repair, not a runner', async () => {
  const file = path.join(tmpDir(), 'lock');
  const { lock } = await HeldLock.acquire(file, systemClock, { role: 'repair' });
  await assert.rejects(
    HeldLock.acquire(file, systemClock),
    (e: Error) => isUserError(e) && /being repaired by pid \d+/.test(e.message) && /`resumable repair`/.test(e.hints.join(' ')),
  );
  lock.release();
});

test('a lock that is a FIFO is reported, never waited on', async () => {
  const file = path.join(tmpDir(), 'lock');
  execFileSync('mkfifo', [file]);
  await assert.rejects(
    HeldLock.acquire(file, systemClock),
    (e: Error) => isUserError(e) && /is a FIFO \(named pipe\), not a regular file/.test(e.message),
  );
});

test('a runner killed while making its lock never blocks the next: the lock appears whole, and an empty one (an older version) is waited out', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'lock');
  // What a kill between the temp file's write and its link leaves: a temp file, no lock.
  fs.writeFileSync(`${file}.123456789`, JSON.stringify({ schemaVersion: 1, pid: 999999, host: os.hostname(), token: 'x' }) + '\n');
  const first = await HeldLock.acquire(file, systemClock);
  assert.equal(first.takeover, undefined);
  assert.notEqual(fs.readFileSync(file, 'utf8').trim(), '', 'the lock has its holder from the start');
  first.lock.release();
  // An empty lock made just now (its writer killed right after the create): the kill loop saw
  // the next runner give up after 20 quick tries; now it waits until the empty lock is stale.
  fs.writeFileSync(file, '');
  const t0 = Date.now();
  const second = await HeldLock.acquire(file, systemClock);
  assert.match(second.takeover?.reason ?? '', /empty or damaged/);
  assert.ok(Date.now() - t0 >= 1500, 'it was not taken over while its writer could still be writing it');
  second.lock.release();
});

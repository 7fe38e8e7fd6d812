// Records what the engine asks of the filesystem for journal.jsonl, state.json and snapshot.bin
// — every write with its offset and bytes, every fdatasync/fsync, every rename onto state.json
// or snapshot.bin with the bytes renamed, every fsync of the run folder — so the crash model can rebuild what a
// power cut at any point may leave on disk. Env: RECORD_ROOT, RECORD_OUT; then libRunner.cjs.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = process.env.RECORD_ROOT;
const ops = [];
const fds = new Map();
const kind = (p) =>
  typeof p !== 'string' || !(p === root || p.startsWith(root + path.sep))
    ? undefined
    : path.basename(p) === 'journal.jsonl'
      ? 'journal'
      : path.basename(p) === 'state.json'
        ? 'state'
        : path.basename(p) === 'snapshot.bin'
          ? 'snap'
          : /[\\/]\.resumable[\\/][^\\/]+$/.test(p)
            ? 'dir'
            : undefined;
const sizes = { journal: 0 };

const { openSync, open, write, writeSync, fdatasync, fsync, fsyncSync, fdatasyncSync, renameSync, rename, closeSync, readFileSync } = fs;
fs.openSync = function (p, ...rest) {
  if (kind(p) === 'journal' && !fs.existsSync(p)) ops.push({ k: 'create' });
  const fd = openSync.call(this, p, ...rest);
  if (kind(p)) fds.set(fd, kind(p));
  if (kind(p) === 'journal') sizes.journal = fs.fstatSync(fd).size;
  return fd;
};
fs.open = function (p, ...rest) {
  const cb = rest.pop();
  return open.call(this, p, ...rest, (err, fd) => {
    if (!err && kind(p)) fds.set(fd, kind(p));
    cb(err, fd);
  });
};
fs.closeSync = function (fd) {
  fds.delete(fd);
  return closeSync.call(this, fd);
};
function recordWrite(fd, buf, off, len, pos) {
  if (fds.get(fd) !== 'journal') return;
  const data = Buffer.isBuffer(buf) ? buf.subarray(off ?? 0, (off ?? 0) + (len ?? buf.length - (off ?? 0))) : Buffer.from(String(buf));
  const at = typeof pos === 'number' ? pos : sizes.journal;
  ops.push({ k: 'w', at, data: data.toString('base64') });
  sizes.journal = Math.max(sizes.journal, at + data.length);
}
fs.write = function (fd, buf, off, len, pos, cb) {
  if (typeof cb === 'function') recordWrite(fd, buf, off, len, pos);
  return write.apply(this, arguments);
};
fs.writeSync = function (fd, buf, off, len, pos) {
  recordWrite(fd, buf, typeof off === 'number' ? off : 0, typeof len === 'number' ? len : undefined, pos);
  return writeSync.apply(this, arguments);
};
const syncCb = (orig) =>
  function (fd, cb) {
    const k = fds.get(fd);
    return orig.call(this, fd, (err) => {
      if (!err && k === 'journal') ops.push({ k: 'sync' });
      if (!err && k === 'dir') ops.push({ k: 'dirsync' });
      cb(err);
    });
  };
fs.fdatasync = syncCb(fdatasync);
fs.fsync = syncCb(fsync);
const syncSync = (orig) =>
  function (fd) {
    const r = orig.call(this, fd);
    if (fds.get(fd) === 'journal') ops.push({ k: 'sync' });
    if (fds.get(fd) === 'dir') ops.push({ k: 'dirsync' });
    return r;
  };
fs.fsyncSync = syncSync(fsyncSync);
fs.fdatasyncSync = syncSync(fdatasyncSync);
fs.renameSync = function (from, to) {
  if (kind(to) === 'state' || kind(to) === 'snap') ops.push({ k: kind(to), data: readFileSync(from).toString('base64') });
  return renameSync.call(this, from, to);
};
fs.rename = function (from, to, cb) {
  if (kind(to) === 'state' || kind(to) === 'snap') ops.push({ k: kind(to), data: readFileSync(from).toString('base64') });
  return rename.call(this, from, to, cb);
};
process.on('exit', () => fs.writeFileSync(process.env.RECORD_OUT, JSON.stringify(ops)));
require('./libRunner.cjs');

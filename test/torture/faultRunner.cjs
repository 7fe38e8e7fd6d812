// libRunner.cjs with a failing filesystem: the Nth call of one kind of operation on the run
// folder (open, write, fsync, rename, mkdir) fails with FAULT_ERRNO. The patch is applied
// to the `fs` module object before the engine is loaded, so every call the engine (and its
// bundled write-file-atomic) makes goes through it. Unit folders (the handler's own files)
// are left alone: a failing unit is a unit error, not what this tests.
// Env: FAULT_ROOT, FAULT_OP, FAULT_N (0: count only), FAULT_ERRNO, FAULT_LOG (JSON counts out).
'use strict';
const fs = require('node:fs');
const writeFileSync = fs.writeFileSync; // the log must be written even when the fault targets writes
const path = require('node:path');

const root = process.env.FAULT_ROOT;
const op = process.env.FAULT_OP;
const nth = Number(process.env.FAULT_N || 0);
const errno = process.env.FAULT_ERRNO || 'EIO';
const counts = { open: 0, write: 0, fsync: 0, rename: 0, mkdir: 0 };
const fds = new Map();
let failedFd;
let afterFailedFsync = 0;
let injected = false;

// root + sep: the fault log sits beside the root and shares its name as a prefix.
const ours = (p) => typeof p === 'string' && (p === root || p.startsWith(root + path.sep)) && !p.includes(`${path.sep}units${path.sep}`);
const oursFd = (fd) => fds.has(fd);
function hit(kind, isOurs, fd) {
  if (!isOurs) return undefined;
  if (fd !== undefined && fd === failedFd && (kind === 'write' || kind === 'fsync')) afterFailedFsync++;
  counts[kind]++;
  if (kind === op && counts[kind] === nth) {
    injected = true;
    if (kind === 'fsync') failedFd = fd;
    const e = new Error(`${errno}: injected fault on ${kind} #${nth}`);
    e.code = errno;
    return e;
  }
  return undefined;
}

function wrapSync(name, kind, pathOf, fdOf) {
  const orig = fs[name];
  fs[name] = function (...args) {
    const e = hit(kind, pathOf ? ours(pathOf(args)) : oursFd(fdOf(args)), fdOf ? fdOf(args) : undefined);
    if (e) throw e;
    const r = orig.apply(this, args);
    if (kind === 'open' && ours(args[0])) fds.set(r, args[0]);
    return r;
  };
}
function wrapCb(name, kind, pathOf, fdOf) {
  const orig = fs[name];
  fs[name] = function (...args) {
    const cb = args[args.length - 1];
    const e = hit(kind, pathOf ? ours(pathOf(args)) : oursFd(fdOf(args)), fdOf ? fdOf(args) : undefined);
    if (e) return process.nextTick(() => cb(e));
    if (kind === 'open' && ours(args[0])) {
      args[args.length - 1] = (err, fd) => {
        if (!err) fds.set(fd, args[0]);
        cb(err, fd);
      };
    }
    return orig.apply(this, args);
  };
}
const p0 = (a) => a[0];
const f0 = (a) => a[0];
wrapSync('openSync', 'open', p0);
wrapCb('open', 'open', p0);
for (const n of ['writeSync', 'fsyncSync', 'fdatasyncSync']) wrapSync(n, n.startsWith('write') ? 'write' : 'fsync', undefined, f0);
for (const n of ['write', 'fsync', 'fdatasync']) wrapCb(n, n === 'write' ? 'write' : 'fsync', undefined, f0);
wrapSync('writeFileSync', 'write', p0);
wrapSync('renameSync', 'rename', (a) => a[1]);
wrapCb('rename', 'rename', (a) => a[1]);
wrapSync('mkdirSync', 'mkdir', p0);
wrapCb('mkdir', 'mkdir', p0);
const closeSync = fs.closeSync;
fs.closeSync = function (fd) {
  fds.delete(fd);
  return closeSync.call(this, fd);
};

process.on('exit', () => {
  if (process.env.FAULT_LOG) writeFileSync(process.env.FAULT_LOG, JSON.stringify({ counts, injected, afterFailedFsync }));
});
require('./libRunner.cjs');

// The raw floor for journaling: leader-style group commit. A flush starts as soon as none
// runs and takes everything queued meanwhile (write + fdatasync), like the engine's writer.
import * as fs from 'node:fs';

export class GroupCommitLog {
  constructor(file) {
    this.fd = fs.openSync(file, 'a');
    this.queue = [];
    this.waiters = [];
    this.flushing = false;
  }

  /** Resolves when the record is durable. */
  append(record) {
    this.queue.push(JSON.stringify(record) + '\n');
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.kick();
    });
  }

  kick() {
    if (this.flushing || this.queue.length === 0) return;
    this.flushing = true;
    const buf = Buffer.from(this.queue.join(''));
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    const write = (from) =>
      fs.write(this.fd, buf, from, buf.length - from, null, (err, n) => {
        if (err) return waiters.forEach((w) => w.reject(err));
        if (from + n < buf.length) return write(from + n);
        fs.fdatasync(this.fd, (e) => {
          this.flushing = false;
          for (const w of waiters) {
            if (e) w.reject(e);
            else w.resolve();
          }
          this.kick();
        });
      });
    write(0);
  }

  close() {
    fs.closeSync(this.fd);
  }
}

import * as fs from 'node:fs';

/**
 * A unit's output.log for an attempt on a worker, opened only when there is something to say
 * (its stderr, its error, what happened to its worker): most units that pass write nothing.
 * Never through a link, only a regular file, never blocking on a FIFO.
 */
export class UnitLog {
  private fd: number | undefined;
  private refused = false;

  constructor(
    private readonly file: string,
    private readonly header: string,
  ) {}

  write(chunk: Buffer): void {
    if (this.refused) return;
    try {
      if (this.fd === undefined) {
        this.fd = openRegular(this.file);
        fs.writeSync(this.fd, this.header);
      }
      fs.writeSync(this.fd, chunk);
    } catch {
      // A full disk, a link in its place: the unit's outcome does not depend on its log.
      this.refused = true;
      this.close();
    }
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Closed already.
    }
    this.fd = undefined;
  }
}

function openRegular(file: string): number {
  const fd = fs.openSync(
    file,
    fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK,
    0o666,
  );
  if (!fs.fstatSync(fd).isFile()) {
    fs.closeSync(fd);
    throw new Error(`${file} is not a regular file`);
  }
  return fd;
}

import * as fs from 'node:fs';
import { realDir } from '../store/safeRead';

/**
 * A unit's folder for a worker's unit, made off the event loop: a mkdir here costs 70–180 µs,
 * which on the runner's one thread was a third of what a worker unit of 5 ms may cost. Same
 * rules as a process unit's (prepareUnitDir): units/ and the folder are refused when links.
 */
export async function makeUnitDir(unitsDir: string, unitDir: string): Promise<void> {
  checkDir(unitsDir, true);
  try {
    await fs.promises.mkdir(unitDir);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // units/ itself is missing (the first unit, or removed meanwhile).
      await fs.promises.mkdir(unitsDir, { recursive: true });
      checkDir(unitsDir, false);
      await fs.promises.mkdir(unitDir).catch((e2: NodeJS.ErrnoException) => {
        if (e2.code !== 'EEXIST') throw e2;
      });
    } else if (code !== 'EEXIST') throw e;
  }
  // It was there (an earlier attempt's), or made by someone else: only a real folder will do.
  checkDir(unitDir, false);
}

function checkDir(dir: string, absentOk: boolean): void {
  const d = realDir(dir);
  if (d.kind === 'dir' || (d.kind === 'absent' && absentOk)) return;
  if (d.kind === 'refused' && d.link) throw Object.assign(new Error(`${dir} ${d.why}`), { code: 'ELOOP' });
  throw Object.assign(new Error(`${dir} ${d.kind === 'refused' ? d.why : 'is missing'}`), { code: 'ENOTDIR' });
}

/**
 * A result the runner keeps for a unit (a worker's answer, a printed result line) in its place: a temp file (never through a link: O_EXCL, O_NOFOLLOW)
 * renamed over it, so a reader sees the whole result or none. Not fsynced: it has to outlive
 * the runner (a SIGKILL), not the machine; a power cut leaves at worst a result that does not
 * parse, which is run again, never adopted.
 */
export async function writeResultFile(file: string, text: string, o: { fsync?: boolean } = {}): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fs.promises.open(
    tmp,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
    0o666,
  );
  try {
    await fh.writeFile(text);
    if (o.fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.unlink(tmp).catch(() => undefined);
    throw e;
  }
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunFollower } from '../../core/index';
import { engine } from '../engine';
import { R, type Row, type ShownFile } from './protocol';

/** What a unit's details show of a long log or result: its end (a failure is at the end). */
const SHOWN_BYTES = 256 * 1024;

/**
 * The results table's rows, diffed against the ones posted last: `changed` holds only rows
 * that differ (all of them the first time), compared field by field so a poll of a 100k-unit
 * run allocates only the changed rows.
 */
export class RowsDiff {
  private sent: Row[] = [];

  reset(): void {
    this.sent = [];
  }

  /** All rows (the first post), or only those changed since, by index. */
  next(follower: RunFollower, by: string): { all: readonly Row[]; changed: [number, Row][] } {
    const { units, view } = follower;
    const groups = follower.groupsOf({ by, unknownBy: 'cell' }).of;
    const first = this.sent.length !== units.length;
    if (first) this.sent = new Array<Row>(units.length);
    const changed: [number, Row][] = [];
    for (let i = 0; i < units.length; i++) {
      const u = units[i]!;
      const v = view.units.get(u.id);
      if (!v) continue;
      const prev = this.sent[i];
      const group = groups[i] ?? u.group;
      if (
        prev &&
        prev[R.status] === v.status &&
        prev[R.attempts] === v.attempts &&
        prev[R.durationMs] === (v.lastDuration ?? null) &&
        prev[R.why] === (v.why ?? null) &&
        prev[R.usd] === (v.usd ?? null) &&
        prev[R.tokens] === (v.tok ?? null) &&
        prev[R.group] === group
      )
        continue;
      const row: Row = [u.id, group, u.group, v.status, v.attempts, v.lastDuration ?? null, v.why ?? null, v.usd ?? null, v.tok ?? null];
      this.sent[i] = row;
      changed.push([i, row]);
    }
    return { all: this.sent, changed };
  }
}

/** The unit's result file (found as `status` finds it, in the unit folder or the user's layout). */
export function resultOf(runDir: string, unitId: string): ShownFile | null {
  const file = engine().findResultFile(runDir, unitId);
  if (!file) return null;
  const shown = tail(file);
  if (!shown || shown.truncated) return shown;
  try {
    return { ...shown, text: JSON.stringify(JSON.parse(shown.text), null, 2) };
  } catch {
    // Not JSON (a unit judged by its exit code may write anything): shown as it is.
    return shown;
  }
}

export function logOf(runDir: string, unitId: string): ShownFile | null {
  return tail(path.join(runDir, 'units', engine().unitFolderName(unitId), 'output.log'));
}

function tail(file: string): ShownFile | null {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return null;
    const len = Math.min(st.size, SHOWN_BYTES);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, st.size - len);
    return { file, text: buf.toString('utf8'), truncated: st.size > len };
  } catch {
    return null;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

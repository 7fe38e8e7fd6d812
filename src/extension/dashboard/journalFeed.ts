import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JournalRecord } from '../../core/index';
import { engine } from '../engine';
import type { Attempt } from './protocol';

/** journal.jsonl, and a sharded run's journal.<k>of<N>.jsonl. */
const JOURNAL = /^journal(\.\d+of\d+)?\.jsonl$/;

interface Followed {
  offset: number;
  line: number;
  ino: number | undefined;
  records: JournalRecord[];
}

/**
 * The run's journals as records, for its history and its units' attempts. Like the registry's
 * follower it reads only the bytes appended since the last poll (from the start again when a
 * file was replaced: a repair, `--fresh`). Keeps only what the dashboard shows: no handler
 * results, no concurrency changes, no records of units the config does not have.
 */
export class JournalFeed {
  private readonly files = new Map<string, Followed>();

  constructor(
    private readonly runDir: string,
    private readonly known: ReadonlySet<string>,
  ) {}

  /** Reads what was appended to each journal; true when something changed. */
  async poll(): Promise<boolean> {
    let changed = false;
    let names: string[];
    try {
      names = fs.readdirSync(this.runDir).filter((n) => JOURNAL.test(n));
    } catch {
      names = [];
    }
    for (const n of [...this.files.keys()])
      if (!names.includes(n)) {
        this.files.delete(n);
        changed = true;
      }
    for (const name of names.sort()) changed = (await this.pollOne(name)) || changed;
    return changed;
  }

  private async pollOne(name: string): Promise<boolean> {
    const file = path.join(this.runDir, name);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st) return false;
    let f = this.files.get(name);
    if (!f || st.ino !== f.ino || st.size < f.offset) {
      f = { offset: 0, line: 1, ino: st.ino, records: [] };
      this.files.set(name, f);
    }
    if (st.size === f.offset) return false;
    const into = f.records;
    const read = await engine().readJournal(
      file,
      (r) => {
        const kept = slim(r, this.known);
        if (kept) into.push(kept);
      },
      { from: f.offset, firstLine: f.line },
    );
    const grew = read.goodLength !== f.offset;
    f.offset = read.goodLength;
    f.line = read.lines + 1;
    return grew;
  }

  /** Each journal's records, for runHistory. */
  get journals(): JournalRecord[][] {
    return [...this.files.values()].map((f) => f.records);
  }

  /** A unit's attempts, oldest first: a start paired with the end that follows it. */
  attemptsOf(unitId: string): Attempt[] {
    const out: Attempt[] = [];
    for (const f of this.files.values()) {
      let open: { a: number; ts: number } | undefined;
      for (const r of f.records) {
        if (r.t === 'start' && r.u === unitId) {
          if (open) out.push(attempt(open.a, open.ts, null, 'interrupted (no end written)'));
          open = { a: r.a, ts: r.ts };
        } else if (r.t === 'end' && r.u === unitId) {
          out.push({
            attempt: r.a,
            startedAt: open?.ts ?? null,
            endedAt: r.ts,
            status: r.s,
            durationMs: r.d ?? null,
            exitCode: r.x ?? null,
            signal: r.sig ?? null,
            why: r.why ?? null,
          });
          open = undefined;
        } else if (r.t === 'adopt' && r.u === unitId) {
          out.push({ ...attempt(0, null, r.ts, r.s), why: r.why });
        }
      }
      if (open) out.push(attempt(open.a, open.ts, null, 'running'));
    }
    return out;
  }
}

function attempt(a: number, startedAt: number | null, endedAt: number | null, status: string): Attempt {
  return { attempt: a, startedAt, endedAt, status, durationMs: null, exitCode: null, signal: null, why: null };
}

function slim(r: JournalRecord, known: ReadonlySet<string>): JournalRecord | undefined {
  switch (r.t) {
    case 'conc':
    case 'header':
      return undefined;
    case 'start':
      return known.has(r.u) ? { t: 'start', ts: r.ts, u: r.u, a: r.a } : undefined;
    case 'end': {
      if (!known.has(r.u)) return undefined;
      // A handler's returned value can be large; the result pane reads the result file instead.
      const { r: _value, ...rest } = r;
      return rest;
    }
    case 'adopt':
      return known.has(r.u) ? r : undefined;
    case 'requeue':
      return { ...r, u: r.u.filter((u) => known.has(u)) };
    default:
      return r;
  }
}

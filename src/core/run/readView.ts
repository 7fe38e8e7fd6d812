import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedExperiment } from '../config/load';
import { UserError } from '../errors';
import { readJournal, type JournalRead } from '../store/journalReader';
import { markOf, type JournalMark } from '../store/journalMark';
import { RunPaths } from '../store/paths';
import { checkSchemaVersion } from '../store/schemaVersion';
import { inShard } from '../shard/partition';
import { idsOf, restoreUnitSnapshot, type UnitSnapshotMeta } from '../model/unitSnapshot';
import { loadUnitSnapshot, type SnapshotLoad } from '../model/unitSnapshotFile';
import { applyRecord, newView, type RunView } from '../model/view';

/** How far each journal of the view was read: what the next unit snapshot covers. */
export interface JournalCoverage {
  readonly name: string;
  readonly file: string;
  readonly offset: number;
  readonly lines: number;
  /** The journal's mark as it was read (a shard's snapshot names the whole run's journal by this, not as it is later). */
  readonly mark: JournalMark | undefined;
}

export interface ReadView {
  readonly view: RunView;
  /** The whole run's journal for a shard (read, never written), then the run's own. */
  readonly journals: readonly JournalCoverage[];
  /** The unit snapshot was used (only the journals after it were read). */
  readonly fromSnapshot: boolean;
}

/** A journal this big read whole, with no snapshot at all, is said (a smaller one costs too little to mention). */
const SAY_MISSING_FROM_BYTES = 8 << 20;

/**
 * The run's view: for a shard, only its units, starting from the whole run's journal (an
 * earlier unsharded run, or the merge of earlier shards; read, never written) and then its
 * own journal. From the unit snapshot and the journals after it when the snapshot is of this
 * config and each journal is still the one it covers; else from the journals whole.
 */
export async function readView(
  exp: LoadedExperiment,
  paths: RunPaths,
  notes: string[],
  repairTail: boolean,
  accepted: ReadonlySet<string>,
): Promise<ReadView> {
  const files = [...(paths.shard ? [new RunPaths(paths.root).journal] : []), paths.journal];
  const load = loadUnitSnapshot(paths.unitSnapshot, exp.hash, files);
  // A resume of an unchanged, indexed dataset takes the unit ids from the snapshot: no item is read for them.
  const lazy = !paths.shard && exp.lazy && !exp.lazy.materialized() ? exp.lazy.units : undefined;
  const idsFromSnapshot = lazy !== undefined && load.kind === 'ok' && load.snapshot.meta.n === lazy.count;
  const idsOfRun = () => (paths.shard ? exp.units.filter((u) => inShard(u.id, paths.shard)).map((u) => u.id) : exp.units.map((u) => u.id));
  const ids = idsFromSnapshot && load.kind === 'ok' ? idsOf(load.snapshot) : idsOfRun();
  let view = newView(ids);
  const snap = snapshotFor(load, paths, files, view, notes);
  // Not used after all: the units are the config's, every item read.
  if (!snap) view = newView(idsFromSnapshot ? idsOfRun() : ids);
  const journals: JournalCoverage[] = [];
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!;
    const from = snap?.journals[i];
    const read = await readInto(exp, view, file, notes, repairTail && file === paths.journal, accepted, from);
    journals.push({
      name: path.basename(file),
      file,
      offset: read.goodLength,
      lines: read.lines,
      mark: markOf(file, read.goodLength, read.lines),
    });
  }
  return { view, journals, fromSnapshot: snap !== undefined };
}

/** The snapshot's state put into `view`, or undefined (with a note when one was there but could not be used). */
function snapshotFor(
  load: SnapshotLoad,
  paths: RunPaths,
  files: readonly string[],
  view: RunView,
  notes: string[],
): UnitSnapshotMeta | undefined {
  switch (load.kind) {
    case 'absent': {
      const size = files.reduce((s, f) => s + (fs.statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
      if (size >= SAY_MISSING_FROM_BYTES)
        notes.push(`No unit-state snapshot (${path.basename(paths.unitSnapshot)}) yet: read the whole journal; this run writes one.`);
      return undefined;
    }
    // A run that grew has other units: its journal is replayed once, and the next snapshot is of the new config.
    case 'other-config':
      return undefined;
    case 'unusable':
      return say(notes, paths, load.why);
    case 'ok':
      if (!restoreUnitSnapshot(view, load.snapshot)) return say(notes, paths, 'its units are not the run’s');
      return load.snapshot.meta;
  }
}

function say(notes: string[], paths: RunPaths, why: string): undefined {
  notes.push(`Did not use the unit-state snapshot ${path.basename(paths.unitSnapshot)}: ${why}; read the whole journal instead.`);
  return undefined;
}

/**
 * `accepted`: the run's config and those it grew from (a journal begun before the run grew
 * names an earlier one). `from`: where the snapshot left this journal (its header was checked
 * when the snapshot was written, and the mark says it is the same journal).
 */
async function readInto(
  exp: LoadedExperiment,
  view: RunView,
  journal: string,
  notes: string[],
  repairTail: boolean,
  accepted: ReadonlySet<string>,
  from?: { offset: number; lines: number },
): Promise<JournalRead> {
  const shown = path.relative(process.cwd(), journal) || journal;
  let header: { hash?: string; schemaVersion?: number } | undefined;
  const read = await readJournal(
    journal,
    (r, line) => {
      if (line === 1 && r.t === 'header') header = r;
      applyRecord(view, r);
    },
    from && { from: from.offset, firstLine: from.lines + 1 },
  );
  if (read.corrupt.length > 0) {
    const list = read.corrupt.slice(0, 5).map((c) => `  line ${c.line}: ${JSON.stringify(c.text.slice(0, 80))}`);
    throw new UserError(
      `The journal has ${read.corrupt.length} damaged line(s) before its end (not a torn last line); refusing to append to it.`,
      { file: shown, line: read.corrupt[0]!.line },
      [
        ...list,
        `Every other line was read. Run \`resumable repair ${path.relative(process.cwd(), path.dirname(journal)) || '.'}\` to rebuild the journal from the unit folders (it shows the diff first and backs up).`,
      ],
    );
  }
  if (read.lines > 0 && !from?.offset) {
    if (!header)
      throw new UserError('Expected the journal to start with a header line', { file: shown, line: 1 }, [
        'Run `resumable repair <run folder>` to rebuild it.',
      ]);
    checkSchemaVersion(header.schemaVersion, shown);
    if (typeof header.hash !== 'string' || !accepted.has(header.hash))
      throw new UserError(`Expected a journal of config ${exp.hash.slice(0, 8)}, found one of ${String(header.hash).slice(0, 8)}`, {
        file: shown,
        line: 1,
      });
  }
  if (read.tornTail) {
    const which = path.basename(journal) === 'journal.jsonl' ? '' : ` of ${path.basename(journal)}`;
    notes.push(
      `Dropped a torn last journal line (${read.tornTail.bytes} bytes at offset ${read.tornTail.offset}${which}, left by a crash).`,
    );
    if (repairTail) cutTornTail(journal, read.goodLength);
  }
  return read;
}

/** Keeps the torn bytes in a side file (nothing is deleted), then truncates so appends start on a fresh line. */
function cutTornTail(file: string, goodLength: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const size = fs.fstatSync(fd).size;
    const torn = Buffer.alloc(size - goodLength);
    fs.readSync(fd, torn, 0, torn.length, goodLength);
    fs.writeFileSync(`${file}.torn-${Date.now()}`, torn);
    fs.ftruncateSync(fd, goodLength);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

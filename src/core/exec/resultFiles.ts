import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunTemplates } from '../config/load';
import type { Experiment } from '../config/schema';
import { renderResultPaths, resultSource, resultTemplates, STORED_RESULT, type ResultSource } from '../config/resultRule';
import type { Unit } from '../config/units';
import { UserError, jsonPath } from '../errors';
import { unitFolderName } from '../ids';
import { fsyncDir } from '../store/atomicFile';
import { RunPaths } from '../store/paths';
import { experimentDirOf, readFrozen, unitsOfFrozen, type FrozenExperiment } from '../model/frozen';
import { kindOf, MAX_RESULT_BYTES, readRegularFile } from '../store/safeRead';

/** A unit's result as found on disk: its text and where, nothing, or why it was not read. */
export type FoundResultFile =
  | { readonly kind: 'text'; readonly text: string; readonly file: string }
  | { readonly kind: 'refused'; readonly why: string; readonly code?: string; readonly file: string }
  | { readonly kind: 'absent' };

/** What finding results needs of an experiment (a loaded one, or a frozen one for repair). */
export interface ResultExperiment {
  readonly dir: string;
  readonly config: Pick<Experiment, 'result' | 'seed'>;
  readonly templates: Pick<RunTemplates, 'resultPath'>;
}

/**
 * Where each unit's result lives and how it is read, set aside and checked: the unit folder
 * (`result.file`, printed results) or the user's own layout (`result.path`). Invariant 7
 * (docs/architecture.md): nothing outside the experiment's folder is read, and nothing
 * outside the run folder is renamed, moved or deleted, except a stale result making way for
 * a retry, which goes to the run folder's archive/.
 */
export class ResultFiles {
  readonly source: ResultSource;
  private readonly realBase = new Map<string, string | undefined>();

  constructor(
    private readonly exp: ResultExperiment,
    private readonly paths: RunPaths,
  ) {
    this.source = resultSource(exp.config.result);
  }

  /** True when results live in the user's layout (outside the run folder). */
  get ownLayout(): boolean {
    return this.source.kind === 'path';
  }

  /** Absolute candidates, in order; the first is where a new result is written (RESUMABLE_RESULT_FILE). */
  candidates(unit: Unit): string[] {
    if (this.source.kind === 'path') {
      const r = renderResultPaths(this.exp.templates.resultPath, unit, this.exp.config.seed);
      // Checked at load for every unit; a render that escapes now means the data changed under us.
      if ('why' in r) throw new UserError(`The result path of unit ${JSON.stringify(unit.id)} ${r.why}`, { path: '$.result.path' });
      return r.paths.map((p) => path.join(this.exp.dir, p));
    }
    const name = this.source.kind === 'file' ? this.source.name : STORED_RESULT;
    return [path.join(this.paths.unitDir(unit.id), name)];
  }

  /** The first candidate that exists, read only if it is a regular file inside its base folder. */
  read(unit: Unit): FoundResultFile {
    const base = this.ownLayout ? this.exp.dir : this.paths.unitDir(unit.id);
    for (const file of this.candidates(unit)) {
      // In the unit folder a link as the result itself is refused by name (O_NOFOLLOW); in the
      // user's layout links are theirs to use, as long as they stay inside the experiment's folder.
      const real = this.resolveInside(base, this.ownLayout ? file : path.dirname(file));
      const shown = this.ownLayout ? shownPath(file, this.exp.dir) : path.relative(base, file);
      if (real.kind === 'refused') return { kind: 'refused', why: `${shown} ${real.why}`, code: 'EXDEV', file };
      if (real.kind === 'absent') continue;
      const r = readRegularFile(this.ownLayout ? real.path : file, { maxBytes: MAX_RESULT_BYTES, what: 'a result' });
      if (r.kind === 'absent') continue;
      // A folder where the result goes is no result: the next candidate may be.
      if (r.kind === 'refused' && r.code === 'EISDIR') continue;
      if (r.kind === 'refused') return { ...r, why: `${shown} ${r.why}`, file };
      return { ...r, file };
    }
    return { kind: 'absent' };
  }

  /**
   * Before an attempt: whatever an earlier attempt left at the result's place must not be
   * judged as this one's. In the unit folder it is renamed beside itself; in the user's
   * layout it is moved into the run folder's archive/ (copied, then removed, across
   * filesystems). Returns what was done, for the unit's log.
   */
  setAside(unit: Unit, attempt: number, now: number): string[] {
    return this.moveAside(unit, `before-attempt-${attempt}`, now);
  }

  /**
   * `run --fresh` in the user's layout: every result there is of the run being started over,
   * so it goes to archive/ (not adopted again, not judged as a new attempt's). Returns how many.
   */
  archiveAll(units: readonly Unit[], now: number): number {
    if (!this.ownLayout) return 0;
    let n = 0;
    for (const unit of units) n += this.moveAside(unit, 'fresh', now).length;
    return n;
  }

  private moveAside(unit: Unit, label: string, now: number): string[] {
    const moved: string[] = [];
    for (const file of this.candidates(unit)) {
      if (!this.ownLayout) {
        try {
          fs.renameSync(file, `${file}.${label}-${now}`);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
        continue;
      }
      const real = this.resolveInside(this.exp.dir, file);
      if (real.kind === 'absent') continue;
      if (real.kind === 'refused') throw Object.assign(new Error(`${shownPath(file, this.exp.dir)} ${real.why}`), { code: 'EXDEV' });
      let st: fs.Stats;
      try {
        st = fs.lstatSync(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw e;
      }
      if (st.isDirectory()) continue;
      const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
      const dest = path.join(this.paths.archive, 'results', unitFolderName(unit.id), `${stamp}-${label}`, path.basename(file));
      moveFile(file, dest);
      moved.push(`moved the earlier result ${shownPath(file, this.exp.dir)} to ${path.relative(this.paths.root, dest)} (run folder)`);
    }
    return moved;
  }

  /** The folder of the first candidate, made if missing (inside the experiment's folder only). */
  prepare(unit: Unit): void {
    if (!this.ownLayout) return;
    const first = this.candidates(unit)[0]!;
    const real = this.resolveInside(this.exp.dir, path.dirname(first));
    if (real.kind === 'refused') throw Object.assign(new Error(`${shownPath(first, this.exp.dir)} ${real.why}`), { code: 'EXDEV' });
    fs.mkdirSync(path.dirname(first), { recursive: true });
  }

  /**
   * Before anything runs: no unit's result path may lead out of the experiment's folder
   * through a symbolic link. One realpath per distinct folder (units share their folders).
   */
  checkLinks(units: readonly Unit[]): void {
    if (!this.ownLayout) return;
    const seen = new Set<string>();
    const texts = this.exp.config.result.path;
    for (const unit of units) {
      this.candidates(unit).forEach((file, i) => {
        const dir = path.dirname(file);
        if (seen.has(dir)) return;
        seen.add(dir);
        const r = this.resolveInside(this.exp.dir, file);
        if (r.kind !== 'refused') return;
        throw new UserError(
          `Expected the result path of unit ${JSON.stringify(unit.id)} to stay inside the experiment's folder, but ${shownPath(file, this.exp.dir)} ${r.why}`,
          { path: jsonPath(typeof texts === 'string' ? ['result', 'path'] : ['result', 'path', i]) },
          [
            "Nothing outside the experiment file's folder is read, moved or written: point the path at the real folder, or remove the link.",
          ],
        );
      });
    }
  }

  /**
   * Where `file` really is, following links, if that is inside `base` (itself resolved).
   * Absent when nothing is there (no folder of it either, up to what exists).
   */
  private resolveInside(
    base: string,
    file: string,
  ): { kind: 'inside'; path: string } | { kind: 'absent' } | { kind: 'refused'; why: string } {
    let realBase = this.realBase.get(base);
    if (!this.realBase.has(base)) {
      realBase = realOrUndefined(base);
      this.realBase.set(base, realBase);
    }
    if (realBase === undefined) return { kind: 'absent' };
    let existing = file;
    const rest: string[] = [];
    let real: string | undefined;
    for (;;) {
      real = realOrUndefined(existing);
      if (real !== undefined) break;
      const up = path.dirname(existing);
      if (up === existing) return { kind: 'absent' };
      rest.unshift(path.basename(existing));
      existing = up;
    }
    const full = path.join(real, ...rest);
    if (full !== realBase && !full.startsWith(realBase + path.sep)) {
      return { kind: 'refused', why: `leads through a symbolic link to ${full}, outside ${realBase}; not followed` };
    }
    return rest.length > 0 ? { kind: 'absent' } : { kind: 'inside', path: full };
  }
}

function realOrUndefined(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/** Rename; across filesystems a copy made durable, then the original removed: the result is never in neither place. */
function moveFile(src: string, dest: string): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  try {
    fs.renameSync(src, dest);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
    // Copying a FIFO would block forever, a link would copy what it points to: only a regular file is copied.
    const st = fs.lstatSync(src);
    if (!st.isFile())
      throw Object.assign(new Error(`${src} is ${kindOf(st)}; it cannot be moved into the run folder's archive across filesystems`), {
        code: 'ENOTREG',
      });
    fs.copyFileSync(src, dest, fs.constants.COPYFILE_EXCL);
    const fd = fs.openSync(dest, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fsyncDir(path.dirname(dest));
    fs.unlinkSync(src);
  }
  fsyncDir(path.dirname(dest));
  fsyncDir(path.dirname(src));
}

function shownPath(file: string, base: string): string {
  const rel = path.relative(base, file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** The result files of a run read from its folder alone (repair, the extension): its frozen config, its experiment's folder as it is now. */
export function resultFilesOfRun(frozen: FrozenExperiment, paths: RunPaths): ResultFiles {
  const exp = {
    dir: experimentDirOf(frozen, paths.root),
    config: frozen.config,
    templates: { resultPath: resultTemplates(frozen.config) },
  };
  return new ResultFiles(exp, paths);
}

/** Where a unit's result is on disk now (the first candidate that holds one), for "show me this unit". */
export function findResultFile(runDir: string, unitId: string): string | undefined {
  const paths = new RunPaths(runDir);
  const frozen = readFrozen(paths.experiment);
  const unit = frozen && unitsOfFrozen(frozen).find((u) => u.id === unitId);
  if (!frozen || !unit) return undefined;
  const r = resultFilesOfRun(frozen, paths).read(unit);
  return r.kind === 'text' ? r.file : undefined;
}

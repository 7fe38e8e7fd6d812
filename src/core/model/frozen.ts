import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { LoadedExperiment } from '../config/load';
import type { ResultKey } from '../config/hash';
import { experimentSchema, type Experiment } from '../config/schema';
import type { Item, ItemFields } from '../config/items';
import { expandUnits, type Unit } from '../config/units';
import { jsonPath, UserError } from '../errors';
import { writeBufferAtomic } from '../store/atomicFile';
import { peekRegularFile, readRegularFile } from '../store/safeRead';
import { checkSchemaVersion, STORE_SCHEMA_VERSION } from '../store/schemaVersion';

/** experiment.json in the run folder: the resolved config the run was started with. */
export interface FrozenExperiment {
  readonly schemaVersion: number;
  readonly name: string;
  readonly hash: string;
  readonly key: ResultKey;
  readonly experimentFile: string;
  readonly createdAt: number;
  readonly config: Experiment;
  readonly items: readonly { id: string; fields: ItemFields }[];
  /**
   * The configs this run grew from (units only added or removed; docs/architecture.md,
   * invariant 5), oldest first: their journals' headers name these hashes.
   */
  readonly lineage?: readonly Ancestor[];
  /** Written by this version on: the items are the last key (readFrozenHead). */
  readonly itemsLast?: boolean;
}

export interface Ancestor {
  readonly hash: string;
  /** When the run grew out of it. */
  readonly until: number;
  readonly units: number;
}

/** Every config hash a journal of this run may carry in its header. */
export function hashesOf(frozen: FrozenHead): ReadonlySet<string> {
  return new Set([frozen.hash, ...(frozen.lineage ?? []).map((a) => a.hash)]);
}

/**
 * A frozen config that cannot be used as it is (torn by a crash, edited by hand, a folder in
 * its place). `run` given the experiment file can rebuild it (openRun); everything else says how.
 */
export class DamagedFrozenError extends UserError {
  constructor(
    readonly reason: string,
    where: { file: string; path?: string },
    readonly experimentFile: string | undefined,
  ) {
    super(`${reason}; the run's frozen config is damaged`, where, [
      `Rebuild it from the experiment file: resumable run ${experimentFile ?? '<experiment file>'}`,
      "  (it checks that the run's journal is of the same config, keeps every finished unit and the damaged copy in archive/)",
      `or start the run over: resumable run ${experimentFile ?? '<experiment file>'} --fresh   (the old state moves to archive/)`,
    ]);
  }
}

/** Items last, after `itemsLast`: a resume reads what comes before them only (readFrozenHead). */
export function freeze(exp: LoadedExperiment, now: number, lineage?: readonly Ancestor[]): FrozenExperiment {
  return {
    schemaVersion: STORE_SCHEMA_VERSION,
    name: exp.config.name,
    hash: exp.hash,
    key: exp.key,
    experimentFile: exp.file,
    createdAt: now,
    config: exp.config,
    ...(lineage ? { lineage } : {}),
    itemsLast: true,
    items: exp.items.map((i) => ({ id: i.id, fields: i.fields })),
  };
}

/** What comes before the items: all a resume needs to check a run's config, and `status` to show it. */
export type FrozenHead = Omit<FrozenExperiment, 'items'>;

const ITEMS_KEY = Buffer.from('\n  "items": ');

/**
 * The hash and lineage of a frozen config written with its items last (as JSON with two-space
 * indent, so `\n  "items": ` can only be its top-level key), read from its first bytes only:
 * resuming a million-item run should not parse a million frozen items. Undefined for anything
 * else (an older layout, not a regular file, damage): the caller reads it whole.
 */
export function readFrozenHead(file: string): FrozenHead | undefined {
  return peekRegularFile(file, (fd, st) => {
    let buf = Buffer.alloc(0);
    let at = -1;
    while (at === -1 && buf.length < st.size && buf.length < 16 << 20) {
      const more = Buffer.alloc(Math.max(64 * 1024, buf.length));
      const n = fs.readSync(fd, more, 0, more.length, buf.length);
      if (n === 0) break;
      buf = Buffer.concat([buf, more.subarray(0, n)]);
      at = buf.indexOf(ITEMS_KEY);
    }
    if (at === -1) return undefined;
    const tail = Buffer.alloc(4);
    fs.readSync(fd, tail, 0, 4, Math.max(0, st.size - 4));
    // Cut short by hand or by a full disk: read whole, it says what is wrong.
    if (tail.toString('latin1') !== ']\n}\n') return undefined;
    const head = JSON.parse(buf.toString('utf8', 0, at).replace(/,\s*$/, '') + '}') as Record<string, unknown>;
    if (head.schemaVersion !== STORE_SCHEMA_VERSION || head.itemsLast !== true) return undefined;
    // Checked as readFrozen checks it; anything amiss is left to readFrozen, which names it.
    return headShape.safeParse(head).success ? (head as unknown as FrozenHead) : undefined;
  });
}

/**
 * What status, repair, merge and the drift check read of a frozen config; checked so that a
 * damaged one is a message naming the JSON path, not a TypeError deep inside. Unknown keys are
 * kept (a later version may add some); the items are checked by hand below (a million-item
 * run should not pay zod's per-object cost on every `status`).
 */
const frozenShape = z.looseObject({
  name: z.string(),
  hash: z.string().regex(/^[0-9a-f]{8,}$/),
  experimentFile: z.string(),
  createdAt: z.number(),
  key: z.looseObject({ items: z.looseObject({ count: z.number(), digest: z.string() }) }),
  config: z.looseObject({
    name: z.string(),
    matrix: experimentSchema.shape.matrix.unwrap(),
    run: z.looseObject({
      command: z.array(z.string()).optional(),
      worker: z.array(z.string()).optional(),
      cwd: z.string(),
      env: z.record(z.string(), z.string()),
    }),
    result: z.looseObject({
      file: z.string().optional(),
      path: z.union([z.string(), z.array(z.string())]).optional(),
      from: z.string().optional(),
      passed: z.union([z.string(), z.looseObject({ field: z.string() })]).optional(),
    }),
    seed: z.number(),
  }),
  items: z.array(z.unknown()),
  lineage: z.array(z.looseObject({ hash: z.string().regex(/^[0-9a-f]{8,}$/), until: z.number(), units: z.number() })).optional(),
});

const headShape = frozenShape.omit({ items: true });

export function readFrozen(file: string): FrozenExperiment | undefined {
  const shown = path.relative(process.cwd(), file) || file;
  // Only a regular file: a FIFO here would hang status, run and the extension host.
  const read = readRegularFile(file, { what: 'a frozen config' });
  if (read.kind === 'absent') return undefined;
  if (read.kind === 'refused') {
    if (read.code === 'EISDIR') throw new DamagedFrozenError('expected a file, found a folder', { file: shown }, undefined);
    if (read.code === 'ENOTREG' || read.code === 'ELOOP')
      throw new DamagedFrozenError(`expected a regular file, but it ${read.why}`, { file: shown }, undefined);
    throw Object.assign(new Error(`${shown} ${read.why}`), { code: read.code });
  }
  const text = read.text;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new DamagedFrozenError(`expected valid JSON: ${(e as Error).message}`, { file: shown }, experimentFileOf(text));
  }
  const exp = experimentFileOf(v);
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new DamagedFrozenError(`expected an object, found ${describe(v)}`, { file: shown, path: '$' }, exp);
  const version = (v as { schemaVersion?: unknown }).schemaVersion;
  // A newer version is not damage: this build cannot read it, and must not overwrite it.
  if (typeof version === 'number' && Number.isInteger(version) && version > STORE_SCHEMA_VERSION) checkSchemaVersion(version, shown);
  if (version !== STORE_SCHEMA_VERSION)
    throw new DamagedFrozenError(
      `expected a schemaVersion (an integer ≥ 1), found ${describe(version)}`,
      { file: shown, path: '$.schemaVersion' },
      exp,
    );
  const parsed = frozenShape.safeParse(v);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
    throw new DamagedFrozenError(issueText(issue, valueAt(v, at)), { file: shown, path: jsonPath(at) }, exp);
  }
  const items = (v as { items: unknown[] }).items;
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as { id?: unknown; fields?: unknown } | null;
    if (!it || typeof it !== 'object')
      throw new DamagedFrozenError(`expected an object, found ${describe(it)}`, { file: shown, path: `$.items[${i}]` }, exp);
    if (typeof it.id !== 'string')
      throw new DamagedFrozenError(`expected a string, found ${describe(it.id)}`, { file: shown, path: `$.items[${i}].id` }, exp);
    if (!it.fields || typeof it.fields !== 'object' || Array.isArray(it.fields)) {
      throw new DamagedFrozenError(`expected an object, found ${describe(it.fields)}`, { file: shown, path: `$.items[${i}].fields` }, exp);
    }
  }
  return v as FrozenExperiment;
}

/**
 * The config hash a frozen config names, from its first bytes only (the writer puts it third,
 * after schemaVersion and name): deciding which run folder a file continues should not parse a
 * million frozen items that `openRun` reads again under the lock. Undefined for anything else
 * (not a regular file, another layout, damage): then the caller reads it whole.
 */
export function peekFrozenHash(file: string): string | undefined {
  // Non-blocking and not through a link: a FIFO here must not hang the lookup.
  return peekRegularFile(file, (fd) => {
    const buf = Buffer.alloc(4096);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return /^\{\s*"schemaVersion":\s*\d+,\s*"name":\s*"(?:[^"\\]|\\.)*",\s*"hash":\s*"([0-9a-f]{8,})"/.exec(
      buf.toString('utf8', 0, n),
    )?.[1];
  });
}

/** `frozen` is made only when there is none yet: freezing a million items to throw them away costs. */
export async function writeFrozen(file: string, frozen: () => FrozenExperiment): Promise<void> {
  if (fs.existsSync(file)) return;
  await writeBufferAtomic(file, frozenText(frozen()));
}

/**
 * The frozen config as written: its head indented (read by people and by readFrozenHead),
 * then the items last, one compact line each: a quarter of the bytes of indented items, so
 * the commands that do read them (status, repair, merge) parse a million in a fraction of the time.
 */
export function frozenText(frozen: FrozenExperiment): string {
  const { items, ...head } = frozen;
  const text = JSON.stringify(head, null, 2);
  const list = items.length === 0 ? '' : `\n${items.map((i) => `    ${JSON.stringify(i)}`).join(',\n')}\n  `;
  return `${text.slice(0, -2)},\n  "items": [${list}]\n}\n`;
}

/** Units of a run, rebuilt from its frozen config alone (status and repair need no dataset). */
export function unitsOfFrozen(frozen: FrozenExperiment): Unit[] {
  const items: Item[] = frozen.items.map((i) => ({ id: i.id, fields: i.fields, where: {} }));
  return expandUnits(items, frozen.config.matrix);
}

/**
 * The experiment's folder as it is now: found from the run folder's own place when the run
 * root is a plain relative path (so a moved experiment folder reads its own results), else
 * the folder the frozen config was written from.
 */
export function experimentDirOf(frozen: FrozenExperiment, runDir: string): string {
  const root = (frozen.config as Partial<FrozenExperiment['config']>).runRoot ?? '.resumable';
  const segs = path.posix
    .normalize(root)
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  if (path.isAbsolute(root) || segs.includes('..')) return path.dirname(frozen.experimentFile);
  let dir = path.dirname(path.resolve(runDir));
  for (let i = 0; i < segs.length; i++) dir = path.dirname(dir);
  return dir;
}

/** The experiment file the frozen config names, for the way forward; from a torn file too if its text still has it. */
function experimentFileOf(v: unknown): string | undefined {
  let f: unknown;
  if (typeof v === 'string') f = /"experimentFile":\s*("(?:[^"\\]|\\.)*")/.exec(v)?.[1];
  else if (v && typeof v === 'object') f = JSON.stringify((v as { experimentFile?: unknown }).experimentFile);
  if (typeof f !== 'string') return undefined;
  try {
    const file = JSON.parse(f) as unknown;
    return typeof file === 'string' && file !== '' ? path.relative(process.cwd(), file) || file : undefined;
  } catch {
    return undefined;
  }
}

function valueAt(v: unknown, at: readonly (string | number)[]): unknown {
  let cur = v;
  for (const k of at) cur = cur && typeof cur === 'object' ? (cur as Record<string | number, unknown>)[k] : undefined;
  return cur;
}

function issueText(issue: z.core.$ZodIssue, found: unknown): string {
  if (issue.code === 'invalid_type') {
    const what = String(issue.expected);
    return `expected ${/^[aeiou]/.test(what) ? 'an' : 'a'} ${what}, found ${describe(found)}`;
  }
  return `${issue.message.replace(/^Invalid input: e/, 'e').replace(/^Invalid/, 'invalid')}, found ${describe(found)}`;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the key is missing)';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 40 ? s.slice(0, 37) + '...' : s}`;
}

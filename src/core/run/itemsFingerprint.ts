import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedExperiment } from '../config/load';
import type { Experiment } from '../config/schema';
import { RACY_MS, sameSource, type ItemsDigest, type ItemsSource } from '../config/itemsSource';
import { createHash } from 'node:crypto';
import { indexOfJsonl, type ItemsIndex } from '../config/lazyUnits';
import { writeBufferAtomic, writeJsonAtomic } from '../store/atomicFile';
import type { RunPaths } from '../store/paths';
import { readRegularBytes, readRegularFile } from '../store/safeRead';
import { STORE_SCHEMA_VERSION } from '../store/schemaVersion';

/** items.fingerprint.json, beside the frozen config: the dataset file as it was hashed, and its items' digest. */
interface Fingerprint {
  readonly schemaVersion: number;
  /** `trustStat`: the file had not changed within RACY_MS of its hashing (itemsSource.ts). */
  readonly source: ItemsSource & { readonly trustStat: boolean };
  readonly items: ItemsDigest;
}

const NAME = 'items.fingerprint.json';
const INDEX = 'items.index.bin';

/**
 * The digest of a dataset file's items if a run folder of this experiment hashed this very
 * file (same path, spec and stat, or same bytes). Any doubt is a miss: the items are hashed.
 */
export function knownItems(source: ItemsSource, config: Experiment, experimentDir: string): ItemsDigest | undefined {
  const root = path.resolve(experimentDir, config.runRoot);
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    return undefined;
  }
  const prefix = `${config.name}-`;
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{8}$/.test(name.slice(prefix.length))) continue;
    const fp = readFingerprint(path.join(root, name, NAME));
    if (fp && sameSource(source, fp.source))
      return { ...fp.items, index: () => readIndex(path.join(root, name, INDEX), fp.source.sha256, fp.items.count) };
  }
  return undefined;
}

/** Keeps the fingerprint of the file this run's items came from (the caller holds the run's lock). */
export async function saveItemsFingerprint(exp: LoadedExperiment, paths: RunPaths, now: number): Promise<void> {
  const source = exp.itemsSource;
  if (!source) return;
  const file = path.join(paths.root, NAME);
  const had = readFingerprint(file);
  const items = exp.key.items;
  const same =
    had &&
    had.items.digest === items.digest &&
    had.items.count === items.count &&
    had.source.size === source.size &&
    had.source.mtimeMs === source.mtimeMs &&
    had.source.ctimeMs === source.ctimeMs &&
    had.source.trustStat &&
    had.source.ino === source.ino &&
    had.source.sha256 === source.sha256 &&
    had.source.file === source.file &&
    had.source.spec === source.spec;
  const jsonl = /\.(jsonl|ndjson)$/i.test(source.file);
  if (same && (!jsonl || fs.existsSync(path.join(paths.root, INDEX)))) return;
  // The index first: a fingerprint names the file's bytes, and an index of other bytes is not read (its header names them).
  if (jsonl) await writeIndex(path.join(paths.root, INDEX), source, items.count);
  const trustStat = now - Math.max(source.mtimeMs, source.ctimeMs) > RACY_MS;
  const fp: Fingerprint = {
    schemaVersion: STORE_SCHEMA_VERSION,
    source: { ...source, trustStat },
    items: { count: items.count, digest: items.digest },
  };
  await writeJsonAtomic(file, fp);
}

/** items.index.bin: a JSON line (the items file's sha256, the count, the body's sha256), then offsets (float64) and lines (uint32). */
async function writeIndex(file: string, source: ItemsSource, count: number): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(source.file);
  } catch {
    return;
  }
  // Changed since it was read for its items: no index of it (the next run makes one).
  if (createHash('sha256').update(bytes).digest('hex') !== source.sha256) return;
  const index = indexOfJsonl(bytes);
  if (index.offsets.length !== count) return;
  const body = Buffer.concat([bytesOf(index.offsets), bytesOf(index.lines)]);
  const head = { schemaVersion: STORE_SCHEMA_VERSION, sha256: source.sha256, count, body: createHash('sha256').update(body).digest('hex') };
  await writeBufferAtomic(file, Buffer.concat([Buffer.from(JSON.stringify(head) + '\n'), body]));
}

function readIndex(file: string, sha256: string, count: number): ItemsIndex | undefined {
  const read = readRegularBytes(file, { what: 'an items index' });
  if (read.kind !== 'bytes') return undefined;
  const buf = read.bytes;
  const nl = buf.indexOf(10);
  try {
    const head = JSON.parse(buf.toString('utf8', 0, nl)) as { schemaVersion?: unknown; sha256?: unknown; count?: unknown; body?: unknown };
    const body = buf.subarray(nl + 1);
    if (head.schemaVersion !== STORE_SCHEMA_VERSION || head.sha256 !== sha256 || head.count !== count || body.length !== 12 * count)
      return undefined;
    if (createHash('sha256').update(body).digest('hex') !== head.body) return undefined;
    const offsets = new Float64Array(count);
    bytesOf(offsets).set(body.subarray(0, 8 * count));
    const lines = new Uint32Array(count);
    bytesOf(lines).set(body.subarray(8 * count));
    return { offsets, lines };
  } catch {
    return undefined;
  }
}

function bytesOf(a: Float64Array | Uint32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function readFingerprint(file: string): Fingerprint | undefined {
  const read = readRegularFile(file, { what: 'an items fingerprint' });
  if (read.kind !== 'text') return undefined;
  try {
    const v = JSON.parse(read.text) as Partial<Fingerprint>;
    const s = v.source;
    const ok =
      v.schemaVersion === STORE_SCHEMA_VERSION &&
      s !== undefined &&
      typeof s.file === 'string' &&
      typeof s.spec === 'string' &&
      typeof s.sha256 === 'string' &&
      [s.size, s.mtimeMs, s.ctimeMs, s.ino].every((x) => typeof x === 'number') &&
      typeof s.trustStat === 'boolean' &&
      typeof v.items?.digest === 'string' &&
      typeof v.items.count === 'number';
    return ok ? (v as Fingerprint) : undefined;
  } catch {
    return undefined;
  }
}

import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type { JournalMark } from '../store/journalMark';
import { STORE_SCHEMA_VERSION } from '../store/schemaVersion';
import { STATUSES } from './unitTable';
import { emptyCounts, type RunView } from './view';

/**
 * snapshot.bin: every unit's state as the journal said it up to an offset, so a resume reads
 * this plus only the journal after it (docs/architecture.md, "Resume in proportion"). One
 * JSON line (what the run as a whole stands at, the journals it covers, the body's size and
 * digest), then a binary body: lastEnd and lastDuration (float64 each), attempts (uint32),
 * status (uint8, unitTable's STATUSES order), the unit ids joined by "\n" (an id has no
 * control character), and a JSON section of the sparse fields. Any doubt is a `problem`:
 * the caller replays the whole journal instead, never trusts a part.
 */
export const UNIT_SNAPSHOT_KIND = 'resumable-unit-state';

export interface UnitSnapshotMeta {
  readonly schemaVersion: number;
  readonly kind: typeof UNIT_SNAPSHOT_KIND;
  /** The config whose units these are. */
  readonly hash: string;
  /** The journals read, in order, each up to its mark (a shard: the whole run's, then its own). */
  readonly journals: readonly ({ readonly name: string } & JournalMark)[];
  readonly n: number;
  readonly idsBytes: number;
  readonly extraBytes: number;
  readonly sha256: string;
  /** Typed arrays are stored as this machine lays them out. */
  readonly endian: 'LE' | 'BE';
  readonly run: RunPart;
}

type RunPart = Omit<RunView, 'units'>;

interface Extra {
  why: [number, string][];
  usd: [number, number][];
  tok: [number, number][];
  m: [number, Readonly<Record<string, number>>][];
  fly: [number, number | null, number | null][];
}

/**
 * Takes the view's state now (synchronously, so it matches the journal's queued offset) and
 * returns what completes the file once the journals' marks can be taken (after the journal is
 * durable up to that offset).
 */
export function encodeUnitSnapshot(view: RunView, hash: string): (journals: UnitSnapshotMeta['journals']) => Buffer[] {
  const t = view.units;
  const n = t.size;
  const ids = t.idBytes ?? Buffer.from(t.ids.join('\n'), 'utf8');
  const extra: Extra = {
    why: [...t.why],
    usd: [...t.usd],
    tok: [...t.tok],
    m: [...t.metrics],
    fly: [...t.inFlight].map(([i, f]) => [i, f.pid ?? null, f.pst ?? null]),
  };
  const extraBuf = Buffer.from(JSON.stringify(extra), 'utf8');
  // Copies of the arrays as they are now (the view goes on changing while the journal syncs).
  const body = [
    Buffer.from(bytesOf(t.lastEnd)),
    Buffer.from(bytesOf(t.lastDuration)),
    Buffer.from(bytesOf(t.attempts)),
    Buffer.from(bytesOf(t.status)),
    ids,
    extraBuf,
  ];
  const { units: _units, ...run } = structuredClone({ ...view, units: undefined });
  return (journals) => {
    const meta: UnitSnapshotMeta = {
      schemaVersion: STORE_SCHEMA_VERSION,
      kind: UNIT_SNAPSHOT_KIND,
      hash,
      journals,
      n,
      idsBytes: ids.length,
      extraBytes: extraBuf.length,
      sha256: digest(...body),
      endian: os.endianness(),
      run,
    };
    return [Buffer.from(JSON.stringify(meta) + '\n', 'utf8'), ...body];
  };
}

export interface DecodedSnapshot {
  readonly meta: UnitSnapshotMeta;
  /** The unit ids as stored (joined by "\n"): compared as bytes, split only when asked. */
  readonly idBytes: Buffer;
  /** The arrays' bytes as stored (copied once, into the run's table, by restoreUnitSnapshot). */
  readonly lastEnd: Buffer;
  readonly lastDuration: Buffer;
  readonly attempts: Buffer;
  readonly status: Buffer;
  readonly extra: Extra;
}

/** The snapshot, or why it cannot be used (then the journal is replayed whole). */
export function decodeUnitSnapshot(buf: Buffer): { snapshot: DecodedSnapshot } | { problem: string } {
  const nl = buf.indexOf(10);
  if (nl === -1) return { problem: 'it has no header line' };
  let meta: UnitSnapshotMeta;
  try {
    meta = JSON.parse(buf.toString('utf8', 0, nl)) as UnitSnapshotMeta;
  } catch {
    return { problem: 'its header line does not parse' };
  }
  if (!meta || typeof meta !== 'object' || meta.kind !== UNIT_SNAPSHOT_KIND) return { problem: 'it is not a unit-state snapshot' };
  if (meta.schemaVersion !== STORE_SCHEMA_VERSION) return { problem: `it is of schemaVersion ${String(meta.schemaVersion)}` };
  if (meta.endian !== os.endianness()) return { problem: 'it was written on a machine of the other byte order' };
  const { n, idsBytes, extraBytes } = meta;
  if (![n, idsBytes, extraBytes].every((x) => Number.isInteger(x) && x >= 0) || !Array.isArray(meta.journals))
    return { problem: 'its header is incomplete' };
  const body = buf.subarray(nl + 1);
  if (body.length !== n * 21 + idsBytes + extraBytes) return { problem: `its body has ${body.length} bytes, not what its header says` };
  if (digest(body) !== meta.sha256) return { problem: 'its body does not match its digest (damaged or cut short)' };
  let at = 0;
  const take = (bytes: number) => body.subarray(at, (at += bytes));
  const lastEnd = take(8 * n);
  const lastDuration = take(8 * n);
  const attempts = take(4 * n);
  const status = take(n);
  // Checked against the run's own ids when restored (restoreUnitSnapshot), byte for byte.
  const idBytes = take(idsBytes);
  let extra: Extra;
  try {
    extra = JSON.parse(take(extraBytes).toString('utf8')) as Extra;
  } catch {
    return { problem: 'its sparse fields do not parse' };
  }
  const counts = emptyCounts();
  for (let i = 0; i < n; i++) {
    const s = STATUSES[status[i]!];
    if (s === undefined) return { problem: `unit ${i} has an unknown status code` };
    counts[s]++;
  }
  for (const k of Object.keys(counts) as (keyof typeof counts)[])
    if (counts[k] !== meta.run.counts?.[k]) return { problem: 'its counts do not match its units' };
  return { snapshot: { meta, idBytes, lastEnd, lastDuration, attempts, status, extra } };
}

/**
 * Puts a snapshot's state into a fresh view of the same units. False (and the view untouched
 * but for units of other ids) when the units differ: the caller replays the journal instead.
 */
export function restoreUnitSnapshot(view: RunView, s: DecodedSnapshot): boolean {
  const t = view.units;
  const same = madeFrom.get(t.ids) === s || (t.size === s.meta.n && Buffer.from(t.ids.join('\n'), 'utf8').equals(s.idBytes));
  if (!same) return false;
  bytesOf(t.lastEnd).set(s.lastEnd);
  bytesOf(t.lastDuration).set(s.lastDuration);
  bytesOf(t.attempts).set(s.attempts);
  t.status.set(s.status);
  // The same ids: the next snapshot writes these bytes again instead of joining a million ids.
  t.idBytes = Buffer.from(s.idBytes);
  for (const [i, why] of s.extra.why) t.setWhy(i, why);
  for (const [i, v] of s.extra.usd) t.usd.set(i, v);
  for (const [i, v] of s.extra.tok) t.tok.set(i, v);
  for (const [i, m] of s.extra.m) t.metrics.set(i, m);
  for (const [i, pid, pst] of s.extra.fly) t.inFlight.set(i, { pid: pid ?? undefined, pst: pst ?? undefined });
  Object.assign(view, s.meta.run);
  return true;
}

/** Id lists made by idsOf, and of which snapshot: a view of them needs no comparison with it. */
const madeFrom = new WeakMap<readonly string[], DecodedSnapshot>();

/** The snapshot's unit ids, in order. */
export function idsOf(s: DecodedSnapshot): string[] {
  const ids = s.meta.n === 0 ? [] : s.idBytes.toString('utf8').split('\n');
  madeFrom.set(ids, s);
  return ids;
}

function bytesOf(a: Float64Array | Uint32Array | Uint8Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function digest(...parts: Buffer[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

import type { Outcome } from '../store/events';
import { IdIndex } from './idIndex';

export type UnitStatus = Outcome | 'running' | 'pending';

/** What the journal says about one unit (a copy: the table holds the state, flat). */
export interface UnitView {
  /** Last outcome, `running` between a start and its end, `pending` otherwise. */
  readonly status: UnitStatus;
  /** Attempts that counted against the retry budget (rate limits and interrupts do not). */
  readonly attempts: number;
  /** pid and start time of the attempt in flight, to find it again after a crash. */
  readonly pid?: number;
  readonly pst?: number;
  readonly lastEnd?: number;
  readonly lastDuration?: number;
  readonly why?: string;
  /** Spent by all its attempts (set only when some attempt reported it). */
  readonly usd?: number;
  readonly tok?: number;
  /** Its last outcome's `result.metrics` (an outcome without them clears them). */
  readonly m?: Readonly<Record<string, number>>;
}

/** Status codes of the flat table; the order is the unit snapshot's format (unitSnapshot.ts), never reorder. */
export const STATUSES: readonly UnitStatus[] = ['pending', 'running', 'passed', 'failed', 'error', 'rate_limited'];
const CODE = new Map(STATUSES.map((s, i) => [s, i]));

export function statusCode(s: UnitStatus): number {
  return CODE.get(s)!;
}

/**
 * Per-unit state of a run in flat arrays indexed by unit number, with the rare fields
 * (in flight, why, spend, metrics) in sparse maps: a million units cost tens of megabytes,
 * not an object each. Reads look like a Map of UnitView (`get`, `has`, `size`, iteration);
 * only the journal's replay (view.ts) and the unit snapshot write it.
 */
export class UnitTable implements Iterable<[string, UnitView]> {
  readonly ids: readonly string[];
  readonly status: Uint8Array;
  readonly attempts: Uint32Array;
  /** NaN: none. */
  readonly lastEnd: Float64Array;
  readonly lastDuration: Float64Array;
  readonly inFlight = new Map<number, { pid?: number; pst?: number }>();
  readonly why = new Map<number, string>();
  readonly usd = new Map<number, number>();
  readonly tok = new Map<number, number>();
  readonly metrics = new Map<number, Readonly<Record<string, number>>>();
  private readonly index: IdIndex;
  /** The ids joined by "\n" as a unit snapshot stored them, once one was restored (they never change). */
  idBytes: Buffer | undefined;
  /** One copy of each reason text: a million units failing alike keep one string. */
  private readonly texts = new Map<string, string>();

  constructor(ids: readonly string[]) {
    this.ids = ids;
    const n = ids.length;
    this.index = new IdIndex(ids);
    this.status = new Uint8Array(n);
    this.attempts = new Uint32Array(n);
    this.lastEnd = new Float64Array(n).fill(NaN);
    this.lastDuration = new Float64Array(n).fill(NaN);
  }

  get size(): number {
    return this.ids.length;
  }

  indexOf(id: string): number {
    return this.index.get(id);
  }

  has(id: string): boolean {
    return this.index.get(id) !== -1;
  }

  statusAt(i: number): UnitStatus {
    return STATUSES[this.status[i]!]!;
  }

  get(id: string): UnitView | undefined {
    const i = this.index.get(id);
    return i === -1 ? undefined : this.at(i);
  }

  at(i: number): UnitView {
    const v: { -readonly [K in keyof UnitView]: UnitView[K] } = { status: STATUSES[this.status[i]!]!, attempts: this.attempts[i]! };
    const f = this.inFlight.get(i);
    if (f) {
      if (f.pid !== undefined) v.pid = f.pid;
      if (f.pst !== undefined) v.pst = f.pst;
    }
    const end = this.lastEnd[i]!;
    if (!Number.isNaN(end)) v.lastEnd = end;
    const d = this.lastDuration[i]!;
    if (!Number.isNaN(d)) v.lastDuration = d;
    const why = this.why.get(i);
    if (why !== undefined) v.why = why;
    const usd = this.usd.get(i);
    if (usd !== undefined) v.usd = usd;
    const tok = this.tok.get(i);
    if (tok !== undefined) v.tok = tok;
    const m = this.metrics.get(i);
    if (m !== undefined) v.m = m;
    return v;
  }

  /** What unit i spent and its metrics, undefined when it has none (no object made per unit). */
  spendAt(i: number): { usd?: number; tok?: number; m?: Readonly<Record<string, number>> } | undefined {
    const usd = this.usd.get(i);
    const tok = this.tok.get(i);
    const m = this.metrics.get(i);
    return usd === undefined && tok === undefined && m === undefined ? undefined : { usd, tok, m };
  }

  /** Sets unit i to what a view says (a merge of shards' views). */
  put(i: number, v: UnitView): void {
    this.status[i] = statusCode(v.status);
    this.attempts[i] = v.attempts;
    this.lastEnd[i] = v.lastEnd ?? NaN;
    this.lastDuration[i] = v.lastDuration ?? NaN;
    if (v.pid !== undefined || v.pst !== undefined) this.inFlight.set(i, { pid: v.pid, pst: v.pst });
    else this.inFlight.delete(i);
    this.setWhy(i, v.why);
    setOrDelete(this.usd, i, v.usd);
    setOrDelete(this.tok, i, v.tok);
    setOrDelete(this.metrics, i, v.m);
  }

  setWhy(i: number, why: string | undefined): void {
    if (why === undefined) {
      this.why.delete(i);
      return;
    }
    let kept = this.texts.get(why);
    if (kept === undefined) {
      // Unbounded distinct texts would make the pool itself the leak; past a few thousand it stops pooling.
      if (this.texts.size < 4096) this.texts.set(why, why);
      kept = why;
    }
    this.why.set(i, kept);
  }

  *keys(): IterableIterator<string> {
    yield* this.ids;
  }

  *values(): IterableIterator<UnitView> {
    for (let i = 0; i < this.ids.length; i++) yield this.at(i);
  }

  *entries(): IterableIterator<[string, UnitView]> {
    for (let i = 0; i < this.ids.length; i++) yield [this.ids[i]!, this.at(i)];
  }

  [Symbol.iterator](): IterableIterator<[string, UnitView]> {
    return this.entries();
  }
}

function setOrDelete<V>(m: Map<number, V>, i: number, v: V | undefined): void {
  if (v === undefined) m.delete(i);
  else m.set(i, v);
}

import type { Unit } from '../config/units';
import type { RunView, UnitView } from '../model/view';

/** One reason units ended as they did, how many, and a few of them. */
export interface Reason {
  readonly status: 'error' | 'failed';
  readonly why: string;
  readonly count: number;
  /** Unit ids, in config order (at most `examples`). */
  readonly units: readonly string[];
}

/**
 * The reasons errors and failures share, most units first: what the end of a run and
 * `status --errors` say instead of a bare "error 3". A reason is its first line with the
 * digits run together, so "exit code 1 … line 42" and "… line 97" are one reason.
 */
export function topReasons(
  units: readonly (string | Pick<Unit, 'id'>)[],
  view: RunView,
  o: { limit?: number; examples?: number } = {},
): Reason[] {
  const examples = o.examples ?? 3;
  const by = new Map<string, { status: 'error' | 'failed'; why: string; count: number; units: string[] }>();
  for (const unit of units) {
    const id = typeof unit === 'string' ? unit : unit.id;
    const k = view.units.indexOf(id);
    // Most units have no reason to give: their status is read without making a view of them.
    const s = k < 0 ? undefined : view.units.statusAt(k);
    if (s !== 'error' && s !== 'failed') continue;
    const v: UnitView = view.units.at(k);
    if (!v || (v.status !== 'error' && v.status !== 'failed')) continue;
    const why = firstLine(v.why) ?? (v.status === 'failed' ? 'failed its check' : 'no reason recorded');
    const key = `${v.status}\0${why.replace(/\d+/g, '#')}`;
    let r = by.get(key);
    if (!r) by.set(key, (r = { status: v.status, why, count: 0, units: [] }));
    r.count++;
    if (r.units.length < examples) r.units.push(id);
  }
  return [...by.values()]
    .sort((a, b) => b.count - a.count || (a.status === b.status ? 0 : a.status === 'error' ? -1 : 1))
    .slice(0, o.limit ?? 5);
}

function firstLine(why: string | undefined): string | undefined {
  const line = why
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
  return line && line.length > 160 ? line.slice(0, 157) + '...' : line;
}

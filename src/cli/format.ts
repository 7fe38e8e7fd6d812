import type { Counts } from '../core/model/view';
import { formatClock, formatDuration } from '../core/time';

import { formatConcurrency, formatSpend } from '../core/model/spendText';
import type { ConcurrencyView, Spend } from '../core/model/view';
import { cutToWidth, displayWidth, paint, UNICODE, type Glyphs, type TermStyle, type Tone } from './termStyle';

// One formatter for both faces: src/core/time.ts, src/core/model/spendText.ts.
export { formatClock, formatDuration, formatSpend };

export function formatCounts(c: Counts): string {
  const parts = [`passed ${c.passed}`, `failed ${c.failed}`, `error ${c.error}`];
  if (c.rate_limited) parts.push(`rate-limited ${c.rate_limited}`);
  if (c.running) parts.push(`running ${c.running}`);
  return parts.join(' · ');
}

/** A stop under way: what the user waits on after a Ctrl+C. */
export interface StoppingFacts {
  readonly second: boolean;
  readonly inFlight: number;
  readonly graceUntil: number | null;
}

export interface ProgressFacts {
  readonly name: string;
  readonly done: number;
  readonly total: number;
  readonly counts: Counts;
  readonly rate: number;
  readonly etaMs: number | null;
  readonly pausedUntil: number | null;
  readonly now: number;
  readonly concurrency?: ConcurrencyView | null;
  readonly spend?: Spend | null;
  readonly stopping?: StoppingFacts | null;
}

/** Where the line goes: its width in columns (none: as long as it takes), its symbols and colour. */
export interface LineStyle {
  readonly width?: number;
  readonly glyphs?: Glyphs;
  readonly color?: TermStyle['color'];
}

interface Part {
  readonly text: string;
  readonly tone?: Tone;
}

/**
 * Shortening steps, least important first; each applies on top of those before it. The
 * state (a pause or a stop) and the problems (failed, error) are the last to go; while
 * stopping, the stop is all that matters and the counts go first.
 */
const STEPS = [
  'spend',
  'concurrency',
  'rate',
  'state1',
  'running',
  'rateLimited',
  'eta',
  'passed',
  'state2',
  'problems',
  'state3',
] as const;
const STOP_STEPS = [
  'spend',
  'concurrency',
  'rate',
  'eta',
  'running',
  'rateLimited',
  'passed',
  'problems',
  'state1',
  'state2',
  'state3',
] as const;
type Step = (typeof STEPS)[number];

/**
 * The one live line: name done/total, then a pause's countdown or a stop's wait, the outcome
 * counts that are not zero, rate, ETA, the adaptive limit and the spend. Fitted to `width` by
 * display width: parts are left out or shortened, least important first; the name is cut
 * last. Never cut inside a character or an escape code.
 */
export function progressLine(f: ProgressFacts, style: LineStyle = {}): string {
  const g = style.glyphs ?? UNICODE;
  const width = style.width ?? Infinity;
  let parts: Part[] = [];
  let line = '';
  const steps: readonly Step[] = f.stopping ? STOP_STEPS : STEPS;
  for (let n = 0; n <= steps.length; n++) {
    parts = compose(f, g, new Set(steps.slice(0, n)));
    line = parts.map((p) => p.text).join(g.sep);
    if (displayWidth(line) <= width) break;
  }
  if (displayWidth(line) > width) {
    const rest = displayWidth(line) - displayWidth(parts[0]!.text);
    parts[0] = { text: cutName(f, g, Math.max(0, width - rest)) };
    line = parts.map((p) => p.text).join(g.sep);
    // Even `x…/N` and the state do not fit: a plain cut.
    if (displayWidth(line) > width) return cutToWidth(line, width);
  }
  return style.color ? parts.map((p) => paint({ color: true }, p.tone, p.text)).join(g.sep) : line;
}

function compose(f: ProgressFacts, g: Glyphs, off: ReadonlySet<Step>): Part[] {
  const parts: Part[] = [{ text: `${f.name} ${f.done}/${f.total}` }];
  const pausedUntil = f.pausedUntil !== null && f.pausedUntil > f.now ? f.pausedUntil : null;
  const paused = pausedUntil !== null;
  const level = off.has('state3') ? 3 : off.has('state2') ? 2 : off.has('state1') ? 1 : 0;
  if (f.stopping) parts.push({ text: stoppingText(f.stopping, f.now, g, level), tone: 'stopping' });
  else if (pausedUntil !== null) parts.push({ text: pauseText(pausedUntil, f.now, g, level), tone: 'paused' });
  const c = f.counts;
  const count = (on: boolean, n: number, label: string, tone?: Tone) => on && n > 0 && parts.push({ text: `${label} ${n}`, tone });
  count(!off.has('passed'), c.passed, 'passed', 'passed');
  count(!off.has('problems'), c.failed, 'failed', 'failed');
  count(!off.has('problems'), c.error, 'error', 'error');
  count(!off.has('rateLimited'), c.rate_limited, 'rate-limited', 'paused');
  count(!off.has('running'), c.running, 'running');
  // Paused, the rate is the one before the pause: the ETA (which counts the pause) says more.
  if (!off.has('rate') && f.rate > 0 && !paused && !f.stopping)
    parts.push({ text: `${f.rate >= 10 ? f.rate.toFixed(0) : f.rate.toFixed(1)}/s` });
  if (!off.has('eta') && f.etaMs !== null && f.done < f.total && !f.stopping) parts.push({ text: `ETA ${formatDuration(f.etaMs)}` });
  const conc = formatConcurrency(f.concurrency);
  // Their own separators are the Unicode ones.
  if (!off.has('concurrency') && conc) parts.push({ text: conc.replaceAll(UNICODE.sep, g.sep) });
  if (!off.has('spend') && f.spend) parts.push({ text: formatSpend(f.spend).replaceAll(UNICODE.sep, g.sep) });
  return parts;
}

function pauseText(until: number, now: number, g: Glyphs, level: number): string {
  const left = formatDuration(until - now);
  if (level === 3) return `${g.pause} ${left}`;
  if (level === 2) return `${g.pause} rate limited, ${left} left`;
  if (level === 1) return `${g.pause} rate limited, resumes in ${left}`;
  return `${g.pause} rate limited, resumes ${formatClock(until)} (in ${left})`;
}

/** "■ Stopping: waiting for 3 units in flight (grace 28s left; Ctrl+C again to kill them now)", and shorter (level 1 to 3). */
export function stoppingText(s: StoppingFacts, now: number, g: Glyphs, level = 0): string {
  const units = `${s.inFlight} unit${s.inFlight === 1 ? '' : 's'}`;
  const short = level === 3;
  if (s.inFlight === 0) return short ? `${g.stop} stopping` : `${g.stop} Stopping: no unit in flight, finishing up`;
  if (s.second) return short ? `${g.stop} killing ${s.inFlight}` : `${g.stop} Second interrupt: killing ${units} in flight now`;
  const left = s.graceUntil === null ? undefined : s.graceUntil - now;
  if (left !== undefined && left <= 0)
    return short ? `${g.stop} killing ${s.inFlight}` : `${g.stop} Stopping: grace over, killing ${units} in flight`;
  const grace = left === undefined ? '' : formatDuration(left);
  if (short) return `${g.stop} ${s.inFlight} in flight${grace && `, ${grace}`}`;
  if (level === 0)
    return `${g.stop} Stopping: waiting for ${units} in flight (${grace && `grace ${grace} left; `}Ctrl+C again to kill them now)`;
  const head = `${g.stop} Stopping: ${units} in flight${grace && `, grace ${grace}`}`;
  return level === 1 ? `${head} (Ctrl+C again: kill now)` : head;
}

/** The head `name done/total` in `width` columns: the name is cut, the numbers kept. */
function cutName(f: ProgressFacts, g: Glyphs, width: number): string {
  const numbers = ` ${f.done}/${f.total}`;
  const room = width - displayWidth(numbers) - displayWidth(g.ellipsis);
  return room > 0 ? `${cutToWidth(f.name, room)}${g.ellipsis}${numbers}` : numbers.trimStart();
}

/** A pass rate and its interval as `status` and `compare` print them: "67% [21%–94%]". */
export function formatRate(w: { readonly rate: number; readonly low: number; readonly high: number }): string {
  const pct = (x: number) => `${(x * 100).toFixed(0)}%`;
  return `${pct(w.rate)} [${pct(w.low)}–${pct(w.high)}]`;
}

/** A metric's mean: three significant digits, in exponent form when tiny or huge. */
export function formatMetric(x: number): string {
  const a = Math.abs(x);
  return a !== 0 && (a < 0.01 || a >= 1e6) ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}

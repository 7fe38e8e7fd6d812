// Charts as plain SVG: a few areas, bars and bands are all the dashboard draws, and SVG takes
// the theme's colours from CSS classes (a canvas library would need them read and re-read).
import type { PauseSpan, RunHistory } from '../../../src/core/status/history';
import { wilson } from '../../../src/core/status/wilson';
import type { GroupCount } from '../../../src/core/status/groupBy';
import { clock, duration, h, percent, s } from './format';

const PAD = { left: 44, right: 12, top: 10, bottom: 22 };

interface Frame {
  readonly w: number;
  readonly hgt: number;
  readonly x: (t: number) => number;
  readonly y: (v: number) => number;
  readonly from: number;
  readonly to: number;
}

function frame(width: number, height: number, from: number, to: number, max: number): Frame {
  const iw = Math.max(10, width - PAD.left - PAD.right);
  const ih = Math.max(10, height - PAD.top - PAD.bottom);
  const span = Math.max(1, to - from);
  return {
    w: width,
    hgt: height,
    from,
    to,
    x: (t) => PAD.left + ((t - from) / span) * iw,
    y: (v) => PAD.top + ih - (max > 0 ? (v / max) * ih : 0),
  };
}

/** Time labels at the start, middle and end, and value ticks on the left. */
function axes(f: Frame, max: number, unit: (v: number) => string): SVGGElement {
  const g = s('g', { class: 'axis' });
  const y0 = f.y(0);
  g.append(s('line', { x1: PAD.left, x2: f.w - PAD.right, y1: y0, y2: y0 }));
  for (const v of [0, max / 2, max]) {
    const yy = f.y(v);
    if (v > 0) g.append(s('line', { class: 'grid', x1: PAD.left, x2: f.w - PAD.right, y1: yy, y2: yy }));
    g.append(s('text', { x: PAD.left - 6, y: yy + 4, 'text-anchor': 'end' }, unit(v)));
  }
  const mid = (f.from + f.to) / 2;
  for (const [t, anchor] of [
    [f.from, 'start'],
    [mid, 'middle'],
    [f.to, 'end'],
  ] as const)
    g.append(s('text', { x: f.x(t), y: f.hgt - 6, 'text-anchor': anchor }, clock(t)));
  return g;
}

function pauseBands(f: Frame, pauses: readonly PauseSpan[]): SVGGElement {
  const g = s('g', { class: 'pauses' });
  for (const p of pauses) {
    const x1 = f.x(p.from);
    const w = Math.max(2, f.x(p.to) - x1);
    g.append(
      s(
        'rect',
        { class: 'pause', x: x1, y: PAD.top, width: w, height: f.y(0) - PAD.top },
        s('title', {}, `Rate-limit pause ${clock(p.from)}–${clock(p.to)} (${duration(p.to - p.from)})${p.src ? `, from ${p.src}` : ''}`),
      ),
    );
  }
  return g;
}

/** Units done over time, stacked by outcome, with the rate-limit pauses as bands behind. */
export function progressChart(width: number, hist: RunHistory, total: number): SVGSVGElement {
  const height = 200;
  const max = Math.max(1, total);
  const f = frame(width, height, hist.from, hist.to, max);
  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Units done over time' });
  svg.append(pauseBands(f, hist.pauses), axes(f, max, (v) => String(Math.round(v))));
  if (hist.buckets.length === 0) return svg;
  const layers: { cls: string; top: (i: number) => number; base: (i: number) => number }[] = [
    { cls: 'passed', base: () => 0, top: (i) => hist.buckets[i]!.passed },
    { cls: 'failed', base: (i) => hist.buckets[i]!.passed, top: (i) => hist.buckets[i]!.passed + hist.buckets[i]!.failed },
    { cls: 'error', base: (i) => hist.buckets[i]!.passed + hist.buckets[i]!.failed, top: (i) => hist.buckets[i]!.done },
  ];
  const xs = [hist.from, ...hist.buckets.map((b) => Math.min(b.t, hist.to))];
  // Bucket i's values hold at its end; the area starts from nothing at the first record.
  const at = (fn: (i: number) => number, k: number) => (k === 0 ? 0 : fn(k - 1));
  for (const l of layers) {
    const upper = xs.map((t, k) => `${f.x(t).toFixed(1)},${f.y(at(l.top, k)).toFixed(1)}`);
    const lower = xs.map((t, k) => `${f.x(t).toFixed(1)},${f.y(at(l.base, k)).toFixed(1)}`).reverse();
    svg.append(s('polygon', { class: `area ${l.cls}`, points: [...upper, ...lower].join(' ') }));
  }
  const line = xs.map((t, k) => `${f.x(t).toFixed(1)},${f.y(at((i) => hist.buckets[i]!.done, k)).toFixed(1)}`);
  svg.append(s('polyline', { class: 'done-line', points: line.join(' ') }));
  return svg;
}

/** Bars of the throughput chart: units end in bursts, so a bar spans a few of the history's slices. */
const THROUGHPUT_BARS = 40;

/** Units finished per minute in each time slice. */
export function throughputChart(width: number, history: RunHistory): SVGSVGElement {
  const height = 120;
  const hist = coarser(history, Math.ceil(history.buckets.length / THROUGHPUT_BARS));
  const perMin = hist.buckets.map((b) => (hist.bucketMs > 0 ? (b.ended / hist.bucketMs) * 60_000 : 0));
  const max = Math.max(1, ...perMin);
  const f = frame(width, height, hist.from, hist.to, max);
  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Throughput' });
  svg.append(
    pauseBands(f, hist.pauses),
    axes(f, max, (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1))),
  );
  hist.buckets.forEach((b, i) => {
    const x1 = f.x(hist.from + i * hist.bucketMs);
    const x2 = f.x(Math.min(b.t, hist.to));
    const v = perMin[i]!;
    if (v <= 0) return;
    svg.append(
      s(
        'rect',
        { class: 'bar', x: x1 + 0.5, y: f.y(v), width: Math.max(1, x2 - x1 - 1), height: f.y(0) - f.y(v) },
        s("title", {}, `${clock(hist.from + i * hist.bucketMs)}: ${v.toFixed(1)} units/min`),
      ),
    );
  });
  return svg;
}

/** `k` slices merged into one: the ends added up, the counts as at the last one. */
function coarser(hist: RunHistory, k: number): RunHistory {
  if (k <= 1) return hist;
  const buckets = [];
  for (let i = 0; i < hist.buckets.length; i += k) {
    const group = hist.buckets.slice(i, i + k);
    buckets.push({ ...group.at(-1)!, ended: group.reduce((a, b) => a + b.ended, 0) });
  }
  return { ...hist, buckets, bucketMs: hist.bucketMs * k };
}

/** Runner sessions and rate-limit pauses on one line, each pause labelled. */
export function timeline(width: number, hist: RunHistory): SVGSVGElement {
  const height = 46;
  const f = frame(width, height, hist.from, hist.to, 1);
  const svg = s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Sessions and pauses' });
  const y = 8;
  svg.append(s('rect', { class: 'track', x: PAD.left, y, width: f.w - PAD.left - PAD.right, height: 14 }));
  for (const ses of hist.sessions) {
    const x1 = f.x(ses.from);
    svg.append(
      s(
        'rect',
        { class: 'session', x: x1, y, width: Math.max(2, f.x(ses.to) - x1), height: 14 },
        s('title', {}, `Runner ${clock(ses.from)}–${ses.open ? 'now' : clock(ses.to)}`),
      ),
    );
  }
  for (const p of hist.pauses) {
    const x1 = f.x(p.from);
    svg.append(
      s(
        'rect',
        { class: 'pause-mark', x: x1, y: y - 3, width: Math.max(3, f.x(p.to) - x1), height: 20 },
        s('title', {}, `Paused on a rate limit ${clock(p.from)}–${clock(p.to)} (${duration(p.to - p.from)}), reset ${clock(p.until)}`),
      ),
    );
  }
  svg.append(s('text', { class: 'axis-label', x: PAD.left - 6, y: y + 11, 'text-anchor': 'end' }, 'runs'));
  svg.append(s('text', { class: 'axis-label', x: PAD.left, y: height - 6 }, clock(hist.from)));
  svg.append(s('text', { class: 'axis-label', x: f.w - PAD.right, y: height - 6, 'text-anchor': 'end' }, clock(hist.to)));
  return svg;
}

const left = (g: GroupCount) => g.total - g.counts.passed - g.counts.failed - g.counts.error;

/**
 * Pass rate per group among its judged units (passed + failed: an error says nothing about the
 * answer), with the 95% Wilson interval as a whisker; the table lists the counts beside.
 */
export function passRates(groups: readonly GroupCount[], label: (g: string) => string): HTMLElement {
  const rows = groups.map((g) => {
    const judged = g.counts.passed + g.counts.failed;
    const w = wilson(g.counts.passed, judged);
    const bar = s('svg', { class: 'rate', width: 200, height: 16, viewBox: '0 0 200 16', role: 'img' });
    bar.append(s('rect', { class: 'track', x: 0, y: 4, width: 200, height: 8 }));
    if (w) {
      bar.append(s('rect', { class: 'passed', x: 0, y: 4, width: w.rate * 200, height: 8 }));
      bar.append(s('line', { class: 'whisker', x1: w.low * 200, x2: w.high * 200, y1: 8, y2: 8 }));
      for (const v of [w.low, w.high]) bar.append(s('line', { class: 'whisker', x1: v * 200, x2: v * 200, y1: 3, y2: 13 }));
      bar.append(s('title', {}, `${percent(w.rate)} passed, 95% interval ${percent(w.low)}–${percent(w.high)} (Wilson)`));
    }
    return h(
      'tr',
      {},
      h('td', { class: 'group' }, label(g.group)),
      h('td', {}, bar),
      h('td', { class: 'num' }, w ? percent(w.rate) : '—'),
      h('td', { class: 'num muted' }, w ? `${percent(w.low)}–${percent(w.high)}` : ''),
      h('td', { class: 'num muted' }, `${g.counts.passed}/${judged}`),
      h('td', { class: 'num muted' }, g.counts.error ? `${g.counts.error} err` : ''),
      h('td', { class: 'num muted' }, left(g) ? `${left(g)} left` : ''),
    );
  });
  return h(
    'table',
    { class: 'rates' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Group'),
        h('th', {}, 'Pass rate'),
        h('th', { class: 'num' }, ''),
        h('th', { class: 'num' }, '95% CI'),
        h('th', { class: 'num' }, 'passed'),
        h('th', {}, ''),
        h('th', {}, ''),
      ),
    ),
    h('tbody', {}, ...rows),
  );
}

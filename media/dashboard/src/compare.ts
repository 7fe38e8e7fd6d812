// The compare view's webview: draws the comparison the panel computed; it reads nothing itself.
import type {
  CompareTestState,
  FromCompareWebview,
  Rate,
  ShownChange,
  ShownComparison,
  ShownGroup,
  ToCompareWebview,
} from '../../../src/extension/dashboard/compareProtocol';
import { h, plural } from './format';

declare function acquireVsCodeApi(): { postMessage(m: FromCompareWebview): void };
const vscode = acquireVsCodeApi();
const post = (m: FromCompareWebview) => vscode.postMessage(m);

const app = document.getElementById('app')!;
let cmp: ShownComparison | undefined;
let error = '';
let renders = 0;

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

function rateText(r: Rate | null): string {
  return r ? `${r.passed}/${r.total} ${pct(r.rate)} [${pct(r.low)}–${pct(r.high)}]` : '–';
}

function pointsText(p: number | null): string {
  if (p === null) return '';
  const d = Math.round(p);
  return `${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d)} pts`;
}

function metricText(x: number | null): string {
  return x === null ? '–' : String(Number(x.toPrecision(3)));
}

function unitLink(side: 'a' | 'b', id: string): HTMLElement {
  const a = h('a', { role: 'button', tabindex: '0', 'data-id': id, title: `Open the result of ${id} in ${side.toUpperCase()}` }, id);
  const open = () => post({ type: 'openUnit', side, id });
  a.addEventListener('click', open);
  a.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') open();
  });
  return a;
}

function changeList(title: string, cls: string, list: readonly ShownChange[], total: number): HTMLElement | null {
  if (total === 0) return null;
  return h(
    'section',
    { class: `panel ${cls}` },
    h('h2', {}, `${title} (${total})`),
    h(
      'ul',
      { class: 'changes' },
      ...list.map((c) =>
        h(
          'li',
          { 'data-unit': c.b },
          c.a === c.b ? unitLink('b', c.b) : h('span', {}, unitLink('a', c.a), ' → ', unitLink('b', c.b)),
          ' ',
          h('span', { class: `st-${c.before}` }, c.before),
          ' → ',
          h('span', { class: `st-${c.after}` }, c.after),
          c.why ? h('span', { class: 'why' }, c.why.split('\n')[0]!.slice(0, 200)) : null,
        ),
      ),
    ),
    total > list.length ? h('p', { class: 'muted' }, `… and ${total - list.length} more (resumable compare --json lists them all)`) : null,
  );
}

function groupRow(g: ShownGroup): HTMLElement {
  const p = g.points === null ? '' : Math.round(g.points) > 0 ? 'up' : Math.round(g.points) < 0 ? 'down' : '';
  return h(
    'tr',
    { 'data-group': g.group },
    h('td', {}, g.group || '(all)'),
    h('td', { class: 'num' }, String(g.matched)),
    h('td', { class: 'num rate-a' }, rateText(g.a)),
    h('td', { class: 'num rate-b' }, rateText(g.b)),
    h('td', { class: `num points ${p}` }, pointsText(g.points)),
    h('td', {}, g.metrics.map((m) => `${m.name} ${metricText(m.a)} → ${metricText(m.b)}`).join(' · ')),
  );
}

function render(c: ShownComparison): void {
  const refresh = h('button', { type: 'button' }, 'Refresh');
  refresh.addEventListener('click', () => {
    refresh.setAttribute('disabled', '');
    post({ type: 'refresh' });
  });
  const how = c.matchBy === 'id' ? 'unit id' : 'item (and repeat)';
  const only = [c.onlyA ? `${c.onlyA} only in A` : '', c.onlyB ? `${c.onlyB} only in B` : ''].filter(Boolean).join(' · ');
  const none = !c.counts.regressions && !c.counts.fixes && !c.counts.newErrors;
  const parts: (HTMLElement | null)[] = [
    h(
      'header',
      { class: 'cmp-top' },
      h('h1', {}, `${c.a} ↔ ${c.b}`),
      h('span', { class: 'muted' }, `computed ${new Date(c.computedAt).toLocaleTimeString()}`),
      refresh,
    ),
    h(
      'section',
      { class: 'panel' },
      h('p', {}, `A: ${c.a} · B: ${c.b}`),
      h('p', { class: 'matched' }, `Matched ${plural(c.matched, 'unit')} by ${how}${only ? `; ${only}` : ''}.`),
      c.matched === 0 && c.matchBy === 'id' ? h('p', { class: 'muted' }, 'No unit id in common: two experiments over the same items? Compare them by item.') : null,
      none ? h('p', {}, 'No regressions, fixes or new errors.') : null,
      c.otherChanges ? h('p', { class: 'muted' }, `${plural(c.otherChanges, 'other change')} (an outcome in one, none yet in the other; failed ↔ error).`) : null,
    ),
    changeList('Regressions, passed → failed or error', 'regressions', c.regressions, c.counts.regressions),
    changeList('Fixes, failed or error → passed', 'fixes', c.fixes, c.counts.fixes),
    changeList('New errors', 'new-errors', c.newErrors, c.counts.newErrors),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Pass rate per group', h('span', { class: 'muted small' }, ' · matched units with a verdict, 95% Wilson interval')),
      h(
        'table',
        { class: 'rates' },
        h('tr', {}, ...['group', 'matched', 'A', 'B', 'change', 'metrics (mean A → B)'].map((t) => h('th', {}, t))),
        ...c.groups.map(groupRow),
      ),
    ),
  ];
  app.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
  app.removeAttribute('aria-busy');
}

/** What is drawn, read back from the page (the ids in each list, the rate cells' text). */
function testState(seq: number): CompareTestState {
  const ids = (cls: string) => [...app.querySelectorAll(`.${cls} li`)].map((li) => li.getAttribute('data-unit') ?? '');
  const text = (row: Element, cls: string) => row.querySelector(`.${cls}`)?.textContent ?? '';
  return {
    seq,
    renders,
    matched: cmp?.matched ?? -1,
    regressions: ids('regressions'),
    fixes: ids('fixes'),
    newErrors: ids('new-errors'),
    groups: [...app.querySelectorAll('tr[data-group]')].map((r) => ({
      group: r.getAttribute('data-group') ?? '',
      a: text(r, 'rate-a'),
      b: text(r, 'rate-b'),
      points: text(r, 'points'),
    })),
    error,
  };
}

window.addEventListener('message', (e: MessageEvent<ToCompareWebview>) => {
  const m = e.data;
  switch (m.type) {
    case 'comparison':
      cmp = m.cmp;
      error = '';
      renders++;
      render(m.cmp);
      return;
    case 'error':
      error = m.why;
      app.replaceChildren(h('div', { class: 'notice' }, m.why));
      app.removeAttribute('aria-busy');
      return;
    case 'testQuery':
      post({ type: 'testState', ...testState(m.seq) });
      return;
  }
});
post({ type: 'ready' });

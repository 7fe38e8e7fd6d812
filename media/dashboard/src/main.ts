// The dashboard webview: it keeps the rows it was sent once, applies the changed ones, and
// redraws the summary from each new report. It reads nothing itself: every byte comes by message.
import type { FromWebview, Row, Summary, ToWebview } from '../../../src/extension/dashboard/protocol';
import { R } from '../../../src/extension/dashboard/protocol';
import { passRates, progressChart, throughputChart, timeline } from './charts';
import { renderDetails } from './details';
import { clock, count, duration, h, percent, plural, usd } from './format';
import { ResultsTable } from './table';

/** What the page keeps when it is hidden and loaded again (VS Code's webview state). */
interface Kept {
  readonly filter: string;
  readonly sort: ResultsTable['sort'];
  readonly openUnit?: string;
}
declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void; getState(): Kept | undefined; setState(s: Kept): void };
const vscode = acquireVsCodeApi();
const post = (m: FromWebview) => vscode.postMessage(m);
const keep = () => vscode.setState({ filter: table.filterText(), sort: table.sort, ...(openUnit ? { openUnit } : {}) });

const app = document.getElementById('app')!;
let summary: Summary | undefined;
let rows: Row[] = [];
let updates = 0;
let changedRows = 0;
let openUnit: string | undefined;

const table = new ResultsTable((id) => {
  openUnit = id;
  keep();
  details.replaceChildren(h('p', { class: 'muted' }, `Reading ${id}…`));
  post({ type: 'openUnit', id });
}, keep);
const header = h('header', { class: 'top' });
const cards = h('section', { class: 'cards' });
const charts = h('section', { class: 'charts' });
const groups = h('section', { class: 'panel groups' });
const details = h('section', { class: 'details' }, h('p', { class: 'muted' }, 'Click a unit to see its result, its log and its attempts.'));
const notice = h('div', { class: 'notice', hidden: '' });

function mount(): void {
  app.replaceChildren(
    notice,
    header,
    cards,
    charts,
    groups,
    h('section', { class: 'panel' }, h('h2', {}, 'Results'), table.el),
    details,
  );
  app.removeAttribute('aria-busy');
}

const STATUSES = ['passed', 'failed', 'error', 'rate_limited', 'running', 'pending'] as const;
const LABEL: Record<string, string> = {
  passed: 'passed',
  failed: 'failed',
  error: 'errors',
  rate_limited: 'rate limited',
  running: 'running',
  pending: 'pending',
};

const STATE: Record<string, string> = {
  paused_rate_limit: 'paused: rate limit',
  budget_exhausted: 'budget reached',
  not_started: 'not started',
};

function renderHeader(sm: Summary): void {
  const r = sm.report;
  const frac = r.total ? r.done / r.total : 0;
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-valuenow': String(r.done), 'aria-valuemax': String(r.total) });
  for (const st of ['passed', 'failed', 'error'] as const) {
    const seg = h('div', { class: `seg ${st}` });
    seg.style.width = `${r.total ? (r.counts[st] / r.total) * 100 : 0}%`;
    bar.append(seg);
  }
  const state = STATE[r.status] ?? r.status.replace(/_/g, ' ');
  const facts = [
    `${r.done.toLocaleString('en-US')}/${r.total.toLocaleString('en-US')} (${percent(frac)})`,
    sm.live && r.etaMs !== null ? `ETA ${duration(r.etaMs)}` : '',
    sm.live && r.rate > 0 ? `${(r.rate * 60).toFixed(1)} units/min` : '',
    r.concurrency ? `concurrency ${r.concurrency.limit}/${r.concurrency.max}` : '',
    r.rateLimitedUntil ? `paused until ${clock(r.rateLimitedUntil)}` : '',
    r.pauseCount ? plural(r.pauseCount, 'pause') : '',
  ].filter(Boolean);
  header.replaceChildren(
    h(
      'div',
      { class: 'title' },
      h('h1', {}, r.name),
      h('span', { class: `badge st-${r.status}` }, state),
      r.runner ? h('span', { class: 'muted' }, `pid ${r.runner.pid} on ${r.runner.host}${r.runner.alive ? '' : ' (gone)'}`) : null,
    ),
    bar,
    h('div', { class: 'facts' }, ...facts.map((f) => h('span', {}, f))),
    ...r.notes.map((n) => h('div', { class: 'note' }, n)),
  );
}

function card(title: string, ...body: (Node | string | null)[]): HTMLElement {
  return h('div', { class: 'card' }, h('h2', {}, title), ...body);
}

function renderCards(sm: Summary): void {
  const r = sm.report;
  const breakdown = h(
    'ul',
    { class: 'breakdown' },
    ...STATUSES.filter((st) => r.counts[st] > 0 || st === 'passed').map((st) =>
      h('li', {}, h('span', { class: `dot ${st}` }), h('span', { class: 'num' }, count(r.counts[st])), ` ${LABEL[st]}`),
    ),
  );
  const spend = r.spend
    ? h(
        'dl',
        { class: 'kv' },
        h('dt', {}, 'spent'),
        h('dd', {}, [r.spend.usd ? usd(r.spend.usd) : '', r.spend.tokens ? `${count(r.spend.tokens)} tokens` : ''].filter(Boolean).join(' · ')),
        r.projected ? h('dt', {}, 'projected') : null,
        r.projected
          ? h('dd', {}, [r.projected.usd ? usd(r.projected.usd) : '', r.projected.tokens ? `${count(r.projected.tokens)} tokens` : ''].filter(Boolean).join(' · '))
          : null,
        r.budget ? h('dt', {}, 'budget') : null,
        r.budget
          ? h('dd', {}, [r.budget.maxCostUSD ? usd(r.budget.maxCostUSD) : '', r.budget.maxTokens ? `${count(r.budget.maxTokens)} tokens` : ''].filter(Boolean).join(' · '))
          : null,
      )
    : h('p', { class: 'muted' }, 'No unit reported a cost or tokens.');
  const hist = sm.history;
  const pauseList = hist.pauses.length
    ? h(
        'ul',
        { class: 'pause-list' },
        ...hist.pauses.slice(-5).map((p) =>
          h('li', {}, `${clock(p.from)} for ${duration(p.to - p.from)}${p.open ? ' (now)' : ''}`, h('span', { class: 'muted' }, p.src ? ` · ${p.src}` : '')),
        ),
      )
    : h('p', { class: 'muted' }, 'No rate-limit pause.');
  const list = [card('Status', breakdown), card('Spend', spend), card(`Rate-limit pauses (${hist.pauses.length})`, pauseList)];
  if (r.shards.length)
    list.push(
      card(
        `Shards (${r.shards.length})`,
        h(
          'table',
          { class: 'shards' },
          ...r.shards.map((sh) =>
            h(
              'tr',
              {},
              h('td', {}, `${sh.k}/${sh.n}`),
              h('td', {}, sh.stale ? `${sh.state} (stale)` : sh.state.replace('_', ' ')),
              h('td', { class: 'num' }, `${sh.done}/${sh.total}`),
              h('td', { class: 'muted' }, sh.host ?? ''),
            ),
          ),
        ),
      ),
    );
  cards.replaceChildren(...list);
}

function renderCharts(sm: Summary): void {
  const width = Math.max(320, charts.clientWidth - 24);
  const hist = sm.history;
  if (hist.buckets.length === 0) {
    charts.replaceChildren(h('div', { class: 'panel' }, h('h2', {}, 'Progress'), h('p', { class: 'muted' }, 'Nothing has run yet.')));
    return;
  }
  charts.replaceChildren(
    h(
      'div',
      { class: 'panel' },
      h('h2', {}, 'Progress over time', h('span', { class: 'legend' }, ...['passed', 'failed', 'error'].map((c) => h('span', {}, h('span', { class: `dot ${c}` }), LABEL[c])), h('span', {}, h('span', { class: 'dot pause' }), 'rate-limit pause'))),
      progressChart(width, hist, sm.report.total),
      h('h2', {}, 'Throughput (units/min)'),
      throughputChart(width, hist),
      h('h2', {}, 'Runner sessions and pauses'),
      timeline(width, hist),
    ),
  );
}

function renderGroups(sm: Summary): void {
  const named = sm.report.groups;
  const key = sm.groupBy || (sm.hasMatrix ? 'matrix cell' : '');
  groups.replaceChildren(
    h('h2', {}, key ? `Pass rate by ${key}` : 'Pass rate', h('span', { class: 'muted small' }, ' · passed of judged (passed + failed), 95% Wilson interval')),
    passRates(named, (g) => g || '(all units)'),
  );
}

function render(): void {
  if (!summary) return;
  renderHeader(summary);
  renderCards(summary);
  renderCharts(summary);
  renderGroups(summary);
}

function onMessage(m: ToWebview): void {
  switch (m.type) {
    case 'init': {
      const { rows: all, type: _t, ...sm } = m;
      if (!summary) mount();
      summary = sm;
      rows = [...all];
      table.setColumns(sm.groupBy, sm.hasMatrix);
      table.setRows(rows);
      notice.hidden = true;
      render();
      if (openUnit) post({ type: 'openUnit', id: openUnit });
      return;
    }
    case 'update': {
      const { changed, type: _t, ...sm } = m;
      summary = sm;
      updates++;
      changedRows += changed.length;
      table.setColumns(sm.groupBy, sm.hasMatrix);
      table.update(changed);
      render();
      // The unit shown changed (it ran again, or ended): read it again.
      if (openUnit && changed.some(([, r]) => r[R.id] === openUnit)) post({ type: 'openUnit', id: openUnit });
      return;
    }
    case 'unit':
      if (m.id !== openUnit) return;
      details.replaceChildren(renderDetails(m, (file) => post({ type: 'openFile', file })));
      return;
    case 'gone':
      notice.textContent = m.why;
      notice.hidden = false;
      // Not shown yet: the notice alone, until the run can be read.
      if (!summary) app.replaceChildren(notice);
      return;
    case 'testQuery': {
      if (m.filter !== undefined) table.setFilter(m.filter);
      post({
        type: 'testState',
        seq: m.seq,
        filter: table.filterText(),
        total: rows.length,
        shown: table.shown,
        firstIds: table.firstIds(50),
        rendered: table.rendered,
        done: summary?.report.done ?? -1,
        status: summary?.report.status ?? '',
        updates,
        changedRows,
        pauses: summary?.history.pauses.length ?? 0,
        buckets: summary?.history.buckets.length ?? 0,
      });
      return;
    }
  }
}

const kept = vscode.getState();
if (kept) {
  table.restore(kept.filter, kept.sort, kept.openUnit);
  openUnit = kept.openUnit;
}
window.addEventListener('message', (e: MessageEvent<ToWebview>) => onMessage(e.data));
// Charts are drawn at the panel's width: draw again when it changes.
let resizeTimer: ReturnType<typeof setTimeout> | undefined;
new ResizeObserver(() => {
  if (resizeTimer !== undefined) clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => summary && renderCharts(summary), 100);
}).observe(document.body);
post({ type: 'ready' });

// A unit's details: its attempts (from the journal), its result JSON and its log side by side.
import type { ShownFile, ToWebview } from '../../../src/extension/dashboard/protocol';
import { clock, duration, h } from './format';

type UnitMessage = Extract<ToWebview, { type: 'unit' }>;

export function renderDetails(m: UnitMessage, openFile: (file: string) => void): HTMLElement {
  const attempts = m.attempts.length
    ? h(
        'table',
        { class: 'attempts' },
        h(
          'thead',
          {},
          h('tr', {}, ...['#', 'started', 'ended', 'status', 'duration', 'exit', 'why'].map((t) => h('th', {}, t))),
        ),
        h(
          'tbody',
          {},
          ...m.attempts.map((a) =>
            h(
              'tr',
              { class: `s-${a.status}` },
              h('td', { class: 'num' }, a.attempt ? String(a.attempt) : ''),
              h('td', {}, a.startedAt ? clock(a.startedAt) : ''),
              h('td', {}, a.endedAt ? clock(a.endedAt) : ''),
              h('td', { class: 'status' }, a.status.replace('_', ' ')),
              h('td', { class: 'num' }, duration(a.durationMs)),
              h('td', { class: 'num' }, a.signal ?? (a.exitCode !== null ? String(a.exitCode) : '')),
              h('td', { class: 'why', title: a.why ?? '' }, a.why ?? ''),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'No attempt in the journal yet.');
  return h(
    'div',
    {},
    h('h2', {}, m.id),
    h('h3', {}, 'Attempts'),
    attempts,
    h('div', { class: 'split' }, pane('Result', m.result, 'No result file yet.', openFile), pane('Log', m.log, 'No output.log (the unit has not run here).', openFile)),
  );
}

function pane(title: string, f: ShownFile | null, none: string, openFile: (file: string) => void): HTMLElement {
  const head = h('div', { class: 'pane-head' }, h('h3', {}, title));
  if (f) {
    const open = h('button', { class: 'link', title: f.file }, 'Open in editor');
    open.addEventListener('click', () => openFile(f.file));
    head.append(open);
  }
  return h(
    'div',
    { class: 'pane' },
    head,
    f
      ? h('pre', { class: 'file', tabindex: '0' }, f.truncated ? `… (the last ${Math.round(f.text.length / 1024)} KB)\n${f.text}` : f.text || '(empty)')
      : h('p', { class: 'muted' }, none),
  );
}

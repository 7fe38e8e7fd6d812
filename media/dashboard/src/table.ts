// The results table: every unit, sortable and filterable, virtualised (fixed row height, only
// the rows in view are in the DOM), so 100k rows scroll as smoothly as 100.
import { R, type Row } from '../../../src/extension/dashboard/protocol';
import { duration, h } from './format';

export const ROW_HEIGHT = 22;
const OVERSCAN = 8;

interface Column {
  readonly key: keyof typeof R;
  readonly title: string;
  readonly width: string;
  readonly num?: boolean;
  readonly text: (r: Row) => string;
}

/** Numeric-aware (q-2 before q-10), and much faster than localeCompare on 100k rows. */
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

const STATUS_ORDER: Record<string, number> = { error: 0, failed: 1, rate_limited: 2, running: 3, pending: 4, passed: 5 };

export class ResultsTable {
  readonly el: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly body: HTMLElement;
  private readonly head: HTMLElement;
  private readonly countEl: HTMLElement;
  readonly input: HTMLInputElement;
  private rows: Row[] = [];
  /** Indexes into `rows` of the rows shown, in table order. */
  private order: number[] = [];
  private columns: Column[] = [];
  private sortKey: keyof typeof R | undefined;
  private sortDesc = false;
  private selected: string | undefined;
  private frame = 0;
  rendered = 0;

  /** `onChange`: the filter or the sort changed (kept across reloads of the page). */
  constructor(
    private readonly onOpen: (id: string) => void,
    private readonly onChange: () => void = () => undefined,
  ) {
    this.input = h('input', {
      type: 'search',
      class: 'filter',
      placeholder: 'Filter: text in id, group or why; status:error, status:failed …',
      'aria-label': 'Filter units',
    });
    this.input.addEventListener('input', () => {
      this.refilter();
      this.onChange();
    });
    this.countEl = h('span', { class: 'muted count' });
    this.head = h('div', { class: 'row head', role: 'row' });
    this.spacer = h('div', { class: 'spacer' });
    this.body = h('div', { class: 'rows', role: 'rowgroup' });
    this.viewport = h('div', { class: 'viewport', tabindex: '0', role: 'grid', 'aria-label': 'Units' }, this.spacer, this.body);
    this.viewport.addEventListener('scroll', () => this.paintSoon());
    this.viewport.addEventListener('keydown', (e) => this.key(e));
    this.el = h('div', { class: 'results' }, h('div', { class: 'toolbar' }, this.input, this.countEl), this.head, this.viewport);
  }

  /** The columns a run has: group and matrix only when they say something. */
  setColumns(groupBy: string, hasMatrix: boolean): void {
    const cols: Column[] = [{ key: 'id', title: 'Unit', width: 'minmax(140px, 2fr)', text: (r) => r[R.id] }];
    if (groupBy) cols.push({ key: 'group', title: groupBy, width: 'minmax(70px, 1fr)', text: (r) => r[R.group] });
    if (hasMatrix) cols.push({ key: 'matrix', title: 'Matrix', width: 'minmax(70px, 1fr)', text: (r) => r[R.matrix] });
    cols.push(
      { key: 'status', title: 'Status', width: '96px', text: (r) => r[R.status].replace('_', ' ') },
      { key: 'attempts', title: 'Attempts', width: '70px', num: true, text: (r) => (r[R.attempts] ? String(r[R.attempts]) : '') },
      { key: 'durationMs', title: 'Duration', width: '80px', num: true, text: (r) => duration(r[R.durationMs]) },
      { key: 'why', title: 'Why', width: 'minmax(120px, 3fr)', text: (r) => r[R.why] ?? '' },
    );
    if (this.columns.map((c) => c.key).join() === cols.map((c) => c.key).join()) return;
    this.columns = cols;
    this.head.replaceChildren(
      ...cols.map((c) => {
        const cell = h('button', { class: `cell${c.num ? ' num' : ''}`, role: 'columnheader', title: `Sort by ${c.title}` }, c.title);
        cell.addEventListener('click', () => this.sortBy(c.key));
        return cell;
      }),
    );
    this.head.style.gridTemplateColumns = this.template();
    this.markSort();
  }

  private template(): string {
    return this.columns.map((c) => c.width).join(' ');
  }

  setRows(rows: Row[]): void {
    this.rows = rows;
    this.refilter();
  }

  /** Replaces changed rows; the order is made again only when a shown row may have moved. */
  update(changed: readonly (readonly [number, Row])[]): void {
    if (changed.length === 0) return;
    for (const [i, row] of changed) this.rows[i] = row;
    this.refilter();
  }

  filterText(): string {
    return this.input.value;
  }

  setFilter(text: string): void {
    this.input.value = text;
    this.refilter();
  }

  get shown(): number {
    return this.order.length;
  }

  firstIds(n: number): string[] {
    return this.order.slice(0, n).map((i) => this.rows[i]![R.id]);
  }

  private refilter(): void {
    const { statuses, words } = parseFilter(this.input.value);
    const out: number[] = [];
    for (let i = 0; i < this.rows.length; i++) {
      const r = this.rows[i];
      if (!r) continue;
      if (statuses.length && !statuses.includes(r[R.status])) continue;
      if (words.length) {
        const hay = `${r[R.id]}\n${r[R.group]}\n${r[R.matrix]}\n${r[R.why] ?? ''}`.toLowerCase();
        if (!words.every((w) => hay.includes(w))) continue;
      }
      out.push(i);
    }
    if (this.sortKey) {
      const k = R[this.sortKey];
      const dir = this.sortDesc ? -1 : 1;
      const val = (r: Row): number | string =>
        k === R.status ? (STATUS_ORDER[r[k]] ?? 9) : typeof r[k] === 'number' ? r[k] : r[k] === null ? -Infinity : String(r[k]);
      out.sort((a, b) => {
        const va = val(this.rows[a]!);
        const vb = val(this.rows[b]!);
        const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
        return c * dir || a - b;
      });
    }
    this.order = out;
    this.countEl.textContent = out.length === this.rows.length ? `${this.rows.length} units` : `${out.length} of ${this.rows.length} units`;
    this.spacer.style.height = `${out.length * ROW_HEIGHT}px`;
    this.paint();
  }

  private sortBy(key: keyof typeof R): void {
    if (this.sortKey === key) this.sortDesc = !this.sortDesc;
    else {
      this.sortKey = key;
      this.sortDesc = key === 'durationMs' || key === 'attempts';
    }
    this.markSort();
    this.refilter();
    this.onChange();
  }

  get sort(): { key?: keyof typeof R; desc: boolean } {
    return { key: this.sortKey, desc: this.sortDesc };
  }

  /** Puts back what the page had before it was reloaded (before its rows arrive). */
  restore(filter: string, sort: { key?: keyof typeof R; desc: boolean }, selected: string | undefined): void {
    this.input.value = filter;
    this.sortKey = sort.key && sort.key in R ? sort.key : undefined;
    this.sortDesc = sort.desc;
    this.selected = selected;
    this.markSort();
  }

  private markSort(): void {
    this.columns.forEach((c, i) => {
      const cell = this.head.children[i] as HTMLElement | undefined;
      if (!cell) return;
      cell.textContent = c.title + (this.sortKey === c.key ? (this.sortDesc ? ' ▼' : ' ▲') : '');
      cell.setAttribute('aria-sort', this.sortKey === c.key ? (this.sortDesc ? 'descending' : 'ascending') : 'none');
    });
  }

  private paintSoon(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.paint();
    });
  }

  /** Renders only the rows in view, plus a few either side. */
  private paint(): void {
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || 400;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.order.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const template = this.template();
    const els: HTMLElement[] = [];
    for (let k = first; k < last; k++) {
      const r = this.rows[this.order[k]!]!;
      const id = r[R.id];
      const row = h(
        'div',
        { class: `row s-${r[R.status]}${id === this.selected ? ' selected' : ''}`, role: 'row', 'data-id': id },
        ...this.columns.map((c) => {
          const text = c.text(r);
          return h('div', { class: `cell${c.num ? ' num' : ''}${c.key === 'status' ? ' status' : ''}`, role: 'gridcell', title: text }, text);
        }),
      );
      row.style.gridTemplateColumns = template;
      row.addEventListener('click', () => this.open(id));
      els.push(row);
    }
    this.body.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    this.body.replaceChildren(...els);
    this.rendered = els.length;
  }

  private open(id: string): void {
    this.selected = id;
    this.paint();
    this.onOpen(id);
  }

  /** Up and down move the selection (and open it), as in a list. */
  private key(e: KeyboardEvent): void {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const at = this.order.findIndex((i) => this.rows[i]![R.id] === this.selected);
    const next = Math.min(this.order.length - 1, Math.max(0, at + (e.key === 'ArrowDown' ? 1 : -1)));
    const idx = this.order[next];
    if (idx === undefined) return;
    const y = next * ROW_HEIGHT;
    if (y < this.viewport.scrollTop) this.viewport.scrollTop = y;
    else if (y + ROW_HEIGHT > this.viewport.scrollTop + this.viewport.clientHeight)
      this.viewport.scrollTop = y + ROW_HEIGHT - this.viewport.clientHeight;
    this.open(this.rows[idx]![R.id]);
  }
}

/** `status:error` (or `is:error`) tokens pick statuses; every other word must appear in the row. */
export function parseFilter(text: string): { statuses: string[]; words: string[] } {
  const statuses: string[] = [];
  const words: string[] = [];
  for (const t of text.toLowerCase().split(/\s+/).filter(Boolean)) {
    const m = /^(?:status|is):(.+)$/.exec(t);
    if (m) statuses.push(...m[1]!.split(',').map((x) => (x === 'errors' ? 'error' : x.replace(/ /g, '_'))));
    else words.push(t);
  }
  return { statuses, words };
}

import { UserError, jsonPath, type UserErrorLocation } from '../errors';
import { closest } from '../didYouMean';
import type { Item } from './items';

/**
 * `${name}` placeholders in the command, env and cwd. Parsed once into parts so that
 * rendering a million units is a join, not a regex per unit.
 */
export type TemplatePart = string | { readonly ref: string; readonly pad?: number };
export type Template = readonly TemplatePart[];

const PLACEHOLDER = /\$\{([^}]*)\}/g;
export const BUILTIN_PLACEHOLDERS = ['unitId', 'unitDir', 'seed', 'repeat', 'attempt', 'runDir', 'experimentDir', 'resultFile'] as const;
/** What a result path may use: it must name the same file for every attempt, wherever the run folder is. */
export const RESULT_PATH_BUILTINS = ['unitId', 'repeat', 'seed'] as const;
/** Builtins that are numbers, so `${repeat:02}` can pad them. */
const NUMERIC_BUILTINS = new Set(['seed', 'repeat', 'attempt']);
/** `${name:02}`: zero-padded to a width (1 to 3 digits after the 0). */
const FORMAT = /^(.*?):0(\d{1,3})$/;

export function parseTemplate(s: string): Template {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of s.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    const body = m[1]!.trim();
    const f = FORMAT.exec(body);
    parts.push(f ? { ref: f[1]!.trim(), pad: Number(f[2]) } : { ref: body });
    last = m.index + m[0].length;
  }
  if (last < s.length) parts.push(s.slice(last));
  return parts;
}

export function render(t: Template, lookup: (ref: string) => string): string {
  let out = '';
  for (const p of t) out += typeof p === 'string' ? p : p.pad === undefined ? lookup(p.ref) : padded(lookup(p.ref), p.pad);
  return out;
}

/** Zero padding of a whole number ("-3" pads after its sign); anything else is left as it is (checked at load). */
export function padded(v: string, width: number): string {
  const m = /^(-?)(\d+)$/.exec(v);
  return m ? m[1]! + m[2]!.padStart(width, '0') : v;
}

export function isWholeNumber(v: unknown): boolean {
  return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?\d+$/.test(v));
}

/** Item field paths referenced anywhere (`${item.a.b}` → "a.b"). */
export function itemRefs(templates: Iterable<Template>): Set<string> {
  const refs = new Set<string>();
  for (const t of templates) for (const p of t) if (typeof p !== 'string' && p.ref.startsWith('item.')) refs.add(p.ref.slice(5));
  return refs;
}

/**
 * Throws on a placeholder that no unit could fill; `where` names the template's place.
 * `builtins` narrows the builtins allowed there (a result path may not use `${attempt}`).
 */
export function checkRefs(
  t: Template,
  matrix: Readonly<Record<string, unknown>>,
  where: UserErrorLocation,
  builtins: readonly string[] = BUILTIN_PLACEHOLDERS,
): void {
  const matrixKeys = Object.keys(matrix).filter((k) => k !== 'repeat');
  for (const p of t) {
    if (typeof p === 'string') continue;
    const isItem = /^item\.[^.\s]+(\.[^.\s]+)*$/.test(p.ref);
    const ok = builtins.includes(p.ref) || matrixKeys.includes(p.ref) || isItem;
    if (!ok) {
      const known = [...builtins, ...matrixKeys, 'item.<field>'].map((k) => '${' + k + '}').join(', ');
      const near = nearestRef(p.ref, [...builtins, ...matrixKeys]);
      const why = (BUILTIN_PLACEHOLDERS as readonly string[]).includes(p.ref)
        ? `\${${p.ref}} cannot be used here`
        : `Unknown placeholder \${${p.ref}}${near ? ` (did you mean \${${near}}?)` : ''}`;
      throw new UserError(`${why}; expected one of ${known}`, where);
    }
    if (p.pad === undefined || isItem) continue;
    const numeric = NUMERIC_BUILTINS.has(p.ref) || (matrixKeys.includes(p.ref) && (matrix[p.ref] as unknown[]).every(isWholeNumber));
    if (!numeric)
      throw new UserError(`Expected a whole number to zero-pad in \${${p.ref}:0${p.pad}}, but ${p.ref} is not always one`, where);
  }
}

/** The placeholder a mistyped one most likely meant: `${itme.id}` is `${item.id}`, `${mdoel}` is `${model}`. */
function nearestRef(ref: string, names: readonly string[]): string | undefined {
  const dot = ref.indexOf('.');
  if (dot > 0 && closest(ref.slice(0, dot), ['item']) && ref.slice(dot + 1).trim() !== '') return `item${ref.slice(dot)}`;
  return closest(ref, names);
}

/** Item fields that are zero-padded somewhere (`${item.run:03}`): each item must hold a whole number there. */
export function paddedItemRefs(templates: Iterable<Template>): Set<string> {
  const refs = new Set<string>();
  for (const t of templates)
    for (const p of t) if (typeof p !== 'string' && p.pad !== undefined && p.ref.startsWith('item.')) refs.add(p.ref.slice(5));
  return refs;
}

export function itemField(item: Item, dotted: string): unknown {
  let v: unknown = item.fields;
  for (const key of dotted.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * Every item must have every referenced field, or the run would fail unit by unit. `usedAt`
 * names, per field, the JSON path of a template that needs it.
 */
export function checkItemFields(
  items: readonly Item[],
  refs: Set<string>,
  padded: Set<string> = new Set(),
  usedAt: ReadonlyMap<string, string> = new Map(),
): void {
  for (const ref of refs) {
    for (const item of items) {
      const v = itemField(item, ref);
      if (v === undefined || v === null) {
        const user = usedAt.get(ref);
        throw new UserError(
          `Item ${JSON.stringify(item.id)} has no field "${ref}", which \${item.${ref}}${user ? ` in ${user}` : ''} needs; ${fieldsNear(item, ref)}`,
          item.where,
        );
      }
      if (padded.has(ref) && !isWholeNumber(v))
        throw new UserError(
          `Item ${JSON.stringify(item.id)} has ${JSON.stringify(v)} in "${ref}"; expected a whole number to zero-pad`,
          item.where,
        );
    }
  }
}

/** The fields beside a missing one (at its deepest existing parent), and the one that was likely meant. */
function fieldsNear(item: Item, ref: string): string {
  const segs = ref.split('.');
  let parent: unknown = item.fields;
  let prefix = '';
  for (const seg of segs.slice(0, -1)) {
    const next: unknown = typeof parent === 'object' && parent !== null ? (parent as Record<string, unknown>)[seg] : undefined;
    if (typeof next !== 'object' || next === null) break;
    parent = next;
    prefix += seg + '.';
  }
  const keys = typeof parent === 'object' && parent !== null && !Array.isArray(parent) ? Object.keys(parent) : [];
  if (keys.length === 0) return prefix ? `"${prefix.slice(0, -1)}" has no fields` : 'it has no fields';
  const missing = segs[prefix.split('.').length - 1]!;
  const near = closest(missing, keys);
  const shown = keys.slice(0, 20).map((k) => `"${prefix}${k}"`);
  const list = `${prefix ? `"${prefix.slice(0, -1)}" has` : 'its fields are'} ${shown.join(', ')}${keys.length > 20 ? `, … (${keys.length})` : ''}`;
  return near ? `did you mean \${item.${prefix}${near}}? (${list})` : `${list}`;
}

export function stringify(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export { jsonPath };

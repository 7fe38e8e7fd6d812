import { UserError, jsonPath, type UserErrorLocation } from '../errors';
import type { Item } from './items';

/**
 * `${name}` placeholders in the command, env and cwd. Parsed once into parts so that
 * rendering a million units is a join, not a regex per unit.
 */
export type TemplatePart = string | { readonly ref: string };
export type Template = readonly TemplatePart[];

const PLACEHOLDER = /\$\{([^}]*)\}/g;
export const BUILTIN_PLACEHOLDERS = ['unitId', 'unitDir', 'seed', 'repeat', 'attempt', 'runDir', 'experimentDir'] as const;

export function parseTemplate(s: string): Template {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of s.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    parts.push({ ref: m[1]!.trim() });
    last = m.index + m[0].length;
  }
  if (last < s.length) parts.push(s.slice(last));
  return parts;
}

export function render(t: Template, lookup: (ref: string) => string): string {
  let out = '';
  for (const p of t) out += typeof p === 'string' ? p : lookup(p.ref);
  return out;
}

/** Item field paths referenced anywhere (`${item.a.b}` → "a.b"). */
export function itemRefs(templates: Iterable<Template>): Set<string> {
  const refs = new Set<string>();
  for (const t of templates) for (const p of t) if (typeof p !== 'string' && p.ref.startsWith('item.')) refs.add(p.ref.slice(5));
  return refs;
}

/** Throws on a placeholder that no unit could fill; `where` names the template's place. */
export function checkRefs(t: Template, matrixKeys: readonly string[], where: UserErrorLocation): void {
  for (const p of t) {
    if (typeof p === 'string') continue;
    const ok =
      (BUILTIN_PLACEHOLDERS as readonly string[]).includes(p.ref) ||
      matrixKeys.includes(p.ref) ||
      /^item\.[^.\s]+(\.[^.\s]+)*$/.test(p.ref);
    if (!ok) {
      const known = [...BUILTIN_PLACEHOLDERS, ...matrixKeys.filter((k) => k !== 'repeat'), 'item.<field>']
        .map((k) => '${' + k + '}')
        .join(', ');
      throw new UserError(`Unknown placeholder \${${p.ref}}; expected one of ${known}`, where);
    }
  }
}

export function itemField(item: Item, dotted: string): unknown {
  let v: unknown = item.fields;
  for (const key of dotted.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Every item must have every referenced field, or the run would fail unit by unit. */
export function checkItemFields(items: readonly Item[], refs: Set<string>): void {
  for (const ref of refs) {
    for (const item of items) {
      const v = itemField(item, ref);
      if (v === undefined || v === null) {
        throw new UserError(`Item ${JSON.stringify(item.id)} has no field "${ref}", which \${item.${ref}} needs`, item.where);
      }
    }
  }
}

export function stringify(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export { jsonPath };

import type { z } from 'zod';
import { closest } from '../didYouMean';
import { UserError, jsonPath, type UserErrorLocation } from '../errors';
import { experimentSchema } from './schema';

type Segment = string | number;
type LineOf = (p: readonly Segment[]) => number | undefined;

/**
 * zod's issues as the user's mistakes: each with its file, line and JSON path, and for the
 * common ones what to write instead (the key that was meant, the required key's meaning, an
 * argv array for a command line given as one string).
 */
export function schemaError(error: z.ZodError, file: string, lineOf: LineOf, doc: unknown): UserError {
  const issues = error.issues.flatMap((issue) => {
    const p = issue.path.filter((s): s is Segment => typeof s !== 'symbol');
    const where = (q: Segment[]): UserErrorLocation => ({ file, line: lineOf(q), path: jsonPath(q) });
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ where: where([...p, k]), message: unknownKey(k, p) }));
    return [{ where: where(p), message: explain(issue, p, doc) }];
  });
  // In the order of the file, so the first message is the first mistake a reader meets.
  issues.sort((a, b) => (a.where.line ?? Infinity) - (b.where.line ?? Infinity));
  const [first, ...rest] = issues;
  return new UserError(
    first!.message,
    first!.where,
    rest.map((r) => `${r.where.file}:${r.where.line ?? '?'} ${r.where.path}: ${r.message}`),
  );
}

function unknownKey(key: string, at: readonly Segment[]): string {
  const known = keysAt(at);
  const near = closest(key, known);
  if (near) return `Unknown key "${key}"; did you mean "${near}"?`;
  return `Unknown key "${key}"; expected one of ${known.map((k) => `"${k}"`).join(', ')} (see schema/experiment.schema.json)`;
}

function explain(issue: z.core.$ZodIssue, p: readonly Segment[], doc: unknown): string {
  const message = issue.message.replace(/^Invalid input: expected/, 'Expected');
  if (issue.code !== 'invalid_type') return message;
  const value = valueAt(doc, p);
  const key = p[p.length - 1];
  if (value === undefined && typeof key === 'string') {
    const about = descriptionAt(p)?.replace(/^Required\.\s*/, '');
    return `Missing required key "${key}"${about ? `. ${about}` : ''}`;
  }
  if (issue.expected === 'array' && typeof value === 'string' && ['command', 'worker', 'preflight'].includes(String(key)))
    return argvHint(value);
  return message;
}

/** A command line given as one string: the argv array it most likely means, and the shell form. */
function argvHint(line: string): string {
  const shell = argv(['sh', '-c', line]);
  const words = line.trim().split(/\s+/).filter(Boolean);
  // Quotes, pipes, redirections, variables or globs need a shell to mean what they say.
  if (/[|&;<>()$`"'\\*?~]/.test(line) || words.length === 0)
    return `Expected an argv array (no shell is used), got a string: for a shell line write ${shell}`;
  return `Expected an argv array (no shell is used), got a string: write ${argv(words)}, or ${shell} for a shell line`;
}

/** An argv array as the user would write it in the file. */
function argv(words: readonly string[]): string {
  return `[${words.map((w) => JSON.stringify(w)).join(', ')}]`;
}

function valueAt(doc: unknown, p: readonly Segment[]): unknown {
  let v = doc;
  for (const s of p) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<Segment, unknown>)[s];
  }
  return v;
}

interface Def {
  readonly type: string;
  readonly shape?: Record<string, z.ZodType>;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly options?: readonly z.ZodType[];
  readonly element?: z.ZodType;
  readonly items?: readonly z.ZodType[];
  readonly catchall?: z.ZodType;
  readonly valueType?: z.ZodType;
}

const defOf = (s: z.ZodType) => s._zod.def as unknown as Def;

/** The schemas a value at `p` may be checked against (several under a union). */
function schemasAt(p: readonly Segment[]): z.ZodType[] {
  let at: z.ZodType[] = [experimentSchema];
  for (const seg of p) {
    at = at.flatMap(unwrapAll).flatMap((s) => {
      const d = defOf(s);
      if (d.type === 'object') {
        // Own keys only: a matrix key named "constructor" is not Object's.
        const child =
          typeof seg === 'string' ? ((d.shape && Object.hasOwn(d.shape, seg) ? d.shape[seg] : undefined) ?? d.catchall) : undefined;
        return child ? [child] : [];
      }
      if (d.type === 'array' && typeof seg === 'number') return [d.element!];
      if (d.type === 'tuple' && typeof seg === 'number' && d.items?.[seg]) return [d.items[seg]];
      if (d.type === 'record') return [d.valueType!];
      return [];
    });
  }
  return at;
}

/** Through optional, default and other wrappers to the schemas that hold the shape; a union gives each of its options. */
function unwrapAll(s: z.ZodType): z.ZodType[] {
  const d = defOf(s);
  if (d.type === 'union') return d.options!.flatMap(unwrapAll);
  const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
  return inner ? unwrapAll(inner) : [s];
}

function keysAt(p: readonly Segment[]): string[] {
  const keys = schemasAt(p)
    .flatMap(unwrapAll)
    .flatMap((s) => Object.keys(defOf(s).shape ?? {}));
  return [...new Set(keys)];
}

function descriptionAt(p: readonly Segment[]): string | undefined {
  for (let s of schemasAt(p)) {
    for (;;) {
      if (s.description) return s.description;
      const d = defOf(s);
      const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
      if (!inner) break;
      s = inner;
    }
  }
  return undefined;
}

import * as path from 'node:path';
import { findNodeAtLocation, parse, parseTree, type Node, type ParseError } from 'jsonc-parser';

/**
 * Where in an experiment file one of the loader's errors belongs: pure (no vscode), so the
 * Problems view's ranges are tested without an editor. Offsets are into the document's text.
 */
export interface ErrorPlace {
  readonly start: number;
  readonly end: number;
  /** The error is about another file (a dataset row): its absolute path and 1-based line. */
  readonly other?: { readonly file: string; readonly line?: number };
}

export interface LoaderErrorLike {
  readonly detail?: string;
  readonly message: string;
  readonly where?: { readonly file?: string; readonly line?: number; readonly path?: string };
}

/** True when the text does not parse as JSONC: the JSON language service reports that one itself. */
export function hasSyntaxErrors(text: string): boolean {
  const errors: ParseError[] = [];
  parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  return errors.length > 0;
}

/** `$.run.command[3]`, `$["a key"].x` → ['run', 'command', 3], ['a key', 'x'] (the inverse of the core's jsonPath). */
export function parseJsonPath(p: string): (string | number)[] | undefined {
  if (!p.startsWith('$')) return undefined;
  const out: (string | number)[] = [];
  let i = 1;
  while (i < p.length) {
    if (p[i] === '.') {
      const m = /^[A-Za-z_$][\w$]*/.exec(p.slice(i + 1));
      if (!m) return undefined;
      out.push(m[0]);
      i += 1 + m[0].length;
    } else if (p[i] === '[') {
      const num = /^\[(\d+)\]/.exec(p.slice(i));
      if (num) {
        out.push(Number(num[1]));
        i += num[0].length;
        continue;
      }
      const str = /^\[("(?:[^"\\]|\\.)*")\]/.exec(p.slice(i));
      if (!str) return undefined;
      out.push(JSON.parse(str[1]!) as string);
      i += str[0].length;
    } else return undefined;
  }
  return out;
}

/**
 * The range of the error in the experiment's text: the JSON path's node when it has one
 * (narrowed to the `${…}` the message names inside a string, or to the key of a property
 * whose value spans lines), else its line, else the top of the file. An error in another
 * file (a dataset line) is shown on the experiment's `items` entry, with that file's place.
 */
export function placeOf(text: string, absFile: string, e: LoaderErrorLike, cwd: string): ErrorPlace {
  const where = e.where ?? {};
  const inThisFile = where.file === undefined || path.resolve(cwd, where.file) === absFile;
  const root = parseTree(text, [], { allowTrailingComma: true });
  if (!inThisFile) {
    const other = { file: path.resolve(cwd, where.file), line: where.line };
    const node = root && deepest(root, ['items', 'file']);
    return { ...(node ? nodeRange(text, node.node, node.complete) : lineRange(text, 1)), other };
  }
  const segments = where.path ? parseJsonPath(where.path) : undefined;
  if (root && segments) {
    const found = deepest(root, segments);
    if (found) {
      const message = e.detail ?? e.message;
      const ref = found.complete && found.node.type === 'string' ? placeholderIn(text, found.node, message) : undefined;
      // An unknown key is said on the key itself, not on its value.
      const onKey = found.complete && /^Unknown key/.test(message);
      return ref ?? nodeRange(text, found.node, found.complete && !onKey);
    }
  }
  if (where.line) return lineRange(text, where.line);
  return lineRange(text, 1);
}

/** The node at the path, or at its longest prefix that exists (a missing key: its parent). */
function deepest(root: Node, segments: readonly (string | number)[]): { node: Node; complete: boolean } | undefined {
  for (let n = segments.length; n >= 0; n--) {
    const node = n === 0 ? root : findNodeAtLocation(root, segments.slice(0, n));
    if (node) return { node, complete: n === segments.length };
  }
  return undefined;
}

function nodeRange(text: string, node: Node, complete: boolean): { start: number; end: number } {
  const prop = node.parent?.type === 'property' ? node.parent : undefined;
  const key = prop?.children?.[0];
  const multiline = text.slice(node.offset, node.offset + node.length).includes('\n');
  // A missing key is said on its parent's key; a value over many lines on its own key.
  if (key && (!complete || multiline)) return { start: key.offset, end: key.offset + key.length };
  if (multiline) return { start: node.offset, end: lineEnd(text, node.offset) };
  return { start: node.offset, end: node.offset + node.length };
}

/** The first `${ref}` (or `${ref:0N}`) the message names, found inside the string node's source. */
function placeholderIn(text: string, node: Node, message: string): { start: number; end: number } | undefined {
  const m = /\$\{([^}:]+)/.exec(message);
  if (!m) return undefined;
  const source = text.slice(node.offset, node.offset + node.length);
  const at = source.indexOf('${' + m[1]);
  if (at < 0) return undefined;
  const close = source.indexOf('}', at);
  if (close < 0) return undefined;
  return { start: node.offset + at, end: node.offset + close + 1 };
}

function lineRange(text: string, line: number): { start: number; end: number } {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    start = nl + 1;
  }
  while (start < text.length && (text[start] === ' ' || text[start] === '\t')) start++;
  return { start, end: Math.max(start, lineEnd(text, start)) };
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  const end = nl < 0 ? text.length : nl;
  return text[end - 1] === '\r' ? end - 1 : end;
}

/**
 * The loader names files relative to the process's working folder, which in an editor is
 * nowhere the user knows; said relative to the experiment's folder instead.
 */
export function relativeToExperiment(message: string, cwd: string, experimentDir: string): string {
  const prefix = path.relative(cwd, experimentDir);
  if (!prefix) return message;
  return message.split(prefix + path.sep).join('');
}

/** The line of the top-level `"name"` key (0-based), where the CodeLens sits; 0 without one. */
export function nameLine(text: string): number {
  const root = parseTree(text, [], { allowTrailingComma: true });
  const node = root && findNodeAtLocation(root, ['name']);
  const at = node?.parent?.offset ?? 0;
  let line = 0;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** The suggestion of a "did you mean" message, when it can stand in for `marked` (a `${…}`, or a quoted key). */
export function suggestionIn(message: string, marked: string): string | undefined {
  const m = /did you mean (\$\{[^}]+\}|"[^"]+")\?/.exec(message);
  const s = m?.[1];
  if (!s) return undefined;
  if (s.startsWith('${') && /^\$\{[^}]+\}$/.test(marked)) return s;
  if (s.startsWith('"') && /^"[^"]*"$/.test(marked)) return s;
  return undefined;
}

import { findNodeAtLocation, parse, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { UserError, jsonPath } from '../errors';

/** A parsed JSONC document that can say on which line a JSON path sits. */
export interface JsoncDocument {
  readonly value: unknown;
  /** A function property (not a method): callers pass it on by itself. */
  readonly lineOf: (path: readonly (string | number)[]) => number | undefined;
}

export function parseJsonc(text: string, file: string): JsoncDocument {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const first = errors[0];
  if (first) {
    throw new UserError(`Expected valid JSON with comments, found ${describeParseError(first.error)}`, {
      file,
      line: lineAt(text, first.offset),
    });
  }
  const root = parseTree(text, [], { allowTrailingComma: true });
  return {
    value,
    lineOf: (path) => {
      if (!root) return undefined;
      // Walk up until a node exists: an issue about a missing key points at its parent.
      for (let n = path.length; n >= 0; n--) {
        const node: Node | undefined = findNodeAtLocation(root, path.slice(0, n));
        if (node) return lineAt(text, node.parent?.type === 'property' ? node.parent.offset : node.offset);
      }
      return undefined;
    },
  };
}

function describeParseError(code: number): string {
  // printParseErrorCode gives e.g. "PropertyNameExpected"; make it read as words.
  return printParseErrorCode(code)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export { jsonPath };

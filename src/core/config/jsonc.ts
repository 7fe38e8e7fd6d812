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
    const line = lineAt(text, first.offset);
    const column = first.offset - text.lastIndexOf('\n', first.offset - 1);
    const near = JSON.stringify(text.slice(first.offset, first.offset + 12).split('\n')[0]);
    throw new UserError(
      `Expected valid JSON (comments and trailing commas are fine): ${describeParseError(first.error)} at column ${column}${
        first.offset >= text.length ? ' (the end of the file)' : `, before ${near}`
      }`,
      { file, line },
    );
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

/** jsonc-parser's codes ("CloseBraceExpected") as a person says them. */
const PARSE_ERRORS: Readonly<Record<string, string>> = {
  InvalidSymbol: 'a character that is not JSON',
  InvalidNumberFormat: 'a number that is not JSON',
  PropertyNameExpected: 'a key in double quotes expected',
  ValueExpected: 'a value expected',
  ColonExpected: 'a ":" expected after the key',
  CommaExpected: 'a "," expected between entries',
  CloseBraceExpected: 'a "}" expected to close the object',
  CloseBracketExpected: 'a "]" expected to close the list',
  EndOfFileExpected: 'nothing more expected after the value',
  InvalidCommentToken: 'a comment that is not closed',
  UnexpectedEndOfComment: 'a comment that is not closed',
  UnexpectedEndOfString: 'a string that is not closed',
  UnexpectedEndOfNumber: 'a number cut short',
  InvalidUnicode: 'an invalid \\u escape',
  InvalidEscapeCharacter: 'an invalid escape in a string',
  InvalidCharacter: 'a control character in a string',
};

function describeParseError(code: number): string {
  const name = printParseErrorCode(code);
  return PARSE_ERRORS[name] ?? name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
}

export function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

export { jsonPath };

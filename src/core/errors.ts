/**
 * A mistake in the user's input (experiment file, dataset, flags). The CLI prints it
 * without a stack trace and exits 1; anything else that escapes is a bug and keeps its stack.
 */
export interface UserErrorLocation {
  /** File the mistake is in, as the user would name it (relative when possible). */
  readonly file?: string;
  /** 1-based line in that file. */
  readonly line?: number;
  /** JSON path inside the value, e.g. `$.run.command[3]`. */
  readonly path?: string;
}

export class UserError extends Error {
  override readonly name = 'UserError';
  constructor(
    readonly detail: string,
    readonly where: UserErrorLocation = {},
    /** Extra lines shown under the message (a diff, the ways forward). */
    readonly hints: readonly string[] = [],
  ) {
    super(formatLocation(where) + detail);
  }
}

export function formatLocation(where: UserErrorLocation): string {
  let out = '';
  if (where.file) out += where.file + (where.line ? `:${where.line}` : '');
  if (where.path) out += (out ? ' ' : '') + where.path;
  return out ? out + ': ' : '';
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

/** Renders a JSON path from segments: ['run','command',3] → `$.run.command[3]`. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}

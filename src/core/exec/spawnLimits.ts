import { formatBytes, formatLimit } from '../store/safeRead';

/**
 * Linux refuses to exec a process with one argument or environment string over
 * MAX_ARG_STRLEN (32 pages: 128 KiB, its terminating NUL included): spawn throws E2BIG.
 */
export const MAX_ARG_STRLEN = 128 * 1024;

/** Spawn errors that mean the runner is out of resources, not that the unit is wrong. */
export const RUNNER_FAULT_CODES: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'ENOMEM']);

const HINT = 'pass big fields through RESUMABLE_ITEM_FILE';

/**
 * Why this command cannot be started, found before trying: a string over the kernel's limit,
 * or a NUL byte (which no C string can hold; Node throws). Undefined when it may start.
 * Said per argument or variable, so the user knows which placeholder to change.
 */
export function commandProblem(argv: readonly string[], env: NodeJS.ProcessEnv): { why: string; code: string } | undefined {
  for (let i = 0; i < argv.length; i++) {
    const p = stringProblem(argv[i]!, `argument ${i} of the command`, 'argument');
    if (p) return p;
  }
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    const p = stringProblem(`${k}=${v}`, `environment variable ${k.replace(/\0/g, '\\0')}`, 'variable');
    if (p) return p;
  }
  return undefined;
}

function stringProblem(s: string, name: string, one: string): { why: string; code: string } | undefined {
  const nul = s.indexOf('\0');
  if (nul >= 0) return { why: `${name} contains a NUL byte (at character ${nul}), which no process can be given`, code: 'ENUL' };
  // Most strings are short: only long ones are measured in bytes.
  if (s.length * 3 < MAX_ARG_STRLEN) return undefined;
  const bytes = Buffer.byteLength(s, 'utf8');
  if (bytes + 1 <= MAX_ARG_STRLEN) return undefined;
  return {
    why: `${name} is ${formatBytes(bytes)}; one ${one} may be at most ${formatLimit(MAX_ARG_STRLEN)} (E2BIG): ${HINT}`,
    code: 'E2BIG',
  };
}

/** A spawn error as the user needs it: what ran out, and what to do about it. */
export function describeSpawnError(e: NodeJS.ErrnoException, argv: readonly string[], env: NodeJS.ProcessEnv): string {
  switch (e.code) {
    case 'E2BIG': {
      let total = 0;
      for (const a of argv) total += Buffer.byteLength(a, 'utf8') + 1;
      for (const [k, v] of Object.entries(env))
        if (v !== undefined) total += Buffer.byteLength(k, 'utf8') + Buffer.byteLength(v, 'utf8') + 2;
      return `the command's arguments and environment are ${formatBytes(total)} together, more than the system allows (E2BIG; see \`getconf ARG_MAX\`): ${HINT}`;
    }
    case 'EMFILE':
      return `${e.message}: the runner has too many open files (raise \`ulimit -n\` or lower the concurrency)`;
    case 'ENFILE':
      return `${e.message}: the system's table of open files is full`;
    case 'EAGAIN':
      return `${e.message}: the runner may start no more processes now (see \`ulimit -u\`)`;
    case 'ENOMEM':
      return `${e.message}: out of memory`;
    default:
      return e.message;
  }
}

import * as fs from 'node:fs';

/**
 * Polls `fn` until it returns something truthy; fails naming `what` after `ms`. The way to
 * wait for an event a test cannot subscribe to (a journal line, a file), never a fixed sleep.
 * `gaveUp` ends the wait early with its message (e.g. the process under test exited).
 */
export async function waitUntil<T>(
  what: string,
  fn: () => T | undefined | null | false,
  ms = 60_000,
  gaveUp?: () => string | undefined,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    let v: T | undefined | null | false;
    try {
      v = fn();
    } catch {
      v = undefined; // not there yet (a file being created)
    }
    if (v) return v;
    const why = gaveUp?.();
    if (why) throw new Error(`gave up waiting for ${what}: ${why}`);
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lines of a journal that parse so far (a line being written is skipped). */
export function journalSoFar(file: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Record<string, unknown>[] = [];
  for (const l of text.split('\n')) {
    try {
      if (l) out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // torn: still being written
    }
  }
  return out;
}

/**
 * Why a run folder cannot be read, for its tree row and the log. The engine's UserError has
 * `detail` (the message without the file prefix); it is told by shape, not instanceof, since
 * the engine is a separately loaded bundle. Pure.
 */
export interface Unreadable {
  readonly runDir: string;
  /** Short, for the row: "written by a newer Resumable (schemaVersion 99)". */
  readonly reason: string;
  /** The whole message, for the tooltip and the log. */
  readonly detail: string;
}

export function unreadable(runDir: string, error: unknown): Unreadable {
  const e = error as { message?: unknown; detail?: unknown } | null;
  const detail = typeof e?.message === 'string' ? e.message : String(error);
  const core = typeof e?.detail === 'string' ? e.detail : detail;
  return { runDir, reason: shortReason(core), detail };
}

function shortReason(text: string): string {
  const first = (/^(.*?)(?:\.\s|$)/s.exec(text)?.[1] ?? text).trim();
  // "(schemaVersion 99; this one reads up to 1)" → "(schemaVersion 99)": the row names the cause, the tooltip the rest.
  const short = first.replace(/\s*;\s*this one reads up to \d+/, '').replace(/\.$/, '');
  // "Written by…" reads as a clause after "cannot read:"; "EACCES…" stays as it is.
  const lowered = /^[A-Z][a-z]/.test(short) ? short.charAt(0).toLowerCase() + short.slice(1) : short;
  return lowered.length > 140 ? `${lowered.slice(0, 137)}...` : lowered;
}

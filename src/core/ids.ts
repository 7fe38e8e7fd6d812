import { createHash } from 'node:crypto';

/**
 * Why ids are checked even though folder names are encoded: a readable id is part of the
 * user's data (it appears in status, logs and merges), so an id that could only come from a
 * mistake or an attack is refused at load time instead of silently mangled.
 */
/** Ids most datasets use ("q-001", "a/b_2"): nothing below can be wrong with them but "." and ".." segments. */
const PLAIN = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;

export function idProblem(id: string): string | undefined {
  // A segment that starts with no dot is never "." or "..": the common case costs one regex.
  if (id.length <= 1024 && PLAIN.test(id)) return undefined;
  if (id.length === 0) return 'is empty';
  if (id.length > 1024) return `is ${id.length} characters long (at most 1024)`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) return 'contains a control character (NUL, newline, ...)';
  if (id.startsWith('/') || /^[A-Za-z]:[\\/]/.test(id)) return 'is an absolute path';
  if (id.includes('\\')) return 'contains a backslash';
  for (const seg of id.split('/')) {
    if (seg === '..' || seg === '.') return `has a "${seg}" path segment`;
    if (seg === '') return 'has an empty path segment ("//" or a trailing "/")';
  }
  return undefined;
}

/**
 * Folder name for a unit: a readable, lower-case ASCII slug plus a hash of the exact id.
 * The slug keeps `ls` useful; the hash makes names distinct on case-insensitive and
 * normalizing filesystems (macOS), where `A`/`a` or NFC/NFD forms would otherwise collide.
 * Nothing in the result can be `.`/`..`, contain a separator, or exceed NAME_MAX.
 */
export function unitFolderName(id: string): string {
  const slug = id
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .toLowerCase()
    .replace(/^[._]+/, '')
    .slice(0, 80)
    .replace(/[._]+$/, '');
  const digest = createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 16);
  return `${slug || 'unit'}~${digest}`;
}

/** A per-unit seed: depends only on the experiment seed and the unit id, never on order. */
export function unitSeed(seed: number, unitId: string): number {
  return createHash('sha256').update(`${seed}\u0000${unitId}`, 'utf8').digest().readUInt32BE(0) & 0x7fffffff;
}

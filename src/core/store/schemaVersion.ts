import { UserError } from '../errors';

export const STORE_SCHEMA_VERSION = 1;

/** A file written by a newer Resumable: not damage, so nothing may repair or overwrite it. */
export class NewerSchemaError extends UserError {}

/**
 * Every stored file carries a schemaVersion. A newer one is refused (this build cannot know
 * what it means); an older one goes through `migrations` (none yet: version 1 is the first).
 */
export function checkSchemaVersion(found: unknown, file: string): void {
  if (found === STORE_SCHEMA_VERSION) return;
  if (typeof found !== 'number' || !Number.isInteger(found) || found < 1) {
    throw new UserError(`Expected a schemaVersion (an integer ≥ 1), got ${JSON.stringify(found)}`, { file, path: '$.schemaVersion' });
  }
  if (found > STORE_SCHEMA_VERSION) {
    throw new NewerSchemaError(
      `Written by a newer Resumable (schemaVersion ${found}; this one reads up to ${STORE_SCHEMA_VERSION}). Upgrade resumable to use this run; nothing was changed.`,
      { file, path: '$.schemaVersion' },
    );
  }
}

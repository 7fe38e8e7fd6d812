import * as path from 'node:path';
import type { Clock } from '../clock';
import type { LoadedExperiment } from '../config/load';
import { parseTemplate, render } from '../config/placeholders';
import { UserError } from '../errors';
import { rateLimitIn } from '../exec/outcome';
import { spawnUnit } from '../exec/spawnUnit';
import type { RunPaths } from '../store/paths';

const PREFLIGHT_TIMEOUT_MS = 120_000;

/**
 * Asks the API whether it is rate limited before units are spent. Resolves to the
 * rate-limit answer, or undefined when the way is clear; a preflight that fails otherwise
 * is a user error (a broken check would hide real limits).
 */
export async function runPreflight(
  exp: LoadedExperiment,
  paths: RunPaths,
  clock: Clock,
): Promise<{ resetAt?: number; why: string; quota?: string } | undefined> {
  const argv = exp.config.rateLimit.preflight!.map((s) => render(parseTemplate(s), (ref) => (ref === 'runDir' ? paths.root : exp.dir)));
  const r = await spawnUnit({
    argv,
    cwd: exp.dir,
    env: process.env,
    logFile: path.join(paths.root, 'preflight.log'),
    header: `\n===== resumable preflight at ${new Date(clock.now()).toISOString()} =====\n`,
    timeoutMs: PREFLIGHT_TIMEOUT_MS,
    clock,
    onSpawn: () => undefined,
  }).done;
  const rl = rateLimitIn(r, exp.config.rateLimit, clock.now());
  if (rl) return { resetAt: rl.resetAt, why: `preflight: ${rl.why}`, quota: rl.quota };
  if (r.exitCode !== 0) {
    throw new UserError(
      `The preflight command failed (${r.spawnError ?? (r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`)}) without a rate-limit answer`,
      { path: '$.rateLimit.preflight' },
      [`Its output is in ${path.join(paths.root, 'preflight.log')}.`],
    );
  }
  return undefined;
}

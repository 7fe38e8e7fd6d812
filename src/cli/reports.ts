import { systemClock } from '../core/clock';
import { isUserError } from '../core/errors';
import { readRunReport, type ReportOptions, type RunReport } from '../core/status/report';
import { err } from './stdio';

/**
 * Reports of several run folders. One that cannot be read (a damaged frozen config, a folder
 * where its journal should be) is said on stderr with its way forward and makes the exit code
 * 1, but does not hide the others. With `alone`, a single run folder's error is thrown as it is.
 */
export async function readReports(
  dirs: readonly string[],
  alone: boolean,
  o: ReportOptions = {},
): Promise<{ reports: RunReport[]; failed: number }> {
  const reports: RunReport[] = [];
  let failed = 0;
  for (const d of dirs) {
    try {
      reports.push(await readRunReport(d, systemClock, o));
    } catch (e) {
      if (alone || !isUserError(e)) throw e;
      failed++;
      err(`resumable: ${e.message}\n${e.hints.map((h) => `  ${h}\n`).join('')}`);
    }
  }
  return { reports, failed };
}

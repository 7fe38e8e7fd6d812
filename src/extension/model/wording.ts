import type { RunReport } from '../../core/status/report';

/**
 * The sentences the extension shows (quick picks, notices, repair), in one place so they read
 * as one voice and are tested without VS Code. Pure.
 */

/** "1 error", "3 errors"; `plural` for the irregular ones. */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** "400 passed · 10 failed · 2 errors": the outcomes, zero parts left out (but passed, the headline). */
export function outcomes(c: RunReport['counts']): string {
  const parts = [`${c.passed} passed`];
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.error) parts.push(countOf(c.error, 'error'));
  return parts.join(' · ');
}

/** What each command's experiment quick pick asks. */
export const PICK_TITLES = {
  resume: 'Resume which experiment?',
  startFresh: 'Start which experiment from scratch?',
  retryErrors: 'Retry the errors of which experiment?',
  retryFailed: 'Retry the failed units of which experiment?',
  repair: 'Repair the checkpoint of which experiment?',
  stop: 'Stop which experiment?',
  openRunFolder: 'Open the run folder of which experiment?',
  showUnitLog: 'Show a unit log of which experiment?',
  unit: 'Show the log of which unit?',
  dryRun: 'Dry-run which experiment?',
} as const;

export type PickKind = keyof typeof PICK_TITLES;

/** The pick title for a run command's flags ([] is Resume). */
export function runPickTitle(flags: readonly string[]): string {
  switch (flags[0]) {
    case '--fresh':
      return PICK_TITLES.startFresh;
    case '--retry-errors':
      return PICK_TITLES.retryErrors;
    case '--retry-failed':
      return PICK_TITLES.retryFailed;
    case '--dry-run':
      return PICK_TITLES.dryRun;
    default:
      return PICK_TITLES.resume;
  }
}

/** "finished: 60/60 · 48 passed · 12 failed" for the notification. */
export function finishedMessage(r: Pick<RunReport, 'name' | 'done' | 'total' | 'counts'>): string {
  return `Resumable: ${r.name} finished — ${r.done}/${r.total} · ${outcomes(r.counts)}`;
}

/** While a stop is under way: how many units it waits for. */
export function stoppingMessage(label: string, inFlight: number): string {
  return inFlight > 0 ? `Stopping ${label}: waiting for ${countOf(inFlight, 'unit')} in flight…` : `Stopping ${label}…`;
}

/** Once the runner has stopped: where the run stands and how to go on. */
export function stoppedMessage(label: string, r: Pick<RunReport, 'done' | 'total' | 'counts' | 'status'> | undefined): string {
  if (!r) return `Resumable: stopped ${label}.`;
  if (r.status === 'completed') return `Resumable: ${label} had finished — ${r.done}/${r.total} · ${outcomes(r.counts)}.`;
  return `Resumable: stopped ${label} at ${r.done}/${r.total} (${outcomes(r.counts)}). Resume Experiment goes on from there.`;
}

/** A stop that did not end the runner in time (a unit ignoring its grace period, a busy machine). */
export function stillStoppingMessage(label: string, seconds: number): string {
  return `Resumable: ${label} has not stopped after ${seconds} s; its units in flight may still be finishing. See its terminal, or Stop again to end it now.`;
}

export interface RepairFacts {
  readonly adopted: readonly string[];
  readonly dropped: readonly number[];
  readonly droppedTornTail: boolean;
  readonly unreadable: readonly string[];
}

/**
 * "adopts 40 results the journal missed, leaves out 2 damaged journal lines" (`did`: "adopted
 * …, left out …"): only what the repair changes, no "+0" parts.
 */
export function repairSummary(p: RepairFacts, tense: 'does' | 'did' = 'does'): string {
  const [adopt, leaveOut, leave] = tense === 'does' ? ['adopts', 'leaves out', 'leaves'] : ['adopted', 'left out', 'left'];
  const parts: string[] = [];
  if (p.adopted.length) parts.push(`${adopt} ${countOf(p.adopted.length, 'result')} the journal missed`);
  const lines = p.dropped.length + (p.droppedTornTail ? 1 : 0);
  if (lines) parts.push(`${leaveOut} ${countOf(lines, 'damaged journal line')}`);
  if (p.unreadable.length) parts.push(`${leave} ${countOf(p.unreadable.length, 'unreadable result')} to run again`);
  return parts.join(', ');
}

/** A repair that found nothing to change, said as a person would. */
export function nothingToRepairMessage(label: string, r: Pick<RunReport, 'done' | 'total'> | undefined): string {
  const where = r ? ` (${r.done}/${r.total} units done)` : '';
  return `Resumable: the checkpoint of ${label} is sound${where}: its journal agrees with the results on disk, so there is nothing to repair.`;
}

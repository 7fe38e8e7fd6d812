/** Every id the extension shares with package.json, in one place. */
export const Commands = {
  resume: 'resumable.resume',
  startFresh: 'resumable.startFresh',
  retryErrors: 'resumable.retryErrors',
  retryFailed: 'resumable.retryFailed',
  repair: 'resumable.repair',
  stop: 'resumable.stop',
  openRunFolder: 'resumable.openRunFolder',
  showUnitLog: 'resumable.showUnitLog',
  showMore: 'resumable.showMore',
  refresh: 'resumable.refresh',
  newExperiment: 'resumable.newExperiment',
} as const;

export const ViewIds = { experiments: 'resumable.experiments' } as const;
export const TaskType = 'resumable';

export const Settings = {
  section: 'resumable',
  nodePath: 'nodePath',
  refreshDebounceMs: 'refreshDebounceMs',
  notifyOnFinish: 'notifications.runFinished',
  notifyPauseMinutes: 'notifications.rateLimitPauseMinutes',
  notifyInterrupted: 'notifications.interruptedRunFound',
  pageSize: 'tree.pageSize',
  groupBy: 'tree.groupBy',
} as const;

export const ContextKeys = { hasExperiments: 'resumable.hasExperiments', anyRunning: 'resumable.anyRunning' } as const;

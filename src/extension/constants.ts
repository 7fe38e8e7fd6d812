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
  run: 'resumable.run',
  dryRun: 'resumable.dryRun',
  openQuickstart: 'resumable.openQuickstart',
  getStarted: 'resumable.getStarted',
  openDashboard: 'resumable.openDashboard',
  openResult: 'resumable.openResult',
  retryUnit: 'resumable.retryUnit',
  /** Test hook (not in package.json): the dashboard webview's own state, optionally after setting its filter. */
  dashboardTestState: 'resumable.test.dashboardState',
  compareRuns: 'resumable.compareRuns',
  /** The same command, titled "Compare With…" on an experiment's row (hidden from the palette). */
  compareWith: 'resumable.compareWith',
  /** Test hook (not in package.json): the compare webview's own state. */
  compareTestState: 'resumable.test.compareState',
} as const;

/** The dashboard's webview panel type. */
export const DashboardViewType = 'resumable.dashboard';
/** The compare view's webview panel type. */
export const CompareViewType = 'resumable.compare';

/** The Get Started walkthrough (`<publisher>.<name>#<id>`) and the context keys its steps wait for. */
export const Walkthrough = {
  id: 'resumable.resumable#resumable.getStarted',
  ranKey: 'resumable.walkthrough.ranExperiment',
  sawPauseKey: 'resumable.walkthrough.sawRateLimitPause',
  finishedKey: 'resumable.walkthrough.resumedToTheEnd',
} as const;

/** The loader's errors in the Problems view. */
export const DiagnosticSource = 'resumable';

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

export const ContextKeys = {
  hasExperiments: 'resumable.hasExperiments',
  anyRunning: 'resumable.anyRunning',
  /** The first scan is done: before it, "no experiment yet" would be a guess (the view's welcome waits for it). */
  scanned: 'resumable.scanned',
} as const;

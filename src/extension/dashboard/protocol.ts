// The messages between the dashboard panel and its webview. Types only: the webview bundle
// (media/dashboard/src, a browser build) imports this file too, so it must not import Node or vscode.
import type { RunHistory } from '../../core/status/history';
import type { RunReport } from '../../core/status/report';

export type UnitStatus = 'passed' | 'failed' | 'error' | 'rate_limited' | 'running' | 'pending';

/**
 * One unit of the results table. A tuple, not an object: a 100k-unit run posts 100k of them
 * once, and keys would double the message.
 */
export type Row = [
  id: string,
  group: string,
  matrix: string,
  status: UnitStatus,
  attempts: number,
  durationMs: number | null,
  why: string | null,
  usd: number | null,
  tokens: number | null,
];

export const R = { id: 0, group: 1, matrix: 2, status: 3, attempts: 4, durationMs: 5, why: 6, usd: 7, tokens: 8 } as const;

/** One attempt of a unit, as its journal says. */
export interface Attempt {
  readonly attempt: number;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly status: string;
  readonly durationMs: number | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly why: string | null;
}

/** A file shown in the unit's details: its text (the end of it when long). */
export interface ShownFile {
  readonly file: string;
  readonly text: string;
  readonly truncated: boolean;
}

/** What the webview needs besides the rows; `live`: a runner works on the run now. */
export interface Summary {
  readonly report: RunReport;
  readonly history: RunHistory;
  readonly live: boolean;
  /** The key the results are grouped by ("" = matrix cell), and whether the matrix has keys. */
  readonly groupBy: string;
  readonly hasMatrix: boolean;
  readonly now: number;
}

export type ToWebview =
  | ({ readonly type: 'init'; readonly rows: readonly Row[] } & Summary)
  /** Only the rows that changed since the last post, by their index in `init`'s rows. */
  | ({ readonly type: 'update'; readonly changed: readonly (readonly [number, Row])[] } & Summary)
  | {
      readonly type: 'unit';
      readonly id: string;
      readonly result: ShownFile | null;
      readonly log: ShownFile | null;
      readonly attempts: readonly Attempt[];
    }
  /** The run folder went away (or cannot be read): the panel says so and keeps what it showed. */
  | { readonly type: 'gone'; readonly why: string }
  /** Test hook: set the filter (when given) and answer with `testState`. */
  | { readonly type: 'testQuery'; readonly seq: number; readonly filter?: string };

/** The webview's own view of what it shows: what the host test asserts on. */
export interface TestState {
  readonly seq: number;
  readonly filter: string;
  readonly total: number;
  readonly shown: number;
  /** The first shown rows' ids, in table order. */
  readonly firstIds: readonly string[];
  /** Rows rendered into the DOM (the virtualised window), not all of `shown`. */
  readonly rendered: number;
  readonly done: number;
  readonly status: string;
  readonly updates: number;
  /** Rows the updates carried, all told: far fewer than updates × total when only changes are sent. */
  readonly changedRows: number;
  readonly pauses: number;
  readonly buckets: number;
}

export type FromWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'openUnit'; readonly id: string }
  | { readonly type: 'openFile'; readonly file: string }
  | ({ readonly type: 'testState' } & TestState);

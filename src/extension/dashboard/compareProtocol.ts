// The messages between the compare panel and its webview. Types only: the webview bundle
// (media/dashboard/src/compare.ts, a browser build) imports this file too.

export interface Rate {
  readonly passed: number;
  readonly total: number;
  readonly rate: number;
  readonly low: number;
  readonly high: number;
}

export interface ShownChange {
  readonly a: string;
  readonly b: string;
  readonly before: string;
  readonly after: string;
  readonly why: string | null;
}

export interface ShownGroup {
  readonly group: string;
  readonly matched: number;
  /** Null: no unit of the group has a verdict in that run. */
  readonly a: Rate | null;
  readonly b: Rate | null;
  /** B's pass rate minus A's, in percentage points (null when either has no verdict). */
  readonly points: number | null;
  readonly metrics: readonly { readonly name: string; readonly a: number | null; readonly b: number | null }[];
}

/** A Comparison as the view shows it: lists capped, pass rates with their intervals computed by the host. */
export interface ShownComparison {
  readonly a: string;
  readonly b: string;
  readonly matchBy: 'id' | 'item';
  readonly matched: number;
  readonly onlyA: number;
  readonly onlyB: number;
  readonly regressions: readonly ShownChange[];
  readonly fixes: readonly ShownChange[];
  readonly newErrors: readonly ShownChange[];
  /** The lists' full lengths (each is capped at LIST_CAP). */
  readonly counts: { readonly regressions: number; readonly fixes: number; readonly newErrors: number };
  readonly otherChanges: number;
  readonly groups: readonly ShownGroup[];
  readonly computedAt: number;
}

export const LIST_CAP = 500;

export type ToCompareWebview =
  | { readonly type: 'comparison'; readonly cmp: ShownComparison }
  | { readonly type: 'error'; readonly why: string }
  | { readonly type: 'testQuery'; readonly seq: number };

/** What the compare webview shows: what the host test asserts on. */
export interface CompareTestState {
  readonly seq: number;
  /** How many comparisons it has drawn (a Refresh adds one). */
  readonly renders: number;
  readonly matched: number;
  readonly regressions: readonly string[];
  readonly fixes: readonly string[];
  readonly newErrors: readonly string[];
  /** Per group, the pass-rate cells' text as drawn. */
  readonly groups: readonly { readonly group: string; readonly a: string; readonly b: string; readonly points: string }[];
  readonly error: string;
}

export type FromCompareWebview =
  | { readonly type: 'ready' }
  | { readonly type: 'refresh' }
  | { readonly type: 'openUnit'; readonly side: 'a' | 'b'; readonly id: string }
  | ({ readonly type: 'testState' } & CompareTestState);

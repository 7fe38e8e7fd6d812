import { z } from 'zod';
import type { Unit } from '../config/units';
import { unitSeed } from '../ids';

/**
 * The worker line protocol (README, "Workers"): one JSON object per line, the runner's on the
 * worker's stdin, the worker's on its stdout. A worker says which version it speaks in its
 * `ready` line; a runner refuses one it does not know.
 */
export const WORKER_PROTOCOL = 1;

/** A line longer than this is no protocol line (a result that big belongs in a file). */
export const MAX_WORKER_LINE_BYTES = 8 * 1024 * 1024;

/** What the runner sends for one attempt of one unit. */
export interface UnitMessage {
  readonly type: 'unit';
  readonly id: string;
  readonly itemId: string;
  readonly item: unknown;
  readonly matrix: Readonly<Record<string, unknown>>;
  readonly repeat: number;
  readonly seed: number;
  readonly attempt: number;
  readonly unitDir: string;
  readonly resultFile: string;
  /** Epoch ms when the unit's time is up (`run.timeoutSeconds`), or null. */
  readonly deadline: number | null;
}

export function unitMessage(
  unit: Unit,
  o: { attempt: number; seed: number; unitDir: string; resultFile: string; deadline: number | undefined },
): string {
  const m: UnitMessage = {
    type: 'unit',
    id: unit.id,
    itemId: unit.item.id,
    item: unit.item.fields,
    matrix: unit.cell,
    repeat: unit.repeat ?? 1,
    seed: unitSeed(o.seed, unit.id),
    attempt: o.attempt,
    unitDir: o.unitDir,
    resultFile: o.resultFile,
    deadline: o.deadline ?? null,
  };
  return JSON.stringify(m) + '\n';
}

const usage = z.looseObject({ costUSD: z.number().nonnegative().optional(), tokens: z.number().nonnegative().optional() });
const unitId = z.string().min(1);

/** Unknown keys are allowed everywhere: a later version may add some without breaking an older runner. */
const workerMessage = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('ready'), protocol: z.int() }),
  z.looseObject({ type: z.literal('result'), id: unitId, result: z.record(z.string(), z.unknown()).optional(), usage: usage.optional() }),
  z.looseObject({
    type: z.literal('error'),
    id: unitId,
    message: z.string().optional(),
    traceback: z.string().optional(),
    usage: usage.optional(),
  }),
  z.looseObject({
    type: z.literal('rate_limited'),
    id: unitId,
    message: z.string().optional(),
    resetAt: z.union([z.number(), z.string()]).optional(),
    retryAfterSeconds: z.number().nonnegative().optional(),
    headers: z.record(z.string(), z.unknown()).optional(),
    usage: usage.optional(),
  }),
]);

export type WorkerMessage = z.infer<typeof workerMessage>;
export type UnitAnswer = Exclude<WorkerMessage, { type: 'ready' }>;

/** A worker's line read: a message, or why it is not one (shown to the user with the line). */
export type ParsedLine = { readonly kind: 'message'; readonly message: WorkerMessage } | { readonly kind: 'bad'; readonly why: string };

export function parseWorkerLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { kind: 'bad', why: 'not JSON' };
  }
  const r = workerMessage.safeParse(value);
  if (r.success) return { kind: 'message', message: r.data };
  const issue = r.error.issues[0]!;
  const at = issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
  return { kind: 'bad', why: `not a protocol message (${issue.message}${at})` };
}

/** A line as shown in a message: its start, never a megabyte of it. */
export function shownLine(line: string, max = 200): string {
  const t = line.length > max ? `${line.slice(0, max)}… (${line.length} characters)` : line;
  return JSON.stringify(t);
}

import { z } from 'zod';
import { itemsSchema, matrixSchema, regexString, resultSchema, type scalar } from './schemaParts';

/**
 * The experiment file's schema. It is the one definition behind validation, the
 * published JSON Schema (`schema/experiment.schema.json`) and the TypeScript types.
 */
export const experimentSchema = z
  .strictObject({
    $schema: z.string().optional().describe('Path or URL of this JSON Schema, for completion and hover docs in editors.'),
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        'Expected a name of letters, digits, ".", "_", "-" (at most 64, used in the run folder name)',
      )
      .describe(
        'Required. The experiment\'s name: letters, digits, ".", "_", "-" (at most 64). Its run folder is .resumable/<name>-<hash8>/; a new name starts a new run.',
      ),
    items: itemsSchema,
    matrix: matrixSchema.default({}),
    run: z
      .strictObject({
        command: z
          .array(z.string())
          .min(1)
          .optional()
          .describe(
            'The argv array of each unit\'s process, no shell: ["python3", "eval.py", "--id", "${item.id}"] (a shell line: ["sh", "-c", "..."]). Placeholders like ${item.id}, ${model}, ${unitDir}. Or use run.worker.',
          ),
        worker: z
          .array(z.string())
          .min(1)
          .optional()
          .describe(
            'argv of a long-lived worker that runs many units over the line protocol (README, "Workers"), instead of run.command; placeholders: ${runDir}, ${experimentDir}.',
          ),
        perWorker: z
          .int()
          .min(1)
          .max(1024)
          .default(1)
          .describe('Units a worker is given at a time; the runner starts up to ceil(concurrency / perWorker) workers.'),
        workerStartSeconds: z
          .number()
          .positive()
          .default(300)
          .describe('A worker that has not said "ready" this long after it started is killed (its units are not charged an attempt).'),
        cwd: z.string().default('.').describe('Working folder, relative to the experiment file.'),
        env: z
          .record(z.string(), z.string())
          .default({})
          .describe('Variables added to each unit\'s environment (values may use placeholders, e.g. "${seed}").'),
        timeoutSeconds: z
          .number()
          .positive()
          .optional()
          .describe("Kill the unit's process group (with run.worker: its worker's) after this long (an error outcome)."),
      })
      // Neither command nor worker is checked at load (load.ts, checkRunnable): a library
      // handler needs neither, so the file alone cannot say it is missing.
      .superRefine((run, ctx) => {
        if (run.command !== undefined && run.worker !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['worker'],
            message: 'Expected run.command or run.worker, not both: with run.worker every unit goes to the worker (remove run.command)',
          });
      })
      .prefault({})
      .describe(
        'How a unit runs: "command" (a process per unit) or "worker" (a long-lived process), with cwd, env and timeout. Needed unless a library handler runs the units.',
      ),
    result: resultSchema,
    concurrency: z.int().min(1).max(4096).default(4).describe('Units in flight at once (4); --concurrency overrides it. A runtime knob.'),
    retries: z
      .strictObject({
        maxAttempts: z.int().min(1).default(3).describe('Attempts for a unit that errors (rate limits do not count).'),
        backoffSeconds: z
          .tuple([z.number().min(0), z.number().min(0)])
          .default([5, 300])
          .describe('[first, max] delay of the exponential backoff with jitter.'),
      })
      .default({ maxAttempts: 3, backoffSeconds: [5, 300] })
      .describe('Retries of a unit that errors, with exponential backoff. A runtime knob.'),
    rateLimit: z
      .strictObject({
        exitCodes: z.array(z.int()).default([]).describe('Exit codes that mean the unit was rate limited (re-queued, never a failure).'),
        patterns: z
          .array(regexString)
          .default([])
          .describe(
            'Case-insensitive regexes over the unit\'s output, beside the standard signals; a named group "reset" gives the reset time (else the standard reset hints are read).',
          ),
        standardSignals: z
          .boolean()
          .default(true)
          .describe(
            'Recognise the standard rate-limit answers without a pattern (HTTP 429 status lines, "Too Many Requests", rate_limit_exceeded, RateLimitError, RESOURCE_EXHAUSTED, insufficient_quota...).',
          ),
        adaptive: z
          .boolean()
          .default(true)
          .describe(
            'A rate limit cuts the units in flight and the dispatch rate (multiplicative); successes raise them back (additive) up to "concurrency".',
          ),
        requestsPerMinute: z
          .number()
          .positive()
          .optional()
          .describe('Dispatch at most this many units a minute (one unit is one request), across all shards of the run.'),
        tokensPerMinute: z
          .number()
          .positive()
          .optional()
          .describe('Keep the tokens the units report (result.tokens) under this many a minute, across all shards of the run.'),
        preflight: z
          .array(z.string())
          .min(1)
          .optional()
          .describe('Command run before dispatching; a rate-limit answer stops the run with exit 2.'),
        maxWaitSeconds: z
          .number()
          .min(0)
          .default(3600)
          .describe('A pause longer than this parks the run: units in flight finish, then it exits 2 with the reset time.'),
        defaultWaitSeconds: z
          .number()
          .min(0)
          .default(60)
          .describe('Pause when no reset time could be read (doubles on consecutive pauses).'),
        bufferSeconds: z
          .number()
          .min(0)
          .default(5)
          .describe('Added to a reset time: a tenth of the wait, at least 0.1 s and at most this.'),
        timeZone: z.string().optional().describe("Zone for reset times given without one (default: this machine's)."),
      })
      .default({
        exitCodes: [],
        patterns: [],
        standardSignals: true,
        adaptive: true,
        maxWaitSeconds: 3600,
        defaultWaitSeconds: 60,
        bufferSeconds: 5,
      })
      .describe(
        'What marks an attempt rate limited (standard signals, exit codes, patterns) and how the run slows down: pauses, adaptive concurrency, per-minute budgets. Runtime knobs.',
      ),
    budget: z
      .strictObject({
        maxCostUSD: z
          .number()
          .positive()
          .optional()
          .describe('Stop dispatching once the attempts (of all shards) have cost this much (result.cost).'),
        maxTokens: z
          .number()
          .positive()
          .optional()
          .describe('Stop dispatching once the attempts (of all shards) have used this many tokens (result.tokens).'),
      })
      .default({})
      .describe(
        'Spend limits: when reached, units in flight finish and the run stops with exit 3; a resume with a raised limit continues.',
      ),
    seed: z
      .int()
      .default(0)
      .describe(
        "Experiment seed (0); each unit's ${seed} is derived from it and the unit id, so results do not depend on order or resumes.",
      ),
    maxLogBytes: z
      .int()
      .min(65536)
      .default(33554432)
      .describe(
        'Output one attempt may keep in its output.log (32 MiB): its first and last halves, with a line saying how many bytes were cut between. Checked every 0.5 s while the unit runs.',
      ),
    graceSeconds: z
      .number()
      .min(0)
      .default(30)
      .describe('On the first Ctrl+C, how long units in flight may finish before their process groups are killed.'),
    runRoot: z.string().default('.resumable').describe('Folder of run folders, relative to the experiment file.'),
  })
  .describe('A Resumable experiment: items × matrix, each unit one command run.');

export type ExperimentInput = z.input<typeof experimentSchema>;
export type Experiment = z.output<typeof experimentSchema>;
export type Scalar = z.infer<typeof scalar>;

export function experimentJsonSchema(): unknown {
  return z.toJSONSchema(experimentSchema, { io: 'input', unrepresentable: 'any' });
}

import { z } from 'zod';
import { escapeProblem } from './resultRule';

/**
 * The experiment file's schema. It is the one definition behind validation, the
 * published JSON Schema (`schema/experiment.schema.json`) and the TypeScript types.
 */
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

const regexString = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s, 'i');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `Expected a valid regular expression: ${(e as Error).message}` });
  }
});

const itemsSchema = z
  .strictObject({
    file: z.string().min(1).optional().describe('Dataset: a .jsonl, .csv or .json (array) file, relative to the experiment file.'),
    glob: z
      .string()
      .min(1)
      .optional()
      .describe('One item per matching path (fast-glob); the id is the path relative to the experiment file.'),
    values: z.array(z.unknown()).min(1).optional().describe('Inline items: scalars (their own id) or objects with an id field.'),
    id: z.string().min(1).optional().describe('Field holding each item\'s unique id (default "id").'),
    capture: regexString
      .optional()
      .describe(
        'With "glob": a regular expression over each matched path (relative to the experiment file, no trailing "/"); its named groups become item fields, e.g. "^(?<tier>T\\d+)/(?<subtest>\\d+)/run_(?<run>\\d+)$".',
      ),
  })
  .superRefine((v, ctx) => {
    const given = (['file', 'glob', 'values'] as const).filter((k) => v[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `Expected exactly one of "file", "glob", "values", got ${given.length ? given.map((g) => `"${g}"`).join(' and ') : 'none'}`,
      });
    }
    if (v.capture !== undefined && v.glob === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['capture'],
        message: 'Expected "capture" only with "glob": it names the parts of each matched path',
      });
    }
    if (v.glob !== undefined && v.id !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['id'], message: 'Expected no "id" with "glob": a glob item\'s id is its path' });
    }
  })
  .describe('Where the items come from.');

const matrixSchema = z
  .object({ repeat: z.int().min(1).max(100000).optional().describe('Run every cell this many times (r1, r2, ...).') })
  .catchall(z.array(scalar).min(1))
  .superRefine((m, ctx) => {
    for (const key of Object.keys(m)) {
      if (!identifier.test(key))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `Expected a matrix key made of letters, digits and "_" (usable as \${${key}}), got "${key}"`,
        });
      const values = m[key];
      if (key !== 'repeat' && Array.isArray(values) && new Set(values.map(String)).size !== values.length) {
        ctx.addIssue({ code: 'custom', path: [key], message: 'Expected distinct values' });
      }
    }
  })
  .describe('Cross product with the items: each key lists its values; "repeat" repeats each cell.');

/** `result.file`: a relative path that stays inside the unit folder (the same check as a rendered `result.path`). */
const relativePath = z
  .string()
  .min(1)
  .superRefine((p, ctx) => {
    const problem = escapeProblem(p, 'the unit folder');
    if (problem) ctx.addIssue({ code: 'custom', message: `Expected a path inside the folder, got ${JSON.stringify(p)}: ${problem}` });
  });

const fieldList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

const notDoneRule = z.strictObject({
  field: z.string().min(1).describe('Field (dotted path) of the result; an object or array is matched as its JSON text.'),
  pattern: regexString.describe('Case-insensitive regex: a match means the result is not finished (a judge that hit a usage limit).'),
});

const resultSchema = z
  .strictObject({
    file: relativePath
      .optional()
      .describe('File the command writes inside ${unitDir} (default "result.json", judged if the command writes it).'),
    path: z
      .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
      .optional()
      .describe(
        'Where the result lives in your own layout: a template relative to the experiment file\'s folder (placeholders as in the command, e.g. "${item.tier}/run_${repeat:02}/run_result.json"), or a list of them: the first that exists is read; new results go to the first.',
      ),
    from: z
      .enum(['file', 'exit', 'stdout'])
      .optional()
      .describe(
        '"file": the result file decides; "exit": the exit code (0 passed, any other failed); "stdout": the last line of the output that is a JSON object, kept as ${unitDir}/result.json. Default: the result file if the command writes one, else exit 0 passes.',
      ),
    passed: z.string().min(1).optional().describe('Field (dotted path) of the result that decides passed/failed; default "passed".'),
    missing: z
      .enum(['failed', 'error', 'rerun'])
      .optional()
      .describe(
        'A result without a boolean pass field: "error" (default: counted as an error, not run again without --retry-errors), "failed", or "rerun" (not finished: run again).',
      ),
    notDone: z
      .union([notDoneRule, z.array(notDoneRule).min(1)])
      .optional()
      .describe('Results that are not finished (run again, never adopted): a field and a pattern, or a list of them.'),
    errorExitCodes: z
      .array(z.int())
      .optional()
      .describe('With "from": "exit": exit codes that mean the command broke (an error, retried), not a failed unit.'),
    cost: fieldList
      .optional()
      .describe('Field (dotted path) of the result holding what the attempt cost in USD, e.g. "cost_usd", or a list of fields to add up.'),
    tokens: fieldList
      .optional()
      .describe(
        'Field (dotted path) of the result holding the tokens the attempt used, or a list to add up, e.g. ["usage.input_tokens", "usage.output_tokens"].',
      ),
  })
  .superRefine((r, ctx) => {
    if (r.file !== undefined && r.path !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        message: 'Expected "file" or "path", not both: "file" is inside ${unitDir}, "path" in your own layout',
      });
    if ((r.from === 'exit' || r.from === 'stdout') && (r.file !== undefined || r.path !== undefined))
      ctx.addIssue({
        code: 'custom',
        path: ['from'],
        message: `Expected no "file" or "path" with "from": "${r.from}": ${r.from === 'exit' ? 'the exit code is the result' : 'the printed result is kept as ${unitDir}/result.json'}`,
      });
    if (r.errorExitCodes !== undefined && r.from !== 'exit')
      ctx.addIssue({ code: 'custom', path: ['errorExitCodes'], message: 'Expected "errorExitCodes" only with "from": "exit"' });
  })
  .default({})
  .describe("How a unit's outcome is read: a result file (in the unit folder or your own layout), the exit code, or printed JSON.");

export const experimentSchema = z
  .strictObject({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
        'Expected a name of letters, digits, ".", "_", "-" (at most 64, used in the run folder name)',
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
            'argv array, no shell; placeholders like ${item.id}, ${model}, ${unitDir}. Each unit is one process (or use run.worker).',
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
        env: z.record(z.string(), z.string()).default({}),
        timeoutSeconds: z
          .number()
          .positive()
          .optional()
          .describe("Kill the unit's process group (with run.worker: its worker's) after this long (an error outcome)."),
      })
      .superRefine((run, ctx) => {
        if (run.command === undefined && run.worker === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['command'],
            message: 'Expected run.command (a process per unit) or run.worker (a long-lived worker)',
          });
        if (run.command !== undefined && run.worker !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['worker'],
            message: 'Expected run.command or run.worker, not both: with run.worker every unit goes to the worker (remove run.command)',
          });
      }),
    result: resultSchema,
    concurrency: z.int().min(1).max(4096).default(4),
    retries: z
      .strictObject({
        maxAttempts: z.int().min(1).default(3).describe('Attempts for a unit that errors (rate limits do not count).'),
        backoffSeconds: z
          .tuple([z.number().min(0), z.number().min(0)])
          .default([5, 300])
          .describe('[first, max] delay of the exponential backoff with jitter.'),
      })
      .default({ maxAttempts: 3, backoffSeconds: [5, 300] }),
    rateLimit: z
      .strictObject({
        exitCodes: z.array(z.int()).default([]),
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
      }),
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
    seed: z.int().default(0),
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

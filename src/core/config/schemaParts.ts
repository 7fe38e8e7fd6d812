import { z } from 'zod';
import { escapeProblem } from './resultRule';

/**
 * The parts of the experiment file's schema that describe the data (items, matrix, result
 * rule); schema.ts puts them together with how units run. Every key has a description: it is
 * what editors show on hover (test/core/schema.test.ts checks that none is missing).
 */
export const scalar = z.union([z.string(), z.number(), z.boolean()]);
const identifier = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const regexString = z.string().superRefine((s, ctx) => {
  try {
    new RegExp(s, 'i');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `Expected a valid regular expression: ${(e as Error).message}` });
  }
});

export const itemsSchema = z
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

export const matrixSchema = z
  .object({ repeat: z.int().min(1).max(100000).optional().describe('Run every cell this many times (r1, r2, ...).') })
  .catchall(
    z
      .array(scalar)
      .min(1)
      .describe('A matrix key and the values it takes, e.g. "model": ["sonnet", "haiku"]; a unit\'s value is ${model}.'),
  )
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

/** A pass rule on a number: a score passes at or above a bar, a loss at or below one. */
export const passThreshold = z
  .strictObject({
    field: z.string().min(1).describe('Field (dotted path) of the result holding a number, e.g. "score".'),
    atLeast: z.number().optional().describe('Passed when the field is at least this.'),
    atMost: z.number().optional().describe('Passed when the field is at most this.'),
  })
  .refine((t) => t.atLeast !== undefined || t.atMost !== undefined, {
    message: 'Expected "atLeast" or "atMost" (or both) beside "field": the bar the number must reach',
  })
  .describe('A threshold on a number of the result.');

export const resultSchema = z
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
    passed: z
      .union([z.string().min(1), passThreshold])
      .optional()
      .describe(
        'What decides passed/failed: a field (dotted path) of the result holding a boolean (default "passed"), or a threshold on a number: { "field": "score", "atLeast": 0.5 } (or "atMost", or both for a range).',
      ),
    metrics: fieldList
      .optional()
      .describe(
        'Numeric fields (dotted paths) of the result to sum and average per group in `status`, `results` and `compare`, e.g. ["score", "latency_s"]. Read, not judged: adding them is not drift.',
      ),
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

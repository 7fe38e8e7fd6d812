import * as fs from 'node:fs';
import * as path from 'node:path';

/** What New Experiment File and the quickstart write: pure text (no vscode), so tests load it with the real engine. */
export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * The rate-limit patterns a new experiment starts with: anchored, so a traceback's
 * `line 429` or an id like `q-429` is not taken for a rate limit. The engine's patterns are
 * JavaScript regexes, always case-insensitive (no inline `(?i)`: JavaScript refuses it).
 */
export const TEMPLATE_RATE_LIMIT_PATTERNS = [
  '\\b(HTTP(/\\d(\\.\\d)?)?|status( code)?)[ :=]*429\\b',
  '\\brate[ _-]?limit(ed)?\\b',
  'retry-after: (?<reset>\\d+)',
];

/** The patterns as a JSON array, one a line, under a key indented by `indent`. */
function patternLines(indent: string): string {
  return `[\n${TEMPLATE_RATE_LIMIT_PATTERNS.map((p) => `${indent}  ${JSON.stringify(p)}`).join(',\n')}\n${indent}]`;
}

/** What New Experiment File writes: an experiment, the unit it runs and its items, all in a folder of their own. */
export function experimentFiles(name: string): Record<string, string> {
  const config = `{
  // One unit per item × matrix cell: here 5 questions × 2 models = 10 units.
  // Every key is described in the Resumable README; hover a key for its meaning.
  "name": ${JSON.stringify(name)},
  "items": { "file": "items.jsonl", "id": "id" },
  "matrix": { "model": ["model-a", "model-b"] },
  "run": {
    // argv array, no shell; cwd is this folder. unit.mjs writes its result to RESUMABLE_RESULT_FILE.
    "command": ["node", "unit.mjs", "--model", "\${model}"],
    "timeoutSeconds": 600
  },
  "result": { "file": "result.json", "passed": "passed" },
  "concurrency": 4,
  "retries": { "maxAttempts": 3, "backoffSeconds": [5, 300] },
  // Exit 75 or one of these in the output marks a rate limit: the run pauses, no attempt is spent.
  // Standard answers (an HTTP 429 status line, "Too Many Requests"…) are recognised without a pattern.
  "rateLimit": {
    "exitCodes": [75],
    "patterns": ${patternLines('    ')}
  },
  "seed": 1
}
`;
  const unit = `// One unit of ${name}: Resumable runs it once per item × model, in this folder.
// It gets the unit through the environment: RESUMABLE_ITEM (the item as JSON; or
// RESUMABLE_ITEM_FILE names a file holding it, for a big item), RESUMABLE_MATRIX_MODEL,
// RESUMABLE_SEED, RESUMABLE_ATTEMPT, and writes its result to RESUMABLE_RESULT_FILE.
import { readFileSync, writeFileSync } from 'node:fs';

const env = process.env;
const item = JSON.parse(env.RESUMABLE_ITEM ?? readFileSync(env.RESUMABLE_ITEM_FILE, 'utf8'));
const model = env.RESUMABLE_MATRIX_MODEL;

// Replace this with the call to your model. A rate limit: print the provider's answer
// (e.g. "HTTP 429 Too Many Requests; retry-after: 30") and exit 75; any other failure:
// throw (an error, retried up to retries.maxAttempts).
async function callModel(question) {
  const [a, b] = question.split('+').map(Number);
  return String(a + b);
}

const answer = await callModel(item.question);
const passed = answer.trim() === String(item.expected);
writeFileSync(env.RESUMABLE_RESULT_FILE, JSON.stringify({ passed, model, answer, expected: item.expected }) + '\\n');
console.log(\`\${item.id} \${model}: \${item.question} = \${answer} (\${passed ? 'passed' : 'failed'})\`);
`;
  const items = [
    ['q-001', '2 + 2', 4],
    ['q-002', '3 + 5', 8],
    ['q-003', '12 + 30', 42],
    ['q-004', '7 + 6', 13],
    ['q-005', '40 + 2', 42],
  ]
    .map(([id, question, expected]) => JSON.stringify({ id, question, expected }) + '\n')
    .join('');
  return { [`${name}.experiment.json`]: config, 'unit.mjs': unit, 'items.jsonl': items };
}

/**
 * The quickstart of the Get Started walkthrough: 100 questions × 2 stand-in models, slow
 * enough to watch and stop (about half a second a unit, 4 at a time), and one answer of
 * "HTTP 429 … retry-after: 8" so the run pauses on a rate limit and resumes by itself.
 */
export function quickstartFiles(): Record<string, string> {
  const config = `{
  // The Resumable quickstart: 100 questions × 2 "models" = 200 units. model.mjs stands in for
  // a model API: it takes 0.2-0.8 s, and answers one request with a rate limit (HTTP 429).
  "name": "quickstart",
  "items": { "file": "questions.jsonl", "id": "id" },
  "matrix": { "model": ["careful", "sloppy"] },
  "run": { "command": ["node", "model.mjs", "--model", "\${model}"], "timeoutSeconds": 60 },
  "result": { "file": "result.json", "passed": "correct" },
  "concurrency": 4,
  "rateLimit": {
    "exitCodes": [75],
    "patterns": ${patternLines('    ')},
    "bufferSeconds": 1
  },
  "seed": 42
}
`;
  const model = `// Stands in for a model API behind a rate-limited endpoint (see quickstart.experiment.json).
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';

const env = process.env;
const item = JSON.parse(env.RESUMABLE_ITEM);
const model = process.argv[process.argv.indexOf('--model') + 1];
// Deterministic per unit (its seed): a resumed run gives the same answers.
let s = Number(env.RESUMABLE_SEED) | 0;
const rand = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0) >>> 0) / 4294967296;

setTimeout(() => {
  // One request of the whole run is answered with a rate limit (the run pauses 8 s).
  if (item.id === 'q-012') {
    try {
      writeFileSync(path.join(env.RESUMABLE_RUN_DIR, 'quickstart-rate-limited'), '', { flag: 'wx' });
      console.error('HTTP 429 Too Many Requests: rate limit exceeded; retry-after: 8');
      process.exit(75);
    } catch {
      // Answered once already.
    }
  }
  const wrong = rand() < (model === 'careful' ? 0.05 : 0.3);
  const answer = item.a + item.b + (wrong ? 1 : 0);
  writeFileSync(env.RESUMABLE_RESULT_FILE, JSON.stringify({ model, answer, correct: answer === item.a + item.b }) + '\\n');
  console.log(\`\${item.id} \${model}: \${item.a} + \${item.b} = \${answer}\`);
}, 200 + Math.floor(Math.random() * 600));
`;
  let questions = '';
  for (let i = 1; i <= 100; i++) {
    const a = (i * 37) % 90;
    const b = (i * 53) % 70;
    questions += JSON.stringify({ id: `q-${String(i).padStart(3, '0')}`, a, b }) + '\n';
  }
  return { 'quickstart.experiment.json': config, 'model.mjs': model, 'questions.jsonl': questions };
}

/** A folder under `parent` that does not exist yet: `base`, `base-2`, `base-3`… */
export function freeFolder(parent: string, base: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!fs.existsSync(path.join(parent, name))) return name;
  }
}

// Python units whose import is slow: a process per unit vs one long-lived worker per slot
// (run.worker), and the worker run vs a raw pipe loop to the same Python serve loop.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { core, fmt, inChild, pair, root, table, tmp, writeExperiment } from './lib.mjs';

const IMPORT_S = 0.3;
const WORK_S = 0.005;
const C = 8;
const PY_PATH = path.join(root, 'workers', 'python');

/** The user's module: an SDK or a model whose import takes 300 ms, and 5 ms of work per unit. */
const EVAL_PY = `import time\ntime.sleep(${IMPORT_S})\ndef evaluate(item):\n    time.sleep(${WORK_S})\n    return {"passed": True}\n`;
const UNIT_PY = `import json, os\nfrom evalmod import evaluate\nr = evaluate(json.loads(os.environ["RESUMABLE_ITEM"]))\nprint(json.dumps(r))\n`;
const WORKER_PY = `from evalmod import evaluate\nfrom resumable_worker import serve\nserve(lambda u: evaluate(u.item))\n`;

function files(dir) {
  fs.writeFileSync(path.join(dir, 'evalmod.py'), EVAL_PY);
  fs.writeFileSync(path.join(dir, 'unit.py'), UNIT_PY);
  fs.writeFileSync(path.join(dir, 'worker.py'), WORKER_PY);
}

export async function child(kind, { n }) {
  const dir = tmp('workers');
  try {
    files(dir);
    if (kind === 'raw') return await rawLoop(dir, n);
    const { Run } = await core();
    const run = kind === 'process' ? { command: ['python3', 'unit.py'] } : { worker: ['python3', 'worker.py'] };
    const { file } = writeExperiment(dir, n, { run, concurrency: C, result: kind === 'process' ? { from: 'stdout' } : {} });
    const t0 = performance.now();
    const s = await new Run({ experiment: file }).run();
    if (s.counts.passed !== n) throw new Error(`${kind}: ${JSON.stringify(s.counts)}`);
    return { ms: performance.now() - t0 };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** C copies of the same worker.py, each sent one unit line at a time and read back: the protocol with no runner. */
async function rawLoop(dir, n) {
  const t0 = performance.now();
  let next = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const p = spawn('python3', ['worker.py'], {
        cwd: dir,
        env: { ...process.env, PYTHONPATH: PY_PATH },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      let buf = '';
      const sendNext = () => {
        if (next >= n) return p.stdin.end();
        const i = next++;
        const id = `u${String(i).padStart(7, '0')}`;
        p.stdin.write(
          JSON.stringify({
            type: 'unit',
            id,
            itemId: id,
            item: { id },
            matrix: {},
            repeat: 1,
            seed: i,
            attempt: 1,
            unitDir: dir,
            resultFile: path.join(dir, 'r.json'),
            deadline: null,
          }) + '\n',
        );
      };
      p.stdout.on('data', (d) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const m = JSON.parse(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
          if (m.type === 'ready' || m.type === 'result') sendNext();
          else reject(new Error(`raw: ${JSON.stringify(m)}`));
        }
      });
      p.on('error', reject);
      p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`raw worker exit ${code}`))));
    });
  await Promise.all(Array.from({ length: C }, one));
  return { ms: performance.now() - t0 };
}

export function run({ quick, log }) {
  const n = quick ? 200 : 5000;
  // A process per unit pays the 300 ms import each time: its rate is steady, so fewer units measure it.
  const nProcess = quick ? 16 : 240;
  const reps = quick ? 1 : 3;
  const vsProcess = pair(
    reps,
    () => inChild('workers', 'worker', { n }),
    () => inChild('workers', 'process', { n: nProcess }),
    (r) => r.ms,
  );
  const workerRate = (n / vsProcess.engine) * 1000;
  const processRate = (nProcess / vsProcess.baseline) * 1000;
  const speedup = workerRate / processRate;
  const vsRaw = pair(
    reps,
    () => inChild('workers', 'worker', { n }),
    () => inChild('workers', 'raw', { n }),
    (r) => r.ms,
  );
  const share = vsRaw.baseline / vsRaw.engine;
  log(
    `workers: ${fmt.rate(workerRate)} on workers vs ${fmt.rate(processRate)} a process per unit (${fmt.ratio(speedup)}); ${fmt.pct(share)} of a raw pipe loop`,
  );
  const results = {
    n,
    nProcess,
    workerMs: vsProcess.engine,
    processMs: vsProcess.baseline,
    speedup,
    rawMs: vsRaw.baseline,
    workerVsRawMs: vsRaw.engine,
    share,
  };
  const md = [
    '## Workers: Python units that load once',
    '',
    `A Python unit whose import takes ${IMPORT_S * 1000} ms (a sleep at import, as an SDK or a model) and whose work takes ${WORK_S * 1000} ms, at concurrency ${C}. Process per unit: \`run.command\` \`python3 unit.py\` (${nProcess.toLocaleString('en-US')} units: its rate is steady). Worker: \`run.worker\` \`python3 worker.py\` with the shipped helper (\`serve\`), ${n.toLocaleString('en-US')} units, each journaled (start, end) and its result written to its unit folder. Raw pipe loop: ${C} copies of the same worker.py, sent one unit line at a time from a bare Node loop and read back, nothing kept. Medians of ${reps} runs.`,
    '',
    table(
      ['figure', 'worker run', 'baseline', 'ratio', 'goal'],
      [
        [
          `throughput vs a process per unit`,
          fmt.rate(workerRate),
          fmt.rate(processRate),
          fmt.ratio(speedup),
          `≥ 20× (${speedup >= 20 ? 'met' : 'missed'})`,
        ],
        [
          `${n.toLocaleString('en-US')} units vs the raw pipe loop`,
          fmt.ms(vsRaw.engine),
          fmt.ms(vsRaw.baseline),
          fmt.pct(share),
          `≥ 80% of raw (${share >= 0.8 ? 'met' : 'missed'})`,
        ],
      ],
    ),
  ].join('\n');
  return { md, results };
}

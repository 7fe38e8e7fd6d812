// Tail read for the tree: parse 1,000 lines appended to a run's journal (what the extension
// does on each change), vs re-reading the whole journal; at two run sizes.
import * as fs from 'node:fs';
import { core, fmt, inChild, median, table, tmp } from './lib.mjs';

export async function child(kind, { n }) {
  const { JournalTail } = await core();
  const dir = tmp('tail');
  try {
    const file = `${dir}/journal.jsonl`;
    const ids = Array.from({ length: n }, (_, i) => `u${String(i).padStart(7, '0')}`);
    const lines = [`{"t":"header","schemaVersion":1,"run":"bench","hash":"h","ts":1}`];
    for (let i = 0; i < n - 500; i++)
      lines.push(`{"t":"start","ts":1,"u":"${ids[i]}","a":1}`, `{"t":"end","ts":2,"u":"${ids[i]}","a":1,"s":"passed","d":3}`);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const tailMs = [];
    const fullMs = [];
    const tail = new JournalTail(file, ids);
    await tail.poll();
    for (let rep = 0; rep < 5; rep++) {
      // 1,000 new lines: 500 units start and end (the last 500 units, in turn each rep).
      const add = [];
      for (let i = n - 500; i < n; i++)
        add.push(
          `{"t":"start","ts":3,"u":"${ids[i]}","a":${rep + 2}}`,
          `{"t":"end","ts":4,"u":"${ids[i]}","a":${rep + 2},"s":"passed","d":3}`,
        );
      fs.appendFileSync(file, add.join('\n') + '\n');
      let t0 = performance.now();
      const bytes = await tail.poll();
      tailMs.push(performance.now() - t0);
      if (bytes <= 0) throw new Error('tail read nothing');
      t0 = performance.now();
      await new JournalTail(file, ids).poll();
      fullMs.push(performance.now() - t0);
    }
    return { tailMs: median(tailMs), fullMs: median(fullMs) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function run({ quick, log }) {
  const sizes = quick ? [1000, 5000] : [10_000, 100_000];
  const r = sizes.map((n) => ({ n, ...inChild('tail', 'measure', { n }) }));
  const growth = r[1].tailMs / r[0].tailMs;
  for (const x of r) log(`tail: ${x.n} units: 1,000 new lines ${fmt.ms(x.tailMs)}, whole journal ${fmt.ms(x.fullMs)}`);
  const md = [
    '## Tail read for the tree',
    '',
    'The extension follows a run with `JournalTail`: each poll reads only the bytes appended since the last one. Here 1,000 lines (500 units starting and ending) are appended to the journal of a run of each size and read by a tail that had read the rest; the baseline re-reads the whole journal. Medians of 5 in one process per size.',
    '',
    table(
      ['run size', 'tail: 1,000 new lines', 're-read whole journal', 're-read / tail'],
      r.map((x) => [x.n.toLocaleString('en-US'), fmt.ms(x.tailMs), fmt.ms(x.fullMs), fmt.ratio(x.fullMs / x.tailMs)]),
    ),
    '',
    `Tail cost at ${r[1].n.toLocaleString('en-US')} units / at ${r[0].n.toLocaleString('en-US')} units: ${fmt.ratio(growth)} for a run ${r[1].n / r[0].n}× larger (goal: independent of run size — ${growth < 2 ? 'met' : 'missed'}).`,
  ].join('\n');
  return { md, results: r, growth };
}

// One measurement in its own process: `node child.mjs <module> <kind> <args json>`; prints one JSON line.
import * as fs from 'node:fs';

const [module, kind, args] = process.argv.slice(2);
const m = await import(new URL(`./${module}.mjs`, import.meta.url));
const out = await m.child(kind, JSON.parse(args));
// Peak resident memory of this process (VmHWM), the figure `time -v` would print.
const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
out.peakRssMB = hwm ? Number(hwm[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);

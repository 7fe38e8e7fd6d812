// `npm test` after build, typecheck and lint: every node:test suite (TypeScript through tsx),
// then the extension inside a real VS Code (scripts/test-vscode.mjs). Args filter node
// suites by substring and skip the VS Code part (for quick local loops).
import { spawn } from 'node:child_process';
import fg from 'fast-glob';

const filters = process.argv.slice(2);
const files = (await fg(['test/**/*.test.ts'], { ignore: ['test/extension/**', 'test/ui/**'] }))
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`No test files match ${filters.join(' ')}`);
  process.exit(1);
}

/** Runs a command, echoing its output, and returns the exit code and what it printed. */
function run(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

const node = await run(['--import', 'tsx', '--test', '--test-concurrency=2', ...files]);
const count = (re, text) => Number(re.exec(text)?.[1] ?? 0);
let passed = count(/^# pass (\d+)/m, node.out);
let failed = count(/^# fail (\d+)/m, node.out) + (node.code !== 0 && !/^# fail [1-9]/m.test(node.out) ? 1 : 0);
if (filters.length === 0) {
  const vscode = await run(['scripts/test-vscode.mjs']);
  passed += count(/^vscode: (\d+) passed/m, vscode.out);
  failed +=
    count(/^vscode: \d+ passed, (\d+) failed/m, vscode.out) +
    (vscode.code !== 0 && !/^vscode: \d+ passed, [1-9]/m.test(vscode.out) ? 1 : 0);
}
console.log(`\ntotal: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && node.code === 0 ? 0 : 1);

// For machines WITH internet and a desktop: runs the extension-host suites in a downloaded
// desktop VS Code via @vscode/test-electron (`node .vscode-test.mjs`). The project's own CI
// has no internet and uses code-server instead (scripts/test-vscode.mjs).
import { runTests } from '@vscode/test-electron';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
await runTests({
  extensionDevelopmentPath: root,
  extensionTestsPath: path.join(root, 'out', 'test', 'extension', 'index.js'),
  launchArgs: [path.join(root, 'test', 'fixtures', 'workspace'), '--disable-extensions'],
  extensionTestsEnv: { RESUMABLE_HOST_SUITE: 'trusted' },
});

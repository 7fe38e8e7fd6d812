// Temp folders of the VS Code tests (workspaces, code-server and Chromium profiles): removed
// when every step passed, kept (and named) when one failed, for its logs and screenshots.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const made = [];

export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function settleTempDirs(allPassed, log) {
  if (allPassed && !process.env.KEEP_TMP) {
    for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
  } else if (made.length > 0) {
    log(`temp folders kept: ${made.join(' ')}`);
  }
}

// Debian's chromium driven by playwright-core: no browser download is possible here, and
// these flags are the ones that work as root on a closed network (no sandbox as root; no
// QUIC, sync, component or background fetches that would only time out).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium } from 'playwright-core';

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A BrowserContext (it has newPage(), like a Browser) over a fresh profile, so no state leaks between tests. */
export async function launchBrowser({ executablePath = '/usr/bin/chromium', viewport = { width: 1400, height: 860 } } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'resumable-chromium-'));
  const context = await chromium.launchPersistentContext(dataDir, { executablePath, headless: true, viewport, args: ARGS });
  profiles.set(context, dataDir);
  return context;
}

const profiles = new WeakMap();

export async function closeBrowser(context) {
  await context.close().catch(() => undefined);
  // Chromium may still be writing its profile as it exits: a leftover temp dir is no failure.
  const dataDir = profiles.get(context);
  if (dataDir) fs.rm(dataDir, { recursive: true, force: true, maxRetries: 3 }, () => undefined);
}

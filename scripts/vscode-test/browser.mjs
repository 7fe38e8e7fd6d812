// Debian's chromium driven by playwright-core (no browser download), with the flags that
// work as root on a closed network.
import { chromium } from 'playwright-core';
import { tempDir } from './tmp.mjs';

export async function launchBrowser() {
  const dataDir = tempDir('resumable-chromium-');
  const context = await chromium.launchPersistentContext(dataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 860 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return context;
}

export async function closeBrowser(context) {
  await context.close().catch(() => undefined);
}

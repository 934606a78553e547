// Real Chromium for the browser tests (jest project `browser`): Debian's chromium package driven
// by playwright-core. `npx playwright install` cannot download a browser on our machines, so the
// browser is the system one at /usr/bin/chromium (.ci/run installs it on a clean machine).
// A missing browser is a failure with the way to fix it, never a skipped test.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps trying to reach Google's hosts, which the
// machines' closed network refuses. playwright-core gives every launch a fresh, temporary
// --user-data-dir of its own (and removes it on close), and adds --headless.
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}; the browser tests need it. ` +
        'Install Debian\'s package as root: `apt-get update && apt-get install -y chromium` ' +
        '(.ci/run does this on CI), or set CHROMIUM_PATH to another Chromium binary.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

/** A port free on 127.0.0.1 right now (a throwaway server's), to put into PUBLIC_URL before listening. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Collects every console error and uncaught page error of a page, to assert there are none.
 * Chromium also reports a document's own 4xx status as a console error ("Failed to load resource:
 * the server responded with a status of 400"); `expected(status, url)` says which of those the
 * test provoked on purpose (a refused form), so that only they are let through.
 */
export function watchErrors(page: Page, into: string[], expected: (status: number, url: string) => boolean = () => false): void {
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const url = m.location().url;
    const status = /^Failed to load resource: the server responded with a status of (\d{3})\b/.exec(m.text());
    if (status && expected(Number(status[1]), url)) return;
    into.push(`console error on ${page.url()}: ${m.text()} (${url})`);
  });
  page.on('pageerror', (e) => into.push(`page error on ${page.url()}: ${e.message}`));
}

// What every console browser test file starts with (issue 11): real Chromium, the server
// listening on 127.0.0.1 on the embedded database, fresh browser contexts watched for console and
// page errors, and the primary admin's sign-in through the pages. One module, so the files keep
// only their journeys.
import { once } from 'node:events';
import http from 'node:http';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { freePort, launchChromium, watchErrors } from './chromium';
import { GOOD_PASSWORD } from './console';
import { Harness, startHarness } from './harness';

/** Where the console's screenshots go when CONSOLE_SCREENSHOTS=1 (docs/console/), else undefined. */
export const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS === '1' ? path.join(__dirname, '../../docs/console') : undefined;

export interface ConsoleSuite {
  h: Harness;
  /** http://127.0.0.1:<port>, also the server's PUBLIC_URL. */
  base: string;
  browser: Browser;
  /** Every console or page error of every page; each test should end with none. */
  errors: string[];
  /** A page in a fresh browser profile (own cookies), `width` px wide. */
  newPage(width?: number, expected?: (status: number, url: string) => boolean): Promise<Page>;
  /** A fresh page signed in through /login with this email and the test password, on /console. */
  signedInPage(email: string, width?: number): Promise<Page>;
  close(): Promise<void>;
}

export async function startConsoleSuite(env: Record<string, string> = {}): Promise<ConsoleSuite> {
  // Chromium first: without it the file fails at once, saying how to install it.
  const browser = await launchChromium();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const h = await startHarness({ env: { PUBLIC_URL: base, ...env } });
  const server = http.createServer(h.app);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];
  const newPage = async (width = 1280, expected?: (status: number, url: string) => boolean) => {
    const context = await browser.newContext({ viewport: { width, height: 800 } });
    contexts.push(context);
    const page = await context.newPage();
    watchErrors(page, errors, expected);
    return page;
  };
  return {
    h,
    base,
    browser,
    errors,
    newPage,
    async signedInPage(email, width = 1280) {
      const page = await newPage(width);
      await page.goto(`${base}/login`);
      await page.getByLabel('Email').fill(email);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('Password').fill(GOOD_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${base}/console`);
      return page;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await h.close();
    },
  };
}

/** How many pixels the page scrolls sideways (0 or less: it fits). */
export const sidewaysOverflow = async (page: Page) => (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;

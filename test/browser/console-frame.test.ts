// The console's frame in real Chromium (issue 11): the primary admin signs in, the overview shows
// the account, the language switch turns the page French and back, the page fits 390 px without
// horizontal scrolling, and axe-core finds no serious or critical violation, in both languages.
import { once } from 'node:events';
import http from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { seriousViolations } from '../support/axe';
import { freePort, launchChromium, watchErrors } from '../support/chromium';
import { activatedBrowser, GOOD_PASSWORD } from '../support/console';
import { createTenant, Harness, startHarness, TestTenant } from '../support/harness';

let h: Harness;
let server: http.Server;
let browser: Browser;
let t: TestTenant;
let base: string;
const errors: string[] = [];
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  h = await startHarness({ env: { PUBLIC_URL: base } });
  server = http.createServer(h.app);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  t = await createTenant(h, 'Frame & Co', `frame-${Date.now() % 100000}@frame.test`);
  await activatedBrowser(h, t.adminEmail);
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await h?.close();
});

afterEach(() => expect(errors.splice(0)).toEqual([]));

async function signedInPage(width = 1280): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  watchErrors(page, errors);
  await page.goto(`${base}/login`);
  await page.getByLabel('Email').fill(t.adminEmail);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password').fill(GOOD_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/console`);
  return page;
}

it('the overview, in English then French, with no serious accessibility violation', async () => {
  const page = await signedInPage();
  expect(await page.locator('h1').textContent()).toBe('Frame & Co');
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Français' }).click();
  await page.waitForURL(`${base}/console`);
  expect(await page.locator('html').getAttribute('lang')).toBe('fr');
  expect(await page.getByRole('button', { name: 'Se déconnecter' }).count()).toBe(1);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'English' }).click();
  expect(await page.locator('html').getAttribute('lang')).toBe('en');
});

it('fits a 390 px phone screen: nothing scrolls sideways', async () => {
  const page = await signedInPage(390);
  const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: '/tmp/provisio-console-overview-390.png', fullPage: true });
});

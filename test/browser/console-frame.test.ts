// The console's frame in real Chromium (issue 11): the primary admin signs in, the overview shows
// the account, the language switch turns the page French and back, the page fits 390 px without
// horizontal scrolling, and axe-core finds no serious or critical violation, in both languages.
import type { Page } from 'playwright-core';
import { seriousViolations } from '../support/axe';
import { activatedBrowser } from '../support/console';
import { ConsoleSuite, sidewaysOverflow, startConsoleSuite } from '../support/console-browser';
import { createTenant, TestTenant } from '../support/harness';

let s: ConsoleSuite;
let t: TestTenant;
let base: string;

beforeAll(async () => {
  s = await startConsoleSuite();
  base = s.base;
  t = await createTenant(s.h, 'Frame & Co', `frame-${Date.now() % 100000}@frame.test`);
  await activatedBrowser(s.h, t.adminEmail);
});
afterAll(async () => s?.close());
afterEach(() => expect(s.errors.splice(0)).toEqual([]));

const signedInPage = (width = 1280): Promise<Page> => s.signedInPage(t.adminEmail, width);

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
  const overflow = await sidewaysOverflow(page);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.screenshot({ path: '/tmp/provisio-console-overview-390.png', fullPage: true });
});

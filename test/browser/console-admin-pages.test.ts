// The console's tenant-administration pages in real Chromium (issue 11): the primary admin visits
// API tokens, audit log, settings, price lists, services, permission profiles and single sign-on;
// creates a token and sees its secret once; creates a price list and makes it the default;
// filters the audit log. axe-core finds no serious or critical violation on any of them, and
// none scrolls sideways at 390 px. With CONSOLE_SCREENSHOTS=1 it saves each page at laptop width
// as docs/console/<page>.png (so CI never rewrites the docs).
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { seriousViolations } from '../support/axe';
import { activatedBrowser } from '../support/console';
import { ConsoleSuite, SCREENSHOTS, sidewaysOverflow, startConsoleSuite } from '../support/console-browser';
import { adminApi, createTenant, Harness, LOOPBACK_IDP_ENV, TestTenant } from '../support/harness';
import { startTestIdp, TestIdp } from '../support/oidc-idp';

let s: ConsoleSuite;
let h: Harness;
let idp: TestIdp;
let t: TestTenant;
let base: string;
const SHOTS = SCREENSHOTS;

const PAGES: Array<[string, string]> = [
  ['tokens', 'API tokens'],
  ['audit', 'Audit log'],
  ['settings', 'Settings'],
  ['price-lists', 'Price lists'],
  ['services', 'Services'],
  ['permission-profiles', 'Permission profiles'],
  ['sso', 'Single sign-on'],
  ['event-streams', 'Event streams'],
];

beforeAll(async () => {
  idp = await startTestIdp();
  s = await startConsoleSuite(LOOPBACK_IDP_ENV);
  ({ h, base } = s);
  t = await createTenant(h, 'Admin Pages Ltd', `pages-${Date.now() % 100000}@pages.test`);
  await activatedBrowser(h, t.adminEmail);
  // Something on each page, for the screenshots and for axe to look at.
  const api = adminApi(h, t);
  await api.post('/services', { key: 'm365', name: 'Microsoft 365 Business', description: 'Mail, Teams and Office' });
  await api.post('/permission-profiles', { key: 'support', name: 'Support desk', permissions: ['support.open', 'servers.view'] });
  await api.post('/sso-connections', { issuer: idp.issuer, clientId: 'provisio-portal', clientSecret: 'secret-0123456789', emailDomains: ['partner-sso.test'] }); // not the admin's domain: their sign-in stays local (the test IdP's pages are never visited)
  await api.patch('/settings', { groupKindRules: [{ kind: 'company', prefix: 'CO-' }] });
  await api.post('/event-streams', { name: 'Product sync', delivery: 'poll', events: ['create', 'patch', 'delete'], form: 'notice' });
});

afterAll(async () => {
  await s?.close();
  await idp?.close();
});

afterEach(() => {
  const e = s.errors.splice(0);
  if (e.length) console.log(h.logs.filter((l) => /"level":(40|50)/.test(l)).slice(-5).join('\n'));
  expect(e).toEqual([]);
});

const signedInPage = (width = 1280): Promise<Page> => s.signedInPage(t.adminEmail, width);

it('every page is in the navigation, renders, and has no serious accessibility violation', async () => {
  const page = await signedInPage();
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });
  for (const [slug, title] of PAGES) {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: title, exact: true }).click();
    await page.waitForURL(`${base}/console/${slug}`);
    expect(await page.locator('h1').textContent()).toBe(title);
    expect([slug, await seriousViolations(page)]).toEqual([slug, []]);
    if (SHOTS) await page.screenshot({ path: path.join(SHOTS, `${slug}.png`), fullPage: true });
  }
  // And in French, one page checked by axe too (the words are longer).
  await page.goto(`${base}/console/sso`);
  await page.getByRole('button', { name: 'Français' }).click();
  await page.waitForURL(`${base}/console/sso`);
  expect(await page.locator('h1').textContent()).toBe('Authentification unique');
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'English' }).click();
  await page.waitForURL(`${base}/console/sso`);
});

it('creates a token and shows its secret once', async () => {
  const page = await signedInPage();
  await page.goto(`${base}/console/tokens`);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Okta provisioning');
  await page.getByLabel('Admin API (including tokens)').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.locator('#token-secret').textContent()) ?? '';
  expect(secret).toMatch(/^pvs_[A-Za-z0-9_-]{43}$/);
  expect(page.url()).not.toContain(secret);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('link', { name: 'Close' }).click();
  await page.waitForURL(`${base}/console/tokens`);
  expect(await page.locator('#token-secret').count()).toBe(0);
  expect(await page.content()).not.toContain(secret);
  expect(await page.getByRole('cell', { name: 'Okta provisioning', exact: true }).count()).toBe(1);
});

it('creates a price list, makes it the default after the list shows it, and finds that in the filtered audit log', async () => {
  const page = await signedInPage();
  await page.goto(`${base}/console/price-lists`);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Gold partners');
  await page.getByRole('button', { name: 'Create price list' }).click();
  await page.waitForURL(/\/console\/price-lists\?notice=/);
  expect(await page.getByRole('status').textContent()).toBe('Price list created.');
  await page.getByRole('button', { name: 'Make default: Gold partners' }).click();
  await page.waitForURL(/notice=price-lists.madeDefault/);
  const gold = page.getByRole('row').filter({ hasText: 'Gold partners' });
  expect(await gold.locator('.pill').textContent()).toBe('default');
  expect(await page.locator('.pill', { hasText: 'default' }).count()).toBe(1);

  await page.goto(`${base}/console/audit`);
  await page.getByLabel('Action (e.g. user.delete)').fill('priceList.update');
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL(/action=priceList.update/);
  const rows = page.locator('tbody tr');
  expect(await rows.count()).toBe(1);
  expect(await rows.first().textContent()).toContain('"default":true');
  expect(await seriousViolations(page)).toEqual([]);
});

it('creates an event stream from the form on a phone, and its page has its polling URL, no serious violation and no sideways scroll', async () => {
  const page = await signedInPage(390);
  await page.goto(`${base}/console/event-streams`);
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('Warehouse');
  await page.getByRole('checkbox', { name: 'Deleted', exact: true }).uncheck();
  await page.getByRole('radio', { name: /^Full:/ }).check();
  await page.getByRole('button', { name: 'Create stream' }).click();
  await page.waitForURL(/\/console\/event-streams\/[0-9a-f-]{36}\?notice=/);
  expect(await page.locator('h1').textContent()).toBe('Event stream “Warehouse”');
  expect((await page.getByRole('status').textContent())?.trim()).toBe('Event stream created.');
  const made = (await adminApi(h, t).get('/event-streams')).body.eventStreams.find((x: { name: string }) => x.name === 'Warehouse');
  expect(made).toMatchObject({ events: ['create', 'put', 'patch', 'activate', 'deactivate'], form: 'full' });
  expect(await page.getByText(made.pollUrl).isVisible()).toBe(true);
  expect(await seriousViolations(page)).toEqual([]);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
});

it('fits a 390 px phone screen on every page: nothing scrolls sideways', async () => {
  const page = await signedInPage(390);
  for (const [slug] of PAGES) {
    await page.goto(`${base}/console/${slug}`);
    expect([slug, (await sidewaysOverflow(page)) <= 0]).toEqual([slug, true]);
  }
});

// The OAuth consent page (http/oauth-authorize.ts) in real Chromium, 390 px wide: an admin sent
// to /oauth/authorize signs in through the front door, lands back on the consent page, which
// axe-core finds without serious or critical violations in English and French and which does not
// scroll sideways; Allow sends the browser to the client's redirect URI with the code and state.
// The redirect URI is this very server's /healthz on its loopback address (Playwright's page.route
// does not see a redirect's target), so the browser never leaves 127.0.0.1.
import type { Page } from 'playwright-core';
import { seriousViolations } from '../support/axe';
import { activatedBrowser, GOOD_PASSWORD } from '../support/console';
import { ConsoleSuite, sidewaysOverflow, startConsoleSuite } from '../support/console-browser';
import { adminApi, createTenant, Harness, LOOPBACK_IDP_ENV, TestTenant } from '../support/harness';

let s: ConsoleSuite;
let h: Harness;
let t: TestTenant;
let base: string;

beforeAll(async () => {
  // LOOPBACK_IDP_ENV: plain-http loopback redirect URIs are accepted (the development setting).
  s = await startConsoleSuite(LOOPBACK_IDP_ENV);
  ({ h, base } = s);
  t = await createTenant(h, 'Consent Corp', `consent-${Date.now() % 100000}@consent.test`);
  await activatedBrowser(h, t.adminEmail);
});

afterAll(async () => {
  await s?.close();
});

afterEach(() => {
  const e = s.errors.splice(0);
  expect(e).toEqual([]);
});

it('signs in on the way, shows an accessible consent page at 390 px in English and French, and Allow returns a code', async () => {
  const callback = `${base}/healthz`;
  const client = (await adminApi(h, t).post('/scim-clients', { name: 'Okta provisioning', scopes: ['scim'], grantType: 'authorization_code', redirectUris: [callback] }).expect(201)).body;
  const page: Page = await s.newPage(390);
  const authorize = `${base}/oauth/authorize?${new URLSearchParams({ response_type: 'code', client_id: client.clientId, redirect_uri: callback, state: 'browser-state', scope: 'scim offline_access' })}`;

  await page.goto(authorize);
  await page.waitForURL(`${base}/login`);
  await page.getByLabel('Email').fill(t.adminEmail);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Password').fill(GOOD_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/oauth/authorize');

  expect(await page.locator('h1').textContent()).toBe('Allow Okta provisioning to provision?');
  await expect(page.getByText('Consent Corp', { exact: false }).first().isVisible()).resolves.toBe(true);
  expect(await seriousViolations(page)).toEqual([]);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);

  await page.getByRole('button', { name: 'Français' }).click();
  await page.waitForURL((u) => u.pathname === '/oauth/authorize');
  expect(await page.locator('h1').textContent()).toBe('Autoriser Okta provisioning à provisionner ?');
  expect(await seriousViolations(page)).toEqual([]);
  expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);

  await page.getByRole('button', { name: 'Autoriser' }).click();
  await page.waitForURL((u) => u.pathname === '/healthz');
  const answer = new URL(page.url()).searchParams;
  expect(answer.get('state')).toBe('browser-state');
  expect(answer.get('iss')).toBe(base);
  expect(answer.get('code')).toMatch(/^pvac_/);
  expect(await page.textContent('body')).toContain('"status":"ok"');
});

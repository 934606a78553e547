// The Sub-accounts, Departments and Companies pages in real Chromium (issue 11): the primary admin
// creates a sub-account (confirming the warning) and its temporary-password email arrives; assigns
// two managed companies with the selector (closing it asks for confirmation); toggles licence
// management; deactivates a department and sees its purge date; no serious or critical axe
// violation on each page, in English and French; nothing scrolls sideways at 390 px. CONSOLE_SCREENSHOTS=1 saves the
// pages' pictures into docs/console/ (generated once and committed; CI leaves docs alone).
import path from 'node:path';
import type { Page } from 'playwright-core';
import { seriousViolations } from '../support/axe';
import { activatedBrowser } from '../support/console';
import { ConsoleSuite, SCREENSHOTS, sidewaysOverflow, startConsoleSuite } from '../support/console-browser';
import { adminApi, createTenant, Harness, TestTenant } from '../support/harness';
import { keptMail } from '../support/web';

let s: ConsoleSuite;
let h: Harness;
let t: TestTenant;
let base: string;
let page: Page;

beforeAll(async () => {
  s = await startConsoleSuite();
  ({ h, base } = s);
  t = await createTenant(h, 'Acme Partners', `owner-${Date.now() % 100000}@acme.test`);
  await activatedBrowser(h, t.adminEmail);
  // One sign-in for the whole file (each costs a password hash): the tests share this page.
  page = await signedInPage();
});
afterAll(async () => s?.close());
afterEach(() => expect(s.errors.splice(0)).toEqual([]));

function signedInPage(width = 1280): Promise<Page> {
  return s.signedInPage(t.adminEmail, width);
}

const sideways = sidewaysOverflow;

async function shot(name: string) {
  if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

it('creates a sub-account, gives it two companies with the selector, toggles licences; the Companies page', async () => {
  const api = adminApi(h, t);
  for (const name of ['Dupont SARL', 'Durand SA', 'Martin & Fils']) expect((await api.post('/companies', { name })).status).toBe(201);
  await page.getByRole('link', { name: 'Sub-accounts' }).click();
  await page.waitForURL(`${base}/console/sub-accounts`);
  expect(await page.locator('#primary-admin-licences').textContent()).toContain('always keeps the right to manage their licences');

  // Create, confirming the warning about the temporary password.
  const email = `chloe-${Date.now() % 100000}@acme.test`;
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Name').fill('Chloé Martin');
  await page.getByRole('button', { name: 'Create the sub-account' }).click();
  await expect(page.locator('.confirm .note').textContent()).resolves.toContain(`An email with a temporary password will be sent to ${email}.`);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Create the sub-account' }).click();
  await page.waitForURL(`${base}/console/sub-accounts?notice=subaccounts.created`);
  await h.deps.later.idle();
  const mail = await keptMail(h, email, 'credentials');
  expect(mail.text).toContain(email);
  expect(mail.text).toMatch(/Password\W+\S{12,}/);

  // Two managed companies: open the selector, tick two, close it, confirm.
  const card = page.locator('li.manager', { hasText: email });
  await card.getByText('Managed companies').click();
  await card.getByLabel('Dupont SARL').check();
  await card.getByLabel('Durand SA').check();
  expect(await card.locator('.chosen').textContent()).toBe('Dupont SARL, Durand SA');
  const asked = new Promise<string>((resolve) =>
    page.once('dialog', (d) => {
      resolve(d.message());
      void d.accept();
    }),
  );
  // Closed from the keyboard (Escape, focus in the list), as a keyboard-only admin would.
  await Promise.all([page.waitForURL(`${base}/console/sub-accounts?notice=subaccounts.companiesSaved`), page.keyboard.press('Escape')]);
  expect(await asked).toContain('Save the companies Chloé Martin manages?');
  const saved = (await api.get('/managers')).body.managers.find((m: { email: string }) => m.email === email);
  expect(saved.companies.map((c: { name: string }) => c.name).sort()).toEqual(['Dupont SARL', 'Durand SA']);

  // Licence management, on.
  const again = page.locator('li.manager', { hasText: email });
  const toggle = again.getByRole('switch', { name: /Can manage licences/ });
  expect(await toggle.getAttribute('aria-checked')).toBe('false');
  await Promise.all([page.waitForURL(`${base}/console/sub-accounts?notice=subaccounts.licencesOn`), toggle.click()]);
  expect(await page.locator('li.manager', { hasText: email }).getByRole('switch').getAttribute('aria-checked')).toBe('true');
  expect((await api.get('/managers')).body.managers.find((m: { email: string }) => m.email === email).canManageLicences).toBe(true);
  expect(await seriousViolations(page)).toEqual([]);
  await shot('sub-accounts');

  await page.getByRole('link', { name: 'Companies' }).click();
  await page.waitForURL(`${base}/console/companies`);
  expect(await page.locator('td', { hasText: 'Martin & Fils' }).count()).toBe(1);
  expect(await seriousViolations(page)).toEqual([]);
  await shot('companies');
});

it('deactivates a department after confirming and shows its purge date', async () => {
  const api = adminApi(h, t);
  const p = (await api.post('/managers', { email: `dept-${Date.now() % 100000}@acme.test`, name: 'Dept member' })).body.id;
  const id = (await api.post('/sub-accounts', { name: 'Lyon office', dailyLimit: 20, members: [p] })).body.id;
  await api.post('/sub-accounts', { name: 'Paris office', monthlyLimit: 500 });
  await page.getByRole('link', { name: 'Departments' }).click();
  await page.waitForURL(`${base}/console/departments`);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('link', { name: 'Edit Lyon office' }).click();
  await page.waitForURL(`${base}/console/departments/${id}`);
  expect(await seriousViolations(page)).toEqual([]);
  await page.getByRole('button', { name: 'Deactivate' }).click();
  expect(await page.locator('h1').textContent()).toBe('Deactivate Lyon office?');
  await page.getByRole('button', { name: 'Deactivate' }).click();
  await page.waitForURL(`${base}/console/departments/${id}?notice=departments.deactivated`);
  const off = (await api.get(`/sub-accounts/${id}`)).body;
  const date = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(off.purgeAt));
  expect(await page.locator('#purge-date').textContent()).toContain(`Will be deleted on ${date}.`);
  expect(await seriousViolations(page)).toEqual([]);
  await page.goto(`${base}/console/departments`);
  expect(await page.locator('tr', { hasText: 'Lyon office' }).textContent()).toContain(`Will be deleted on ${date}.`);
  await shot('departments');
});

it('fits a 390 px phone screen on each page, in English and in French', async () => {
  await page.setViewportSize({ width: 390, height: 800 });
  const titles = { en: ['Sub-accounts', 'Departments', 'Companies'], fr: ['Sous-comptes', 'Départements', 'Sociétés'] };
  for (const lang of ['en', 'fr'] as const) {
    if (lang === 'fr') {
      await page.getByRole('button', { name: 'Français' }).click();
      await page.waitForLoadState();
    }
    for (const [i, p] of ['sub-accounts', 'departments', 'companies'].entries()) {
      await page.goto(`${base}/console/${p}`);
      expect(await page.locator('h1').first().textContent()).toBe(titles[lang][i]);
      expect(await seriousViolations(page)).toEqual([]);
      expect({ page: p, lang, overflow: Math.max(0, await sideways(page)) }).toEqual({ page: p, lang, overflow: 0 });
    }
  }
});

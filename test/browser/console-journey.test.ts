// The scenarios the other console browser files leave out, in real Chromium, with mail through a
// real SMTP sink (test/support/smtp-sink.ts), once in English and once in French: the primary
// admin activates from the emailed link and signs in; creates a sub-account (confirming the
// warning) whose temporary-password email arrives in the sink; a second admin, made and activated
// the same way, cannot touch the primary admin (no form, no actions; a forged request is 403 and
// changes nothing); the primary admin switches to a department they administer and back. Every
// page visited: no serious or critical axe violation, nothing scrolls sideways at 390 px.
// (Companies, licences, users, bulk actions, a department's purge date: console-subaccounts and
// console-users.)
import type { Page } from 'playwright-core';
import { seriousViolations } from '../support/axe';
import { watchErrors } from '../support/chromium';
import { GOOD_PASSWORD } from '../support/console';
import { ConsoleSuite, sidewaysOverflow, startConsoleSuite } from '../support/console-browser';
import { adminApi, createTenant, Harness } from '../support/harness';
import { SmtpSink, startSmtpSink } from '../support/smtp-sink';

let sink: SmtpSink;
let s: ConsoleSuite;
let h: Harness;
let base: string;
const run = Date.now() % 100000;
/** Forged requests this file makes on purpose (the error watcher lets exactly these through). */
const provoked: { status: number; url: string }[] = [];

beforeAll(async () => {
  sink = await startSmtpSink();
  s = await startConsoleSuite({ SMTP_URL: sink.url });
  ({ h, base } = s);
});
afterAll(async () => {
  await s?.close();
  await sink?.close();
});
afterEach(() => expect(s.errors.splice(0)).toEqual([]));

/** A fresh browser profile in this language, at this width. */
async function newPage(lang: 'en' | 'fr', width = 1280): Promise<Page> {
  const context = await s.browser.newContext({ locale: lang === 'fr' ? 'fr-FR' : 'en-GB', viewport: { width, height: 800 } });
  const page = await context.newPage();
  watchErrors(page, s.errors, (status, url) => provoked.some((p) => p.status === status && p.url === url));
  return page;
}

/** The link of this kind in the newest mail to this address (the mail worker run first). */
async function mailTo(address: string, match: RegExp): Promise<string> {
  await h.deps.mail.worker.runOnce();
  const mail = await sink.waitFor((m) => m.to.includes(address) && match.test(m.text));
  return mail.text;
}

/** Activates from the emailed link (a password, the privacy policy accepted), in a browser profile of its own. */
async function activate(email: string, lang: 'en' | 'fr'): Promise<void> {
  const page = await newPage(lang);
  const text = await mailTo(email, /\/activate\?token=/);
  const link = new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/activate\\?token=[A-Za-z0-9_-]+`).exec(text)![0];
  await page.goto(link);
  expect(await seriousViolations(page)).toEqual([]);
  await page.locator('#password').fill(GOOD_PASSWORD);
  await page.locator('input[name=acceptPrivacy]').check();
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/activate')), page.locator('form[action="/activate"] button[type=submit]').click()]);
  await page.context().close();
}

/** Signs in through /login (email, then password) and lands on the console. */
async function signIn(page: Page, email: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.locator('#email').fill(email);
  await page.locator('form button[type=submit]').first().click();
  await page.locator('#password').fill(GOOD_PASSWORD);
  await Promise.all([page.waitForURL(`${base}/console`), page.locator('form button[type=submit]').first().click()]);
}

/** The checks every page gets: axe, and 390 px without sideways scrolling. */
async function checked(page: Page, what: string): Promise<void> {
  expect({ what, violations: await seriousViolations(page) }).toEqual({ what, violations: [] });
  const width = page.viewportSize()!.width;
  await page.setViewportSize({ width: 390, height: 800 });
  expect({ what, overflow: Math.max(0, await sidewaysOverflow(page)) }).toEqual({ what, overflow: 0 });
  await page.setViewportSize({ width, height: 800 });
}

describe.each([
  ['en', { created: 'The sub-account was created.', switchTo: 'Switch', primaryWhy: /primary admin/i, password: /Password\W+\S{12,}/ }],
  ['fr', { created: 'Le sous-compte a été créé.', switchTo: 'Changer', primaryWhy: /administrateur principal/i, password: /Mot de passe\W+\S{12,}/ }],
] as const)('the console journey in %s', (lang, words) => {
  const owner = `owner-${lang}-${run}@journey.test`;
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  let page: Page;

  it('the primary admin activates from the emailed link, signs in, and creates a sub-account whose temporary password arrives by mail', async () => {
    tenant = await createTenant(h, `Journey ${lang.toUpperCase()}`, owner);
    // The organisation's language: its pages and its people's mail (docs/console.md, "Language").
    await adminApi(h, tenant).patch('/settings', { language: lang });
    await activate(owner, lang);
    page = await newPage(lang);
    await signIn(page, owner);
    expect(await page.locator('html').getAttribute('lang')).toBe(lang);
    await checked(page, 'overview');

    await page.goto(`${base}/console/sub-accounts`);
    await checked(page, 'sub-accounts');
    const email = `manager-${lang}-${run}@journey.test`;
    const form = page.locator('form[method=post][action="/console/sub-accounts"]');
    await form.locator('input[name=email]').fill(email);
    await form.locator('input[name=name]').fill(lang === 'fr' ? 'Chloé Martin' : 'Chloe Martin');
    await form.locator('button[type=submit]').click();
    // The warning: a temporary password will be emailed to that address. Confirm.
    await expect(page.locator('.confirm .note').textContent()).resolves.toContain(email);
    await checked(page, 'create confirmation');
    await Promise.all([page.waitForURL(/\/console\/sub-accounts\?notice=/), page.locator('.confirm button[type=submit]').click()]);
    await expect(page.locator('body').innerText()).resolves.toContain(words.created);
    const mail = await mailTo(email, words.password);
    expect(mail).toContain(email);
  });

  it('a second admin cannot touch the primary admin: no form, no actions, and a forged request is refused', async () => {
    const second = `second-${lang}-${run}@journey.test`;
    const created = await adminApi(h, tenant).post('/users', { givenName: 'Second', familyName: 'Admin', email: second, role: 'admin', activation: 'email' });
    expect(created.status).toBe(201);
    await activate(second, lang);
    const other = await newPage(lang);
    await signIn(other, second);
    await other.goto(`${base}/console/users/${tenant.primaryAdminId}`);
    await checked(other, 'the primary admin seen by another admin');
    await expect(other.locator('#primary-why').innerText()).resolves.toMatch(words.primaryWhy);
    expect(await other.locator(`form[action="/console/users/${tenant.primaryAdminId}"]`).count()).toBe(0);
    expect(await other.locator('.person-actions').count()).toBe(0);

    // A request the page never offers, sent anyway with this session: the admin API's 403.
    const csrf = await other.locator('input[name=_csrf]').first().getAttribute('value');
    const url = `${base}/console/users/${tenant.primaryAdminId}/force-logout`;
    provoked.push({ status: 403, url });
    const forged = await other.request.post(url, { form: { _csrf: csrf!, confirm: 'yes' }, maxRedirects: 0 });
    expect(forged.status()).toBe(403);
    // The primary admin is still signed in: their console still answers.
    await page.goto(`${base}/console`);
    expect(page.url()).toBe(`${base}/console`);
    await other.context().close();
  });

  it('switches to a department the primary admin administers, and back', async () => {
    const dept = await adminApi(h, tenant).post('/sub-accounts', { name: `Dept ${lang} ${run}`, admins: [tenant.primaryAdminId] });
    expect(dept.status).toBe(201);
    await page.goto(`${base}/console`);
    const switcher = page.locator('#account-switcher');
    expect(await switcher.locator('option').count()).toBe(2);
    await checked(page, 'overview with the account switcher');
    await switcher.selectOption(dept.body.id);
    await Promise.all([page.waitForURL(/\/console/), page.getByRole('button', { name: words.switchTo, exact: true }).click()]);
    expect(await page.locator('#account-switcher').inputValue()).toBe(dept.body.id);
    // Working in the department: the tenant-wide pages are not in the navigation.
    expect(await page.locator('nav a[href="/console/settings"]').count()).toBe(0);
    await checked(page, 'the department');
    await page.locator('#account-switcher').selectOption({ label: `Journey ${lang.toUpperCase()}` });
    await Promise.all([page.waitForURL(/\/console/), page.getByRole('button', { name: words.switchTo, exact: true }).click()]);
    expect(await page.locator('#account-switcher').inputValue()).not.toBe(dept.body.id);
    expect(await page.locator('nav a[href="/console/settings"]').count()).toBe(1);
  });
});

// The front door's pages in real Chromium (Debian's, driven by playwright-core) against a real
// listening server on the embedded database, with mail through a real SMTP sink: activation by the
// emailed link, sign-in, sign-out, the admin API's force logout, the primary admin's console; the
// same in French (issue 11), "use this password", axe-core on the main pages, and 390 px with a
// long email. The pages run only our own script files (`script-src 'self'`, none inline) and the
// browser reports no console or page error. The tests run in order and share the people they activate.
import { once } from 'node:events';
import http from 'node:http';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { seriousViolations } from '../support/axe';
import { freePort, launchChromium, watchErrors } from '../support/chromium';
import { createTenant, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';
import { startSmtpSink, SmtpSink } from '../support/smtp-sink';

const GENERIC = 'The email or password is not right, or this account cannot sign in with a password yet.';
const SCREENSHOT = '/tmp/provisio-activation-page.png';

let sink: SmtpSink;
let h: Harness;
let server: http.Server;
let browser: Browser;
let t: TestTenant;
let base: string;
/** Every console or page error of every page; each test ends with none. */
const errors: string[] = [];
/** The Content-Security-Policy of every document the browser loaded. */
const documents: { url: string; status: number; csp: string | undefined }[] = [];
const contexts: BrowserContext[] = [];
/** Error statuses a test provokes on purpose (a refused form); Chromium logs them as console errors. */
const provoked: { status: number; url: string }[] = [];

beforeAll(async () => {
  // Chromium first: without it the suite fails at once with how to install it.
  browser = await launchChromium();
  sink = await startSmtpSink();
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  h = await startHarness({ env: { PUBLIC_URL: base, SMTP_URL: sink.url } });
  server = http.createServer(h.app);
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  t = await createTenant(h, 'Acme', 'owner@acme.test');
});

afterAll(async () => {
  await browser?.close();
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await h?.close();
  await sink?.close();
});

afterEach(() => {
  expect(errors.splice(0)).toEqual([]);
});

/** A fresh browser profile's page (own cookies), watched for errors and for its documents' CSP. */
async function newPage(o: { locale?: string; width?: number } = {}): Promise<Page> {
  const context = await browser.newContext({ locale: o.locale ?? 'en-GB', viewport: { width: o.width ?? 1280, height: 800 } });
  contexts.push(context);
  const page = await context.newPage();
  watchErrors(
    page,
    errors,
    // /favicon.ico answers 204 (server/app.ts), so no allowance is needed for it.
    (status, url) => provoked.some((p) => p.status === status && p.url === url),
  );
  page.on('response', (r: Response) => {
    if (r.request().resourceType() === 'document') documents.push({ url: r.url(), status: r.status(), csp: r.headers()['content-security-policy'] });
  });
  return page;
}

/** Runs the mail worker and returns the activation link mailed to this address. */
async function activationLink(address: string): Promise<string> {
  await h.deps.mail.worker.runOnce();
  const mail = await sink.waitFor((m) => m.to.includes(address) && m.text.includes('/activate?token='));
  const m = new RegExp(`${base.replace(/[.:/]/g, '\\$&')}/activate\\?token=[A-Za-z0-9_-]+`).exec(mail.text);
  if (!m) throw new Error(`the activation mail to ${address} has no ${base}/activate link: ${mail.text}`);
  return m[0];
}

/** Submits a form with this button and expects the server to refuse it with this status (and a page). */
async function refused(page: Page, button: string, path: string, status: number): Promise<void> {
  provoked.push({ status, url: base + path });
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url() === base + path && r.request().method() === 'POST'),
    page.getByRole('button', { name: button }).click(),
  ]);
  expect(res.status()).toBe(status);
  await page.waitForURL(base + path);
}

const people: { ada?: { id: string; password: string } } = {};

describe('the front door in Chromium', () => {
  it('activation by the emailed link: the page, a refused password, then the account; sign out', async () => {
    const res = await scim(h, t).post('/Users', { schemas: [USER], userName: 'ada@acme.test', name: { givenName: 'Ada', familyName: 'Lovelace' } });
    expect(res.status).toBe(201);
    const link = await activationLink('ada@acme.test');

    const page = await newPage();
    const shown = await page.goto(link);
    expect(shown?.status()).toBe(200);
    await expect(page.title()).resolves.toMatch(/Activate your account/);
    await expect(page.locator('main').innerText()).resolves.toContain('ada@acme.test');
    const suggestion = (await page.locator('#suggested').innerText()).trim();
    expect(suggestion.length).toBeGreaterThanOrEqual(12);
    const privacy = page.getByRole('checkbox', { name: /privacy policy/i });
    expect(await privacy.isVisible()).toBe(true);
    expect(await privacy.isChecked()).toBe(false);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(await seriousViolations(page)).toEqual([]);

    // A common password: the page comes back with a readable error and the link still works.
    await page.getByLabel('New password').fill('password1234');
    await privacy.check();
    await refused(page, 'Activate', '/activate', 400);
    // Said beside the field, which points at it (aria-describedby) and is marked invalid.
    const error = page.locator('#password-error');
    expect(await error.isVisible()).toBe(true);
    expect(await error.innerText()).toMatch(/too common/i);
    expect(await page.getByLabel('New password').getAttribute('aria-invalid')).toBe('true');

    // The privacy box stays ticked after the error; the password field is empty.
    expect(await page.getByRole('checkbox', { name: /privacy policy/i }).isChecked()).toBe(true);
    expect(await page.getByLabel('New password').inputValue()).toBe('');
    // "Use this password": the script puts the suggestion into the field (the server would take it anyway).
    const good = (await page.locator('#suggested').innerText()).trim();
    await page.getByRole('checkbox', { name: 'Use this password' }).check();
    expect(await page.getByLabel('New password').inputValue()).toBe(good);
    await Promise.all([page.waitForURL(`${base}/account`), page.getByRole('button', { name: 'Activate' }).click()]);
    const account = await page.locator('main').innerText();
    expect(account).toContain('Your account');
    expect(account).toContain('ada@acme.test');
    expect(account).toContain('Acme');
    expect(account).toContain('Ada Lovelace');
    expect(account).toMatch(/Language\s+English/);
    expect(await seriousViolations(page)).toEqual([]);
    people.ada = { id: res.body.id, password: good };

    await Promise.all([page.waitForURL(`${base}/login`), page.getByRole('button', { name: 'Sign out' }).click()]);
    expect(await page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    // Signed out for real: the account page sends us back.
    await page.goto(`${base}/account`);
    expect(page.url()).toBe(`${base}/login`);
  });

  it('sign in: email, then password; a wrong one gets the generic error; force logout ends the session', async () => {
    const ada = people.ada!;
    expect(ada).toBeDefined();
    const page = await newPage();
    await page.goto(`${base}/login`);
    expect(await seriousViolations(page)).toEqual([]);
    expect(await page.getByLabel('Password').count()).toBe(0);
    await page.getByLabel('Email').fill('ada@acme.test');
    await page.getByRole('button', { name: 'Continue' }).click();
    const password = page.getByLabel('Password');
    await password.waitFor({ state: 'visible' });
    expect(await page.getByLabel('Email').inputValue()).toBe('ada@acme.test');

    await password.fill('not-the-password-at-all');
    await refused(page, 'Sign in', '/login/password', 401);
    expect((await page.getByRole('alert').innerText()).trim()).toBe(GENERIC);

    await page.getByLabel('Password').fill(ada.password);
    await Promise.all([page.waitForURL(`${base}/account`), page.getByRole('button', { name: 'Sign in' }).click()]);
    expect(await page.locator('main').innerText()).toContain('ada@acme.test');

    const out = await h.http.post(`/api/v1/users/${ada.id}/force-logout`).set('Authorization', `Bearer ${t.token}`).send({});
    expect(out.status).toBeLessThan(300);
    await page.reload();
    expect(page.url()).toBe(`${base}/login`);
    expect(await page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
  });

  it('the primary admin activates from the emailed link and lands on the console', async () => {
    const link = await activationLink('owner@acme.test');
    const page = await newPage();
    await page.goto(link);
    await expect(page.locator('main').innerText()).resolves.toContain('owner@acme.test');
    await page.getByLabel('New password').fill((await page.locator('#suggested').innerText()).trim());
    await page.getByRole('checkbox', { name: /privacy policy/i }).check();
    await Promise.all([page.waitForURL(`${base}/console`), page.getByRole('button', { name: 'Activate' }).click()]);
    expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Acme');
    expect(await page.locator('main').innerText()).toContain('owner@acme.test');
  });

  it('in French: activation from the emailed link and sign-in, with the browser asking for French', async () => {
    const res = await scim(h, t).post('/Users', { schemas: [USER], userName: 'lea@acme.test', name: { givenName: 'Léa', familyName: 'Martin' } });
    expect(res.status).toBe(201);
    const link = await activationLink('lea@acme.test');
    const page = await newPage({ locale: 'fr-FR' });
    await page.goto(link);
    await expect(page.title()).resolves.toMatch(/Activer votre compte/);
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await page.getByLabel('Nouveau mot de passe').fill('password1234');
    await page.getByRole('checkbox', { name: /politique de confidentialité/i }).check();
    await refused(page, 'Activer', '/activate', 400);
    expect(await page.locator('#password-error').innerText()).toMatch(/trop courant/);
    // Without typing: "Utiliser ce mot de passe".
    const good = (await page.locator('#suggested').innerText()).trim();
    await page.getByRole('checkbox', { name: 'Utiliser ce mot de passe' }).check();
    await Promise.all([page.waitForURL(`${base}/account`), page.getByRole('button', { name: 'Activer' }).click()]);
    const account = await page.locator('main').innerText();
    expect(account).toContain('Votre compte');
    expect(account).toMatch(/Langue\s+Français/);
    await Promise.all([page.waitForURL(`${base}/login`), page.getByRole('button', { name: 'Se déconnecter' }).click()]);

    await page.getByLabel('Adresse e-mail').fill('lea@acme.test');
    await page.getByRole('button', { name: 'Continuer' }).click();
    await page.getByLabel('Mot de passe').waitFor({ state: 'visible' });
    await page.getByLabel('Mot de passe').fill('pas-le-bon-mot-de-passe');
    await refused(page, 'Se connecter', '/login/password', 401);
    expect(await page.getByRole('alert').innerText()).toMatch(/L’adresse e-mail ou le mot de passe est incorrect/);
    await page.getByLabel('Mot de passe').fill(good);
    await Promise.all([page.waitForURL(`${base}/account`), page.getByRole('button', { name: 'Se connecter' }).click()]);
    expect(await seriousViolations(page)).toEqual([]);

    // The footer switch turns the pages English for this browser.
    await Promise.all([page.waitForURL(`${base}/account`), page.getByRole('button', { name: 'English' }).click()]);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('main').innerText()).toContain('Your account');
  });

  it('390 px with a long email: nothing scrolls sideways on activation, sign-in and the account page', async () => {
    const email = `maximiliana.lengthy-surname-hyphenated.${'x'.repeat(20)}@departement-communication.filiale-europeenne.acme.test`;
    const res = await scim(h, t).post('/Users', { schemas: [USER], userName: email, name: { givenName: 'Maximiliana', familyName: 'Lengthy-Surname-Hyphenated' } });
    expect(res.status).toBe(201);
    const link = await activationLink(email);
    const page = await newPage({ width: 390 });
    // An expression string: this file type-checks without the DOM library.
    const overflow = async () => (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    await page.goto(link);
    expect(await overflow()).toBe(0);
    await page.getByRole('checkbox', { name: 'Use this password' }).check();
    const password = await page.getByLabel('New password').inputValue();
    await page.getByRole('checkbox', { name: /privacy policy/i }).check();
    await Promise.all([page.waitForURL(`${base}/account`), page.getByRole('button', { name: 'Activate' }).click()]);
    expect(await page.locator('main').innerText()).toContain(email);
    expect(await overflow()).toBe(0);
    await page.screenshot({ path: '/tmp/provisio-account-390.png', fullPage: true });
    await Promise.all([page.waitForURL(`${base}/login`), page.getByRole('button', { name: 'Sign out' }).click()]);
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('Password').fill(password);
    expect(await overflow()).toBe(0);
  });

  it('the pages run only our own scripts: every document allows script-src self, none inline', async () => {
    expect(documents.length).toBeGreaterThanOrEqual(10);
    // Redirects (the language switch's 303) are not pages.
    for (const d of documents.filter((x) => x.status < 300 || x.status >= 400)) {
      const directives = (d.csp ?? '').split(';');
      expect({ url: d.url, scripts: directives.filter((x) => x.startsWith('script-src')) }).toEqual({ url: d.url, scripts: ["script-src 'self'", "script-src-attr 'none'"] });
    }
    for (const context of contexts) {
      for (const page of context.pages()) {
        const sources = await page.locator('script').evaluateAll((list) => list.map((s) => ({ src: s.getAttribute('src'), inline: (s.textContent ?? '').trim().length })));
        for (const s of sources) expect(s).toEqual({ src: expect.stringMatching(/^\/assets\/(front-door|console)\.js$/), inline: 0 });
      }
    }
  });
});

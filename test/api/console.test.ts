// The console's frame (issue 11): who may enter, the account they work in and the switcher, the
// language (switch, person, tenant, browser), CSRF on every change, errors as pages in the
// person's language, and the pages' answers coming from the admin API (admin-client.ts). Runs on
// PGlite and PostgreSQL; the pages themselves are tested in their own files and in Chromium.
import { browser } from '../support/browser';
import { activatedBrowser, primaryAdmin, signedIn } from '../support/console';
import { adminApi, createTenant, Harness, PROVISIO_GROUP, scim, startHarness, TestTenant, USER, GROUP } from '../support/harness';

let h: Harness;
let t: TestTenant;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme Partners', `owner-${Date.now() % 100000}@acme.test`);
});
afterAll(async () => h.close());

async function subAccount(name: string, adminIds: string[] = [], memberIds: string[] = adminIds): Promise<string> {
  const res = await scim(h, t).post('/Groups', {
    schemas: [GROUP, PROVISIO_GROUP],
    displayName: name,
    members: memberIds.map((value) => ({ value })),
    [PROVISIO_GROUP]: { kind: 'subAccount', admins: adminIds.map((value) => ({ value })) },
  });
  if (res.status !== 201) throw new Error(`sub-account: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function pendingUser(extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `person${++seq}-${Date.now() % 100000}@acme.test`;
  const res = await scim(h, t).post('/Users', { schemas: [USER], userName: email, ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

describe('who may enter the console', () => {
  it('nobody signed in goes to /login; a signed-in admin sees the account they work in', async () => {
    const anon = await browser(h.app).get('/console');
    expect(anon.status).toBe(303);
    expect(anon.headers.location).toBe('/login');
    const b = await primaryAdmin(h, t);
    const page = await b.get('/console');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.text).toContain('Acme Partners');
    expect(page.text).toContain('<html lang="en">');
    // The frame of every page: the language switch and sign-out carry the CSRF token.
    expect(page.text).toMatch(/action="\/language"[\s\S]*name="_csrf"/);
  });

  it('a person who administers nothing goes to their account page', async () => {
    const p = await pendingUser();
    const b = await activatedBrowser(h, p.email);
    const res = await b.get('/console');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account');
  });

  it('counts only what the account they work in holds: a sub-account admin sees their sub-account, not the tenant', async () => {
    const boss = await pendingUser();
    const inside = await pendingUser();
    await pendingUser(); // elsewhere in the tenant
    await subAccount(`Dept ${seq}`, [boss.id], [boss.id, inside.id]);
    const b = await activatedBrowser(h, boss.email);
    const page = await b.get('/console');
    expect(page.status).toBe(200);
    expect(page.text).toContain(`Dept ${seq - 2}`.replace(/\d+$/, String(seq)));
    // 2 users in the sub-account (the admin and the member); the tenant has more.
    const figures = [...page.text.matchAll(/class="figure">(\d+)</g)].map((m) => Number(m[1]));
    expect(figures[0]).toBe(2);
    const tenantTotal = (await adminApi(h, t).get('/users?count=1')).body.totalResults;
    expect(tenantTotal).toBeGreaterThan(2);
  });
});

describe('the account switcher', () => {
  it('switches to an account the person administers, remembers it for the next sign-in, and refuses one they do not', async () => {
    const b = await signedIn(h, t.adminEmail);
    const me = (await adminApi(h, t).get(`/users?q=${encodeURIComponent(t.adminEmail)}`)).body.users[0];
    const dept = await subAccount(`Branch ${++seq}`, [me.id]);
    const other = await subAccount(`Elsewhere ${++seq}`);
    let page = await b.get('/console');
    expect(page.text).toContain(`Branch ${seq - 1}`);
    expect(page.text).toMatch(/id="account-switcher"/);

    const refused = await b.post('/console/switch', { accountId: other });
    expect(refused.status).toBe(404);

    const switched = await b.post('/console/switch', { accountId: dept });
    expect(switched.status).toBe(303);
    page = await b.get(switched.headers.location);
    expect(page.text).toMatch(new RegExp(`<option value="${dept}" selected>`));
    expect(page.text).toContain('You are now working in this account.');

    // The next sign-in starts in the sub-account they last worked in.
    const again = await signedIn(h, t.adminEmail);
    const landing = await again.get('/console');
    expect(landing.text).toMatch(new RegExp(`<option value="${dept}" selected>`));
    // And the admin API with that session is bound to the sub-account too.
    const me2 = await again.me();
    expect(me2.body.account).toBe(dept);
    // Back to the tenant.
    await again.post('/console/switch', { accountId: t.id });
    expect((await again.me()).body.account).toBe(t.id);
  });

  it('a change without the CSRF token changes nothing and answers a page, not JSON', async () => {
    const s = await signedIn(h, t.adminEmail);
    const before = (await s.me()).body.account;
    const res = await s.agent.post('/console/switch').type('form').send(`accountId=${t.id}`);
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('The form has expired');
    expect((await s.me()).body.account).toBe(before);
  });
});

describe('the language', () => {
  it('follows the footer switch, else the person, else the tenant, else the browser', async () => {
    const fr = await pendingUser({ preferredLanguage: 'fr-CA' });
    const en = await pendingUser();
    const group = await subAccount(`Équipe ${++seq}`, [fr.id, en.id]);
    expect(group).toBeTruthy();
    const b = await activatedBrowser(h, fr.email);
    let page = await b.get('/console');
    expect(page.text).toContain('<html lang="fr">');
    expect(page.text).toContain('Se déconnecter');
    expect(page.headers['content-language']).toBe('fr');

    // The switch outranks the person's own language, for this browser.
    const back = await b.post('/language', { lang: 'en', back: '/console' });
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe('/console');
    page = await b.get('/console');
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('Sign out');

    // A person with no language of their own: the browser's Accept-Language.
    const c = await activatedBrowser(h, en.email);
    const fromBrowser = await c.agent.get('/console').set('Accept-Language', 'fr-FR,fr;q=0.9,en;q=0.5');
    expect(fromBrowser.text).toContain('<html lang="fr">');
    const english = await c.agent.get('/console').set('Accept-Language', 'de-DE,en;q=0.5');
    expect(english.text).toContain('<html lang="en">');
  });

  it('the switch never sends the browser to another site', async () => {
    const b = browser(h.app);
    await b.get('/login');
    for (const back of ['//evil.example/x', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)']) {
      const res = await b.post('/language', { lang: 'fr', back });
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/login');
    }
  });

  it('the tenant’s language applies to people who state none', async () => {
    const other = await createTenant(h, 'Société Test', `chef-${Date.now() % 100000}@societe.test`);
    expect((await adminApi(h, other).patch('/settings', { language: 'fr' })).status).toBe(200);
    const b = await primaryAdmin(h, other);
    const page = await b.agent.get('/console').set('Accept-Language', 'en');
    expect(page.text).toContain('<html lang="fr">');
    expect(page.text).toContain('Vue d’ensemble');
  });
});

describe('errors are pages', () => {
  it('an unknown console page is a 404 page in the person’s language, inside the frame', async () => {
    const b = await signedIn(h, t.adminEmail);
    const res = await b.get('/console/no-such-page');
    expect(res.status).toBe(404);
    expect(res.text).toContain('Page not found');
    expect(res.text).toContain('action="/logout"');
  });

  it('the console serves its own script from our origin only (CSP script-src self), other pages none', async () => {
    const b = await signedIn(h, t.adminEmail);
    const page = await b.get('/console');
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
    // The front door's pages load their own script too (public/front-door.js); other answers none.
    const login = await browser(h.app).get('/login');
    expect(login.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect((await h.http.get('/healthz')).headers['content-security-policy']).toMatch(/script-src 'none'/);
    const js = await b.get('/assets/console.js');
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
  });
});

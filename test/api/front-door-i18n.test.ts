// The front door in French and English (issue 11): the language of a page (the footer switch's
// cookie, else the person's or their tenant's, else Accept-Language), "use this password" without
// JavaScript, what was typed kept after an error (never a password), people kept out told why and
// whom to contact, and the tenant's own privacy policy. Runs on PGlite and PostgreSQL.
import { browser, Browser, linkToken } from '../support/browser';
import { activatedBrowser, GOOD_PASSWORD } from '../support/console';
import { adminApi, createTenant, Harness, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';
import { keptMail } from '../support/web';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const FR = { 'Accept-Language': 'fr-FR,fr;q=0.9,en;q=0.5' };
const EN = { 'Accept-Language': 'en-GB,en;q=0.9' };

let h: Harness;
let t: TestTenant;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme', 'owner@acme.test');
});
afterAll(async () => {
  await h.close();
});

async function provision(tenant: TestTenant, extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `person${++seq}@${tenant === t ? 'acme.test' : 'other.test'}`;
  const res = await scim(h, tenant).post('/Users', { schemas: [USER], userName: email, name: { givenName: 'Ada', familyName: 'Lovelace' }, ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

async function activationToken(email: string): Promise<string> {
  await h.deps.later.idle();
  return linkToken((await keptMail(h, email, 'activation')).text, '/activate');
}

/** The suggested password a page offers (the hidden field "Use this password" sends back). */
const suggestionOf = (html: string) => /name="suggestion" value="([^"]+)"/.exec(html)![1];
const lang = (res: { text: string; headers: Record<string, string> }) => ({ html: /<html lang="(\w+)">/.exec(res.text)?.[1], header: res.headers['content-language'] });

describe('the language of a page', () => {
  it('anonymous pages follow Accept-Language, and the footer switch (a cookie) outranks it', async () => {
    const fr = browser(h.app, { headers: FR });
    const page = await fr.get('/login');
    expect(lang(page)).toEqual({ html: 'fr', header: 'fr' });
    expect(page.text).toContain('Connexion');
    expect(page.text).toContain('Adresse e-mail');
    expect(page.headers.vary).toMatch(/Accept-Language/);
    expect(lang(await browser(h.app, { headers: EN }).get('/login'))).toEqual({ html: 'en', header: 'en' });
    expect(lang(await browser(h.app, { headers: { 'Accept-Language': 'de' } }).get('/forgot-password'))).toEqual({ html: 'en', header: 'en' });

    // The switch in the footer: English for this browser from now on, whatever it asks for.
    const switched = await fr.post('/language', { lang: 'en', back: '/forgot-password' });
    expect(switched.status).toBe(303);
    expect(switched.headers.location).toBe('/forgot-password');
    const after = await fr.get('/forgot-password');
    expect(lang(after)).toEqual({ html: 'en', header: 'en' });
    expect(after.text).toContain('Forgot your password');
  });

  it("a link's pages speak the person's language, else their tenant's; the switch still wins", async () => {
    const p = await provision(t, { preferredLanguage: 'fr-CA' });
    const token = await activationToken(p.email);
    const b = browser(h.app, { headers: EN });
    const page = await b.get(`/activate?token=${token}`);
    expect(lang(page)).toEqual({ html: 'fr', header: 'fr' });
    expect(page.text).toContain('Activer votre compte');
    expect(page.text).toContain(`Vous activez le compte ${p.email}`);
    // The switch on this page comes back to it (the link's address), in English now.
    expect(page.text).toContain(`name="back" value="/activate?token=${token}"`);
    await b.post('/language', { lang: 'en', back: `/activate?token=${token}` });
    expect(lang(await b.get(`/activate?token=${token}`)).html).toBe('en');

    // A tenant whose language is French: its people without a language of their own read French.
    const other = await createTenant(h, 'Société', `chef-${seq}@other.test`);
    expect((await adminApi(h, other).patch('/settings', { language: 'fr' })).status).toBe(200);
    const q = await provision(other);
    const theirs = await browser(h.app, { headers: EN }).get(`/activate?token=${await activationToken(q.email)}`);
    expect(lang(theirs).html).toBe('fr');
  });

  it("a signed-in person's pages follow their language, and the account page names it in words", async () => {
    const p = await provision(t, { preferredLanguage: 'fr' });
    await h.deps.later.idle();
    const b = await activatedBrowser(h, p.email);
    const account = await b.get('/account');
    expect(account.status).toBe(200);
    expect(lang(account)).toEqual({ html: 'fr', header: 'fr' });
    expect(account.text).toContain('Votre compte');
    expect(account.text).toMatch(/Langue<\/th><td>Français<\/td>/);
    expect(account.text).not.toContain('—');

    const q = await provision(t);
    const c = await activatedBrowser(h, q.email);
    const english = await c.get('/account');
    expect(english.text).toMatch(/Language<\/th><td>English<\/td>/);
  });

  it('errors are in the page language too: a refused password beside its field, in French', async () => {
    const p = await provision(t, { preferredLanguage: 'fr' });
    const token = await activationToken(p.email);
    const b = browser(h.app);
    await b.get(`/activate?token=${token}`);
    const weak = await b.post('/activate', { token, password: 'password1234', acceptPrivacy: 'yes' });
    expect(weak.status).toBe(400);
    expect(weak.text).toMatch(/<p class="field-error" id="password-error">Ce mot de passe est trop courant/);
    const expired = await browser(h.app, { headers: FR }).post('/forgot-password', { email: 'x@acme.test' }, { csrf: false });
    expect(expired.status).toBe(403);
    expect(expired.text).toContain('Le formulaire a expiré');
  });
});

describe('use this password; what was typed stays', () => {
  it('activation with "Use this password" and no typed password: the suggestion becomes the password', async () => {
    const p = await provision(t);
    const token = await activationToken(p.email);
    const b = browser(h.app);
    const page = await b.get(`/activate?token=${token}`);
    const suggested = suggestionOf(page.text);
    expect(suggested.length).toBeGreaterThanOrEqual(12);
    expect(page.text).toMatch(/<input type="checkbox" name="useSuggestion" value="yes"[^>]*>\s*<span>Use this password<\/span>/);
    const done = await b.post('/activate', { token, password: '', useSuggestion: 'yes', suggestion: suggested, acceptPrivacy: 'yes' });
    expect(done.status).toBe(303);
    expect((await browser(h.app).signIn(p.email, suggested)).status).toBe(303);
  });

  it('after an error the form keeps the privacy box and the email typed, never the password', async () => {
    const p = await provision(t);
    const token = await activationToken(p.email);
    const b = browser(h.app);
    await b.get(`/activate?token=${token}`);
    const typed = 'password1234';
    const refused = await b.post('/activate', { token, password: typed, acceptPrivacy: 'yes' });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/name="acceptPrivacy" value="yes" required checked/);
    expect(refused.text).not.toContain(typed);
    // Neither a typed password nor the box: said beside the field.
    const empty = await b.post('/activate', { token, password: '' });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain('Enter a password, or tick “Use this password”.');
    expect(empty.text).not.toMatch(/required checked/);
    // No privacy acceptance: said beside its box, and the link still works.
    const noPolicy = await b.post('/activate', { token, password: GOOD_PASSWORD });
    expect(noPolicy.text).toMatch(/id="privacy-error">Please accept the privacy policy/);
    expect(noPolicy.text).not.toContain(GOOD_PASSWORD);

    const login = browser(h.app);
    await login.get('/login');
    const bad = await login.post('/login', { email: 'Not An Email' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('value="Not An Email"');
    expect(bad.text).toMatch(/id="email-error">Enter your email address/);
    await login.get('/forgot-password');
    const forgot = await login.post('/forgot-password', { email: 'ada@' });
    expect(forgot.status).toBe(400);
    expect(forgot.text).toContain('value="ada@"');
  });

  it('a password change and a reset honour "Use this password" too; a wrong current password is said beside its field', async () => {
    const p = await provision(t);
    await h.deps.later.idle();
    const b = await activatedBrowser(h, p.email);
    const page = await b.get('/account/password');
    const suggested = suggestionOf(page.text);
    const wrong = await b.post('/account/password', { current: 'not-my-password-at-all', password: '', useSuggestion: 'yes', suggestion: suggested });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toMatch(/id="current-error">Your current password is not right/);
    const changed = await b.post('/account/password', { current: GOOD_PASSWORD, password: '', useSuggestion: 'yes', suggestion: suggested });
    expect(changed.status).toBe(303);
    expect((await browser(h.app).signIn(p.email, suggested)).status).toBe(303);

    const f = browser(h.app);
    await f.get('/forgot-password');
    expect((await f.post('/forgot-password', { email: p.email })).status).toBe(200);
    await h.deps.later.idle();
    const reset = linkToken((await keptMail(h, p.email, 'password-reset')).text, '/reset-password');
    const r = browser(h.app);
    const resetPage = await r.get(`/reset-password?token=${reset}`);
    const next = suggestionOf(resetPage.text);
    expect(next).not.toBe(suggested);
    expect((await r.post('/reset-password', { token: reset, password: '', useSuggestion: 'yes', suggestion: next })).status).toBe(303);
    expect((await browser(h.app).signIn(p.email, next)).status).toBe(303);
  });
});

describe('kept out: why, and whom to contact, in their language', () => {
  const deactivate = (id: string) => scim(h, t).patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });

  it('a deactivated person with the right password is told why in French; a wrong password or an unknown email gets the generic words', async () => {
    const p = await provision(t, { preferredLanguage: 'fr' });
    await h.deps.later.idle();
    await activatedBrowser(h, p.email);
    expect((await deactivate(p.id)).status).toBe(200);

    const right = await browser(h.app, { headers: EN }).signIn(p.email, GOOD_PASSWORD);
    expect(right.status).toBe(401);
    expect(lang(right).html).toBe('fr');
    expect(right.text).toContain('Votre compte chez Acme est désactivé');
    expect(right.text).toContain('contactez un administrateur de Acme');

    for (const [email, password] of [
      [p.email, 'not-the-password-at-all'],
      ['nobody@acme.test', GOOD_PASSWORD],
    ]) {
      const res = await browser(h.app).signIn(email, password);
      expect(res.status).toBe(401);
      expect(res.text).toContain('The email or password is not right, or this account cannot sign in with a password yet.');
      expect(res.text).not.toContain('Acme');
      expect(res.text).not.toContain('id="kept"');
    }
  });

  it('/login?kept=1 (where the console sends someone it let go) names the possible reasons and nobody', async () => {
    const page = await browser(h.app, { headers: FR }).get('/login?kept=1');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Votre session a pris fin car votre accès a changé');
    expect(page.text).toContain('contactez l’administrateur de votre organisation');
    const plain = await browser(h.app).get('/login');
    expect(plain.text).not.toContain('id="kept"');
  });

  it("the console, too: a sub-account admin whose sub-account is switched off is told why on the console's next page", async () => {
    const p = await provision(t, { preferredLanguage: 'fr' });
    const sub = await scim(h, t).post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Filiale ${seq}`, members: [{ value: p.id }], 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount', admins: [{ value: p.id }] } });
    expect(sub.status).toBe(201);
    await h.deps.later.idle();
    const b = await activatedBrowser(h, p.email);
    expect((await b.get('/console')).status).toBe(200);
    await scim(h, t).patch(`/Groups/${sub.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'urn:provisio:params:scim:schemas:extension:2.0:Group:active', value: false }] });
    const page = await b.get('/console');
    expect(page.status).toBe(403);
    expect(lang(page).html).toBe('fr');
    expect(page.text).toContain('La partie de Acme à laquelle appartient votre compte a été désactivée');
    expect(page.text).toContain('contactez un administrateur de Acme');
    expect((await b.me()).status).toBe(401);
  });

  it('a signed-in person whose sub-account is switched off is told so at their next page, then signed out', async () => {
    const p = await provision(t, { preferredLanguage: 'fr' });
    await h.deps.later.idle();
    const b = await activatedBrowser(h, p.email);
    const sub = await scim(h, t).post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Antenne ${seq}`, members: [{ value: p.id }], 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } });
    await scim(h, t).patch(`/Groups/${sub.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'urn:provisio:params:scim:schemas:extension:2.0:Group:active', value: false }] });
    const page = await b.get('/account/password');
    expect(page.status).toBe(403);
    expect(page.text).toContain('La partie de Acme à laquelle appartient votre compte a été désactivée');
    expect((await b.me()).status).toBe(401);
  });
});

describe("the tenant's privacy policy", () => {
  it('PATCH /settings validates privacyPolicyUrl and privacyPolicyText (English errors), and changes nothing on refusal', async () => {
    const other = await createTenant(h, 'Policy Co', `boss-${seq}@other.test`);
    const api = adminApi(h, other);
    for (const body of [
      { privacyPolicyUrl: 'javascript:alert(1)' },
      { privacyPolicyUrl: 'ftp://example.test/p' },
      { privacyPolicyUrl: 'https://user:pw@example.test/p' },
      { privacyPolicyUrl: 'not a url' },
      { privacyPolicyUrl: `https://example.test/${'x'.repeat(2000)}` },
      { privacyPolicyText: '' },
      { privacyPolicyText: 'x'.repeat(20_001) },
      { privacyPolicyText: 42 },
    ]) {
      const res = await api.patch('/settings', body);
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(JSON.stringify(res.body)).toMatch(/privacyPolicy(Url|Text) (must be|is required)/);
    }
    const now = await api.get('/settings');
    expect(now.body).toMatchObject({ privacyPolicyUrl: null, privacyPolicyText: null });
  });

  it('the text is shown (escaped) on activation, the privacy acceptance page and /privacy; a link replaces it; anonymous visitors see the operator\'s', async () => {
    const other = await createTenant(h, 'Policy Co', `boss2-${seq}@other.test`);
    const api = adminApi(h, other);
    const text = 'We keep your data <b>safe</b>.\nSecond line.';
    expect((await api.patch('/settings', { privacyPolicyText: text })).body.privacyPolicyText).toBe(text);
    const p = await provision(other);
    const token = await activationToken(p.email);
    const b = browser(h.app);
    const page = await b.get(`/activate?token=${token}`);
    expect(page.text).toContain('We keep your data &lt;b&gt;safe&lt;/b&gt;.\nSecond line.');
    expect((await b.post('/activate', { token, password: GOOD_PASSWORD, acceptPrivacy: 'yes' })).status).toBe(303);

    // Signed in: /privacy shows their tenant's policy.
    const mine = await b.get('/privacy');
    expect(mine.text).toContain('The privacy policy of Policy Co');
    expect(mine.text).toContain('We keep your data &lt;b&gt;safe&lt;/b&gt;.');
    // Anonymous: the operator's (no PRIVACY_POLICY_URL elsewhere in the tests: the placeholder).
    const anonymous = await browser(h.app).get('/privacy');
    expect(anonymous.text).not.toContain('We keep your data');
    expect(anonymous.text).toContain('Privacy policy version 1');

    // A link instead: the acceptance page (a new version) points there.
    expect((await api.patch('/settings', { privacyPolicyUrl: 'https://policy.example.test/privacy', privacyPolicyVersion: '2' })).status).toBe(200);
    const again = browser(h.app);
    expect((await again.signIn(p.email, GOOD_PASSWORD)).headers.location).toBe('/accept-privacy');
    const accept = await again.get('/accept-privacy');
    expect(accept.text).toContain('href="https://policy.example.test/privacy"');
    expect(accept.text).toContain('version 2');
    expect((await again.get('/privacy')).text).toContain('href="https://policy.example.test/privacy"');
    // Back to the operator's.
    const cleared = await api.patch('/settings', { privacyPolicyUrl: null, privacyPolicyText: null });
    expect(cleared.body).toMatchObject({ privacyPolicyUrl: null, privacyPolicyText: null });
    expect((await again.get('/accept-privacy')).text).not.toContain('policy.example.test');
  });
});

// Keep the PROVISIO_USER import honest: a person created with generated credentials reads the
// change-password page in their tenant's language too.
describe('generated credentials', () => {
  it('the forced change-password page follows the tenant language', async () => {
    const other = await createTenant(h, 'Générée', `gen-${seq}@other.test`);
    await adminApi(h, other).patch('/settings', { language: 'fr' });
    const created = await scim(h, other).post('/Users', { schemas: [USER], userName: `gen${seq}@other.test`, [PROVISIO_USER]: { activationMode: 'generatedCredentials', credentialsEmail: `it-${seq}@other.test` } });
    expect(created.status).toBe(201);
    await h.deps.later.idle();
    const mail = await keptMail(h, `it-${seq}@other.test`, 'credentials');
    const password = /([A-Za-z0-9]{20})/.exec(mail.text.split(`gen${seq}@other.test`)[1] ?? '')?.[1];
    expect(password).toBeDefined();
    const b: Browser = browser(h.app, { headers: EN });
    expect((await b.signIn(`gen${seq}@other.test`, password!)).headers.location).toBe('/account/password');
    const page = await b.get('/account/password');
    expect(lang(page).html).toBe('fr');
    expect(page.text).toContain('Vous vous êtes connecté avec un mot de passe temporaire');
  });
});

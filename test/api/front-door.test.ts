// The front door over HTTP on a real database and a real SMTP sink (issue 5): activation by
// emailed link, privacy acceptance, sign-in, passwords, resets, email changes, force logout,
// sessions shared across instances, timeouts, CSRF and headers. Runs on PGlite and PostgreSQL.
import request from 'supertest';
import { createApp } from '../../server/app';
import { createDeps, Deps } from '../../server/deps';
import { browser, csrfOf, linkToken } from '../support/browser';
import { createTenant, Harness, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';
import { startSmtpSink, SmtpSink, Captured } from '../support/smtp-sink';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GOOD = 'correct-horse-battery-staple-42';
const GENERIC = 'The email or password is not right, or this account cannot sign in with a password yet.';

let h: Harness;
let smtp: SmtpSink;
let t: TestTenant;
let now = Date.parse('2026-11-21T09:00:00Z');
const clock = () => new Date(now);
let seq = 0;

beforeAll(async () => {
  smtp = await startSmtpSink();
  h = await startHarness({ clock, env: { SMTP_URL: smtp.url } });
  t = await createTenant(h, 'Acme', 'owner@acme.test');
});
afterAll(async () => {
  await h.close();
  await smtp.close();
});

/** Runs the mail worker and returns the newest message to this address. */
async function mailTo(address: string, template?: RegExp): Promise<Captured> {
  await h.deps.later?.idle(); // mail queued after an answer (forgot-password)
  await h.deps.mail.worker.runOnce();
  const list = smtp.messages.filter((m) => m.to.includes(address) && (!template || template.test(m.subject)));
  if (!list.length) throw new Error(`no mail to ${address}; have: ${smtp.messages.map((m) => `${m.to} ${m.subject}`).join(' | ')}`);
  return list[list.length - 1];
}

async function provision(extra: Record<string, unknown> = {}): Promise<{ id: string; email: string }> {
  const email = `person${++seq}-${Date.now() % 100000}@acme.test`;
  const res = await scim(h, t).post('/Users', { schemas: [USER], userName: email, name: { givenName: 'Ada', familyName: 'Lovelace' }, ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

/** Provisions a person and activates them through the emailed link; returns their browser. */
async function activePerson() {
  const p = await provision();
  const token = linkToken((await mailTo(p.email, /activ/i)).text, '/activate');
  const b = browser(h.app);
  await b.get(`/activate?token=${token}`);
  const res = await b.post('/activate', { token, password: GOOD, acceptPrivacy: 'yes' });
  expect(res.status).toBe(303);
  return { ...p, b };
}

const admin = (path: string, body?: unknown) => h.http.post(`/api/v1${path}`).set('Authorization', `Bearer ${t.token}`).send(body ?? {});

describe('activation by emailed link', () => {
  it('a user created with no instruction is pending and gets the activation email; the link activates once, after the privacy policy', async () => {
    const p = await provision();
    const user = await scim(h, t).get(`/Users/${p.id}`);
    expect(user.body[PROVISIO_USER].activationState).toBe('pending');
    const mail = await mailTo(p.email, /activ/i);
    expect(mail.html).toContain('/activate?token=');
    const token = linkToken(mail.text, '/activate');

    const b = browser(h.app);
    // Opening the link (twice) never uses it.
    for (let i = 0; i < 2; i++) {
      const page = await b.get(`/activate?token=${token}`);
      expect(page.status).toBe(200);
      expect(page.text).toContain(p.email);
      expect(page.text).toMatch(/privacy policy/i);
    }
    // A password the policy refuses, then no privacy acceptance: the link still works after both.
    const weak = await b.post('/activate', { token, password: 'password1234', acceptPrivacy: 'yes' });
    expect(weak.status).toBe(400);
    expect(weak.text).toMatch(/too common/);
    const own = await b.post('/activate', { token, password: `${p.email}-xyz`, acceptPrivacy: 'yes' });
    expect(own.text).toMatch(/email address/);
    const noPolicy = await b.post('/activate', { token, password: GOOD });
    expect(noPolicy.status).toBe(400);
    expect(noPolicy.text).toMatch(/accept the privacy policy/);

    const done = await b.post('/activate', { token, password: GOOD, acceptPrivacy: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/account');
    const me = await b.me();
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: p.id, userName: p.email, tenant: { id: t.id, name: 'Acme' }, signInMethod: 'password' });

    const after = await scim(h, t).get(`/Users/${p.id}`);
    expect(after.body[PROVISIO_USER].activationState).toBe('active');
    expect(after.body[PROVISIO_USER].privacyPolicyAcceptedAt).toBe(new Date(now).toISOString());
    const cred = await h.owner(async (trx) => (await trx.raw('SELECT password_hash, privacy_policy_version FROM user_credentials WHERE user_id = ?', [p.id])).rows[0]);
    expect(cred.password_hash).toMatch(/^\$argon2id\$/);
    expect(cred.privacy_policy_version).toBe('1');

    // Used: the link is dead now.
    expect((await browser(h.app).get(`/activate?token=${token}`)).status).toBe(410);
  });

  it('a newer link invalidates the older one; links expire after 7 days; unknown links are refused', async () => {
    const p = await provision();
    const first = linkToken((await mailTo(p.email, /activ/i)).text, '/activate');
    const resend = await admin(`/users/${p.id}/activation`);
    expect(resend.status).toBe(202);
    expect(resend.body.sentTo).toBe(p.email);
    const second = linkToken((await mailTo(p.email, /activ/i)).text, '/activate');
    expect(second).not.toBe(first);
    expect((await browser(h.app).get(`/activate?token=${first}`)).status).toBe(410);
    expect((await browser(h.app).get(`/activate?token=${second}`)).status).toBe(200);
    expect((await browser(h.app).get('/activate?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')).status).toBe(410);
    expect((await browser(h.app).get('/activate')).status).toBe(410);

    const saved = now;
    now += 7 * 86_400_000 + 1000;
    try {
      expect((await browser(h.app).get(`/activate?token=${second}`)).status).toBe(410);
    } finally {
      now = saved;
    }
  });

  it('a pending user cannot sign in, and resending to an active user is refused', async () => {
    const p = await provision();
    const b = browser(h.app);
    const res = await b.signIn(p.email, GOOD);
    expect(res.status).toBe(401);
    const q = await activePerson();
    const again = await admin(`/users/${q.id}/activation`);
    expect(again.status).toBe(409);
  });

  it('generatedCredentials: active at once, a generated password goes to the credentials email, to be changed at first sign-in', async () => {
    const p = await provision({ [PROVISIO_USER]: { activationMode: 'generatedCredentials', credentialsEmail: 'it@acme.test' } });
    const user = await scim(h, t).get(`/Users/${p.id}`);
    expect(user.body[PROVISIO_USER].activationState).toBe('active');
    expect(user.body[PROVISIO_USER].activationMode).toBeUndefined();
    const mail = await mailTo('it@acme.test');
    const password = /([A-Za-z0-9]{20})/.exec(mail.text.split(p.email)[1] ?? '')?.[1];
    expect(password).toBeDefined();
    const b = browser(h.app);
    const res = await b.signIn(p.email, password!);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account/password');
    // Until the password is changed, every page leads back to the change.
    expect((await b.get('/account')).headers.location).toBe('/account/password');
    await b.get('/account/password');
    const changed = await b.post('/account/password', { password: GOOD });
    expect(changed.status).toBe(303);
    // The privacy policy comes next: generated credentials never accepted it.
    expect(changed.headers.location).toBe('/accept-privacy');
    await b.get('/accept-privacy');
    const accepted = await b.post('/accept-privacy', { acceptPrivacy: 'yes' });
    expect(accepted.headers.location).toBe('/account');
    expect((await b.get('/account')).status).toBe(200);
  });

  it('an unknown activationMode is a 400 and creates nothing', async () => {
    const res = await scim(h, t).post('/Users', { schemas: [USER], userName: 'mode@acme.test', [PROVISIO_USER]: { activationMode: 'magic' } });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    const list = await scim(h, t).get('/Users?filter=userName eq "mode@acme.test"');
    expect(list.body.totalResults).toBe(0);
  });
});

describe('tenant settings for new users', () => {
  it('activationMode, credentialsEmail and language apply to new users; a per-request mode and the user\'s language win', async () => {
    const other = await createTenant(h, 'Société', 'chef@societe.test');
    const settings = (body: unknown) => h.http.patch('/api/v1/settings').set('Authorization', `Bearer ${other.token}`).send(body as object);
    expect((await settings({ activationMode: 'sometimes' })).status).toBe(400);
    expect((await settings({ credentialsEmail: 'not-an-email' })).status).toBe(400);
    expect((await settings({ language: 'de' })).status).toBe(400);
    const set = await settings({ activationMode: 'generatedCredentials', credentialsEmail: 'rh@societe.test', language: 'fr' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ activationMode: 'generatedCredentials', credentialsEmail: 'rh@societe.test', language: 'fr', groupKindRules: [] });

    const api = scim(h, other);
    const created = await api.post('/Users', { schemas: [USER], userName: 'lea@societe.test' });
    expect(created.body[PROVISIO_USER].activationState).toBe('active');
    const credentials = await mailTo('rh@societe.test');
    expect(credentials.subject).toMatch(/identifiants/);
    expect(credentials.text).toContain('lea@societe.test');

    const english = await api.post('/Users', { schemas: [USER], userName: 'sam@societe.test', preferredLanguage: 'en-GB', [PROVISIO_USER]: { activationMode: 'activationEmail' } });
    expect(english.body[PROVISIO_USER].activationState).toBe('pending');
    const activation = await mailTo('sam@societe.test');
    expect(activation.subject).toMatch(/Activate/i);
  });
});

describe('privacy policy versions', () => {
  it('a tenant that raises its version asks everyone to accept again at the next sign-in, and records the new one', async () => {
    const other = await createTenant(h, 'Policy Co', `owner-${seq}@policy.test`);
    const email = `pat-${seq}@policy.test`;
    const id = (await scim(h, other).post('/Users', { schemas: [USER], userName: email })).body.id;
    const token = linkToken((await mailTo(email, /activ/i)).text, '/activate');
    const b = browser(h.app);
    expect((await b.get(`/activate?token=${token}`)).text).toContain('version 1');
    expect((await b.post('/activate', { token, password: GOOD, acceptPrivacy: 'yes' })).headers.location).toBe('/account');

    const settings = (body: unknown) => h.http.patch('/api/v1/settings').set('Authorization', `Bearer ${other.token}`).send(body as object);
    expect((await settings({ privacyPolicyVersion: '' })).status).toBe(400);
    expect((await settings({ privacyPolicyVersion: '2026-11' })).body.privacyPolicyVersion).toBe('2026-11');
    const again = browser(h.app);
    expect((await again.signIn(email, GOOD)).headers.location).toBe('/accept-privacy');
    expect((await again.get('/account')).headers.location).toBe('/accept-privacy');
    expect((await again.get('/accept-privacy')).text).toContain('version 2026-11');
    expect((await again.post('/accept-privacy', {})).status).toBe(400);
    expect((await again.post('/accept-privacy', { acceptPrivacy: 'yes' })).headers.location).toBe('/account');
    const row = await h.owner(async (trx) => (await trx.raw('SELECT privacy_policy_version FROM user_credentials WHERE user_id = ?', [id])).rows[0]);
    expect(row.privacy_policy_version).toBe('2026-11');
    // Back to the server's version (null): asked again, since 2026-11 is not it.
    expect((await settings({ privacyPolicyVersion: null })).body.privacyPolicyVersion).toBeNull();
    expect((await browser(h.app).signIn(email, GOOD)).headers.location).toBe('/accept-privacy');
  });
});

describe('signing in with a password', () => {
  it('email first, then the password; wrong password and unknown email answer the same words', async () => {
    const p = await activePerson();
    const b = browser(h.app);
    await b.get('/login');
    const step = await b.post('/login', { email: p.email.toUpperCase() });
    expect(step.status).toBe(200);
    expect(step.text).toContain('name="password"');
    const c = browser(h.app);
    await c.get('/login');
    const stepUnknown = await c.post('/login', { email: 'nobody@acme.test' });
    expect(stepUnknown.text).toContain('name="password"');

    const wrong = await b.post('/login/password', { email: p.email, password: 'not-the-password-at-all' });
    const unknown = await c.post('/login/password', { email: 'nobody@acme.test', password: 'not-the-password-at-all' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.text).toContain(GENERIC);
    expect(unknown.text).toContain(GENERIC);

    const ok = await b.post('/login/password', { email: p.email, password: GOOD });
    expect(ok.status).toBe(303);
    expect((await b.me()).body.id).toBe(p.id);
  });

  it('a new session id at sign-in; the cookie is HttpOnly and SameSite=Lax; the stored id is hashed', async () => {
    const p = await activePerson();
    const b = browser(h.app);
    await b.get('/login');
    await b.post('/login', { email: p.email });
    const before = b.cookie();
    const res = await b.post('/login/password', { email: p.email, password: GOOD });
    const setCookie = ([] as string[]).concat(res.headers['set-cookie']).find((c) => c.startsWith('provisio.sid='))!;
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);
    expect(setCookie).not.toMatch(/Secure/); // http PUBLIC_URL; the https case is below
    const after = b.cookie();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const sid = decodeURIComponent(after!.split('=')[1]).slice(2).split('.')[0];
    const rows = await h.owner(async (trx) => (await trx.raw('SELECT sid_hash FROM sessions WHERE user_id = ?', [p.id])).rows);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r: { sid_hash: string }) => r.sid_hash)).not.toContain(sid);
  });

  it('GET /api/v1/me is 401 without a session', async () => {
    const res = await h.http.get('/api/v1/me');
    expect(res.status).toBe(401);
  });

  it('refuses a form without its CSRF token and sends security headers', async () => {
    const page = await h.http.get('/login');
    // The front door's pages load only our own script files (public/front-door.js), never inline
    // code; answers that are not pages run none.
    const directives = String(page.headers['content-security-policy']).split(';');
    expect(directives).toContain("script-src 'self'");
    expect(directives).toContain("script-src-attr 'none'");
    expect((await h.http.get('/healthz')).headers['content-security-policy']).toMatch(/script-src 'none'/);
    expect(page.headers['content-security-policy']).toMatch(/frame-ancestors 'self'/);
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.headers['referrer-policy']).toBe('no-referrer');
    const b = browser(h.app);
    await b.get('/login');
    const res = await b.post('/login/password', { email: 'x@acme.test', password: 'whatever-password' }, { csrf: false });
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/try again/i);
  });

  it('a deactivated sub-account blocks the sign-in of its only members, and ends their pages at the next request', async () => {
    const p = await activePerson();
    expect((await p.b.get('/account')).status).toBe(200);
    const sub = await scim(h, t).post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Branch ${seq}`, members: [{ value: p.id }], 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } });
    expect(sub.status).toBe(201);
    const off = await scim(h, t).patch(`/Groups/${sub.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'urn:provisio:params:scim:schemas:extension:2.0:Group:active', value: false }] });
    expect(off.status).toBe(204);
    // The right password: refused, saying why and whom to contact (issue 11).
    const refused = await browser(h.app).signIn(p.email, GOOD);
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('The part of Acme your account belongs to has been switched off');
    expect(refused.text).toContain('contact an administrator of Acme');
    // The open session ends at its next page, which says the same instead of a silent redirect.
    const ended = await p.b.get('/account');
    expect(ended.status).toBe(403);
    expect(ended.text).toContain('The part of Acme your account belongs to has been switched off');
    expect((await p.b.me()).status).toBe(401);
    expect((await p.b.get('/account')).headers.location).toBe('/login');
  });
});

// Issue 9, points 6 and 11 (front-door/rate-limit.ts, device-cookie.ts). Attackers' requests
// carry their own client address in X-Forwarded-For (loopback addresses; loopback is a trusted
// proxy by default, so req.ip is that address), away from the 127.0.0.1 the other tests use.
describe('rate limits', () => {
  /** A password sign-in from this agent and client address, with the CSRF token of a fresh form. */
  async function attempt(agent: request.Agent, ip: string, email: string, password: string) {
    const page = await agent.get('/login').set('X-Forwarded-For', ip);
    return agent.post('/login/password').set('X-Forwarded-For', ip).type('form').send(new URLSearchParams({ email, password, _csrf: csrfOf(page.text) }).toString());
  }
  /** Signs a browser out; it keeps its device cookie, as a browser does. */
  async function signOut(b: ReturnType<typeof browser>) {
    await b.get('/account');
    expect((await b.post('/logout', {})).headers.location).toBe('/login');
    expect(b.cookie('provisio.device')).toBeDefined();
  }
  const refusedChecks = () => h.logs.filter((l) => l.includes('"password sign-in refused"')).length;

  it('60 wrong passwords sent at once: at most 10 are checked, the rest wait; the person still gets in from another address and from their known browser', async () => {
    const p = await activePerson(); // p.b activated through the link: a known device of p
    await signOut(p.b);
    const attacker = request.agent(h.app);
    const page = await attacker.get('/login').set('X-Forwarded-For', '127.0.6.6');
    const csrf = csrfOf(page.text);
    const checkedBefore = refusedChecks();
    const burst = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        attacker.post('/login/password').set('X-Forwarded-For', '127.0.6.6').type('form').send(new URLSearchParams({ email: p.email, password: `wrong-password-${i}-xx`, _csrf: csrf }).toString()),
      ),
    );
    const statuses = burst.map((r) => r.status);
    const checked = statuses.filter((s) => s === 401).length;
    expect(checked).toBeLessThanOrEqual(10);
    expect(checked).toBeGreaterThan(0);
    expect(statuses.filter((s) => s === 429)).toHaveLength(60 - checked);
    // Each 401 is one Argon2 check (and one log line); the 429s were never checked.
    expect(refusedChecks() - checkedBefore).toBe(checked);
    for (const r of burst.filter((x) => x.status === 429)) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);

    // That pair (this email from this address) waits, even with the right password…
    expect((await attempt(attacker, '127.0.6.6', p.email, GOOD)).status).toBe(429);
    // …but the person is not locked out: from another address, in a new browser,
    expect((await attempt(request.agent(h.app), '127.0.6.7', p.email, GOOD)).status).toBe(303);
    // and from their own browser (its device cookie) even at the attacker's address.
    expect((await attempt(p.b.agent, '127.0.6.6', p.email, GOOD)).status).toBe(303);
  });

  it('guessing from many addresses slows everyone without the device cookie, never the person with it; a reset link makes a browser known', async () => {
    const p = await activePerson();
    await signOut(p.b);
    for (let n = 1; n <= 5; n++) {
      const from = request.agent(h.app);
      for (let i = 0; i < 10; i++) expect((await attempt(from, `127.0.7.${n}`, p.email, `wrong-password-${n}-${i}`)).status).toBe(401);
    }
    // The account's budget for unknown browsers (50 per 15 minutes) is spent: a new address and
    // a new browser wait, the right password too.
    const fresh = await attempt(request.agent(h.app), '127.0.7.9', p.email, GOOD);
    expect(fresh.status).toBe(429);
    expect(Number(fresh.headers['retry-after'])).toBeGreaterThan(0);
    // The person's own browser is counted on its own and signs in, from anywhere.
    expect((await attempt(p.b.agent, '127.0.7.10', p.email, GOOD)).status).toBe(303);
    // The device cookie is bound to its account: p's browser typing another email is a stranger.
    const q = await activePerson();
    await signOut(q.b);
    await signOut(p.b);
    for (let i = 0; i < 10; i++) await attempt(request.agent(h.app), '127.0.7.20', q.email, `wrong-password-q-${i}`);
    expect((await attempt(p.b.agent, '127.0.7.20', q.email, GOOD)).status).toBe(429);
    expect((await attempt(q.b.agent, '127.0.7.20', q.email, GOOD)).status).toBe(303);

    // Someone on a new browser while the budget is spent: the reset link proves the mailbox,
    // signs them in and makes that browser known.
    const c = browser(h.app);
    await c.get('/forgot-password');
    await c.post('/forgot-password', { email: p.email });
    const token = linkToken((await mailTo(p.email, /reset|password/i)).text, '/reset-password');
    await c.get(`/reset-password?token=${token}`);
    expect((await c.post('/reset-password', { token, password: 'reset-passphrase-after-spray-1' })).status).toBe(303);
    await signOut(c);
    expect((await attempt(c.agent, '127.0.7.9', p.email, 'reset-passphrase-after-spray-1')).status).toBe(303);
  });

  it('counts across instances: wrong passwords alternating between two instances on one database wait after the same 10 as on one (issue 12)', async () => {
    const second: Deps = await createDeps(h.deps.config, h.deps.logger, { db: h.db, skipMigrations: true, clock });
    try {
      const agents = [request.agent(h.app), request.agent(createApp(second))];
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) statuses.push((await attempt(agents[i % 2], '127.0.8.8', 'nobody-twice@acme.test', `wrong-password-${i}-xx`)).status);
      expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    } finally {
      await second.close();
    }
  });

  it('keeps no email or address in clear', async () => {
    const rows = await h.owner(async (trx) => (await trx.raw('SELECT key FROM rate_limits')).rows as { key: string }[]);
    expect(rows.length).toBeGreaterThan(0);
    for (const { key } of rows) {
      expect(key).not.toMatch(/@|127\.0\./);
      expect(key).toMatch(/^[a-z-]+:[0-9a-f]{64}$/);
    }
  });
});

describe('sessions', () => {
  it('a session made on one instance is recognised by another on the same database', async () => {
    const p = await activePerson();
    const second: Deps = await createDeps(h.deps.config, h.deps.logger, { db: h.db, skipMigrations: true, clock });
    const app2 = createApp(second);
    const cookie = p.b.cookie()!;
    const res = await request(app2).get('/api/v1/me').set('Cookie', cookie);
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(p.id);
    // Signed out on the second instance, the session is gone on the first too (issue 12).
    const page = await request(app2).get('/account').set('Cookie', cookie);
    expect(page.status).toBe(200);
    const csrfCookies = ([] as string[]).concat(page.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]);
    const out = await request(app2)
      .post('/logout')
      .set('Cookie', [cookie, ...csrfCookies].join('; '))
      .type('form')
      .send(new URLSearchParams({ _csrf: csrfOf(page.text) }).toString());
    expect(out.status).toBe(303);
    expect((await p.b.me()).status).toBe(401);
    await second.close();
  });

  it('ends after the idle timeout, and after the absolute timeout however active', async () => {
    const p = await activePerson();
    const saved = now;
    try {
      now += 31 * 60_000;
      expect((await p.b.me()).status).toBe(401);
      const q = await activePerson();
      for (let i = 0; i < 26; i++) {
        now += 29 * 60_000; // active: never idle for 30 minutes
        const res = await q.b.me();
        if (i < 24) expect(res.status).toBe(200);
        else expect(res.status).toBe(401); // past 12 hours since sign-in
      }
    } finally {
      now = saved;
    }
  });

  it('expired sessions are deleted by the purge; SCIM and health answers set no cookie', async () => {
    const p = await activePerson();
    const saved = now;
    try {
      now += 31 * 60_000;
      const purged = await h.deps.frontDoor.sessions.purgeExpired();
      expect(purged).toBeGreaterThanOrEqual(1);
      const left = await h.owner(async (trx) => (await trx.raw('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [p.id])).rows[0].n);
      expect(left).toBe(0);
    } finally {
      now = saved;
    }
    const health = await h.http.get('/healthz');
    expect(health.headers['set-cookie']).toBeUndefined();
    const users = await scim(h, t).get('/Users?count=1');
    expect(users.status).toBe(200);
    expect(users.headers['set-cookie']).toBeUndefined();
  });

  it('Secure cookies behind https; the session cookie is __Host- prefixed', async () => {
    const secure = await startHarness({ clock, env: { SMTP_URL: smtp.url, PUBLIC_URL: 'https://provisio.example' } });
    try {
      const res = await secure.http.get('/login');
      const csrfCookie = ([] as string[]).concat(res.headers['set-cookie']).find((c) => c.includes('csrf'))!;
      expect(csrfCookie).toMatch(/^__Host-/);
      expect(csrfCookie).toMatch(/Secure/);
      expect(res.headers['strict-transport-security']).toBeDefined();

      // Issue 9, point 16: a whole sign-in over https (the TLS-terminating proxy says so in
      // X-Forwarded-Proto; loopback is a trusted proxy by default). Secure cookies are handed
      // back by hand: supertest's agent keeps them for https URLs only.
      const other = await createTenant(secure, 'Https Co', `chief-${seq}@https.test`);
      const email = `person-${seq}@https.test`;
      const made = await scim(secure, other).post('/Users', { schemas: [USER], userName: email, [PROVISIO_USER]: { activationMode: 'generatedCredentials', credentialsEmail: `it-${seq}@https.test` } });
      expect(made.status).toBe(201);
      await secure.deps.mail.worker.runOnce();
      const mail = smtp.messages.filter((m) => m.to.includes(`it-${seq}@https.test`)).pop()!;
      const password = /([A-Za-z0-9]{20})/.exec(mail.text.split(email)[1] ?? '')![1];
      const jar = new Map<string, string>();
      const keep = (r: request.Response) => {
        for (const c of ([] as string[]).concat(r.headers['set-cookie'] ?? [])) jar.set(c.split('=')[0], c);
        return r;
      };
      const cookieHeader = () => [...jar.values()].map((c) => c.split(';')[0]).join('; ');
      const page = keep(await secure.http.get('/login').set('X-Forwarded-Proto', 'https'));
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
      const signed = keep(
        await secure.http.post('/login/password').set('X-Forwarded-Proto', 'https').set('Cookie', cookieHeader()).type('form').send(new URLSearchParams({ email, password, _csrf: csrf }).toString()),
      );
      expect(signed.status).toBe(303);
      const sid = jar.get('__Host-provisio.sid');
      expect(sid).toBeDefined();
      expect(jar.has('provisio.sid')).toBe(false);
      // What the prefix demands of the cookie (RFC 6265bis §4.1.3.2): Secure, Path=/, no Domain.
      expect(sid).toMatch(/; Secure/i);
      expect(sid).toMatch(/; Path=\/(;|$)/);
      expect(sid).not.toMatch(/Domain=/i);
      expect(sid).toMatch(/HttpOnly/);
      const me = keep(await secure.http.get('/api/v1/me').set('X-Forwarded-Proto', 'https').set('Cookie', cookieHeader()));
      expect(me.status).toBe(200);
      expect(me.body.userName).toBe(email);
      // Signing out clears it under the same name.
      const out = await secure.http.post('/logout').set('X-Forwarded-Proto', 'https').set('Cookie', cookieHeader()).type('form').send(new URLSearchParams({ _csrf: me.body.csrfToken }).toString());
      expect(out.status).toBe(303);
      expect(([] as string[]).concat(out.headers['set-cookie'] ?? []).some((c) => /^__Host-provisio\.sid=;.*Secure/i.test(c))).toBe(true);
    } finally {
      await secure.close();
    }
  });
});

describe('force logout', () => {
  it('one user: every session of theirs ends at once', async () => {
    const p = await activePerson();
    const other = browser(h.app);
    expect((await other.signIn(p.email, GOOD)).status).toBe(303);
    const res = await admin(`/users/${p.id}/force-logout`);
    expect(res.status).toBe(200);
    expect(res.body.sessionsEnded).toBe(2);
    expect((await p.b.me()).status).toBe(401);
    expect((await other.me()).status).toBe(401);
    // They can sign in again.
    expect((await browser(h.app).signIn(p.email, GOOD)).status).toBe(303);
  });

  it('many users: all or nothing; never the primary admin; unknown ids are 404', async () => {
    const a = await activePerson();
    const b = await activePerson();
    const withAdmin = await admin('/users/force-logout', { ids: [a.id, t.primaryAdminId] });
    expect(withAdmin.status).toBe(403);
    expect((await a.b.me()).status).toBe(200);
    const withUnknown = await admin('/users/force-logout', { ids: [a.id, '0190a0a0-0000-7000-8000-000000000000'] });
    expect(withUnknown.status).toBe(404);
    expect((await a.b.me()).status).toBe(200);
    expect((await admin('/users/force-logout', { ids: [] })).status).toBe(400);
    expect((await admin('/users/force-logout', { nope: 1 })).status).toBe(400);
    const ok = await admin('/users/force-logout', { ids: [a.id, b.id] });
    expect(ok.status).toBe(200);
    expect((await a.b.me()).status).toBe(401);
    expect((await b.b.me()).status).toBe(401);
    expect((await admin(`/users/${t.primaryAdminId}/force-logout`)).status).toBe(403);
  });

  it('deactivation over SCIM and deletion end the sessions', async () => {
    const a = await activePerson();
    const off = await scim(h, t).patch(`/Users/${a.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(off.status).toBe(200);
    expect((await a.b.me()).status).toBe(401);
    expect((await browser(h.app).signIn(a.email, GOOD)).status).toBe(401);
    const d = await activePerson();
    expect((await scim(h, t).delete(`/Users/${d.id}`)).status).toBe(204);
    expect((await d.b.me()).status).toBe(401);
  });

  // Issue 9, point 10: the store only updates rows; only the sign-in step creates one. The request
  // is held after its session was loaded (the store's get answers only when the test says so),
  // the session is ended meanwhile, then the request finishes and saves (POST /account/switch).
  it.each([
    ['force logout', (id: string) => admin(`/users/${id}/force-logout`)],
    ['an admin password reset', (id: string) => admin(`/users/${id}/reset-password`)],
  ])('an ended session is not brought back by a request in flight (%s)', async (_what, end) => {
    const a = await activePerson();
    await a.b.get('/account'); // the switch form's CSRF token
    const sid = decodeURIComponent(a.b.cookie()!.split('=')[1]).slice(2).split('.')[0];
    const store = h.deps.frontDoor.sessions;
    const realGet = store.get;
    let loaded!: () => void;
    let release!: () => void;
    const wasLoaded = new Promise<void>((r) => (loaded = r));
    const released = new Promise<void>((r) => (release = r));
    store.get = function (id, cb) {
      realGet.call(this, id, (err, data) => {
        if (id !== sid) return cb(err, data);
        loaded();
        void released.then(() => cb(err, data));
      });
    };
    try {
      const inFlight = a.b.post('/account/switch', { accountId: t.id });
      await wasLoaded;
      const ended = await end(a.id);
      expect(ended.status).toBeLessThan(300);
      release();
      await inFlight;
    } finally {
      store.get = realGet;
    }
    const rows = await h.owner(async (trx) => (await trx.raw('SELECT count(*)::int AS n FROM sessions WHERE user_id = ?', [a.id])).rows[0].n);
    expect(rows).toBe(0);
    expect((await a.b.get('/account')).headers.location).toBe('/login');
    expect((await a.b.me()).status).toBe(401);
  });

  it('a password change ends the other sessions but keeps the current one', async () => {
    const a = await activePerson();
    const other = browser(h.app);
    await other.signIn(a.email, GOOD);
    await a.b.get('/account/password');
    const wrongCurrent = await a.b.post('/account/password', { current: 'nope-nope-nope', password: 'another-long-passphrase-77' });
    expect(wrongCurrent.status).toBe(400);
    const res = await a.b.post('/account/password', { current: GOOD, password: 'another-long-passphrase-77' });
    expect(res.status).toBe(303);
    expect((await a.b.me()).status).toBe(200);
    expect((await other.me()).status).toBe(401);
  });

  it('a token bound to a sub-account acts only on its subtree: others are 404, all or nothing', async () => {
    const inside = await activePerson();
    const outside = await activePerson();
    const sub = await scim(h, t).post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Lyon ${seq}`, members: [{ value: inside.id }], 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } });
    const token = (await h.http.post('/api/v1/tokens').set('Authorization', `Bearer ${t.token}`).send({ name: 'Lyon admin', scopes: ['admin'], subAccount: sub.body.id })).body.token;
    const bound = (path: string, body: unknown = {}) => h.http.post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body as object);
    expect((await bound(`/users/${outside.id}/force-logout`)).status).toBe(404);
    expect((await bound(`/users/${outside.id}/reset-password`)).status).toBe(404);
    // Outside: 404 before anything about its state (inside, an active user's resend is 409).
    expect((await bound(`/users/${outside.id}/activation`)).status).toBe(404);
    expect((await bound(`/users/${inside.id}/activation`)).status).toBe(409);
    expect((await bound('/users/force-logout', { ids: [inside.id, outside.id] })).status).toBe(404);
    expect((await inside.b.me()).status).toBe(200);
    expect((await outside.b.me()).status).toBe(200);
    expect((await bound(`/users/${inside.id}/force-logout`)).status).toBe(200);
    expect((await inside.b.me()).status).toBe(401);
    expect((await outside.b.me()).status).toBe(200);
  });

  it('another tenant cannot force out or reset this tenant\'s users (404)', async () => {
    const a = await activePerson();
    const other = await createTenant(h, 'Other');
    const res = await h.http.post(`/api/v1/users/${a.id}/force-logout`).set('Authorization', `Bearer ${other.token}`).send({});
    expect(res.status).toBe(404);
    const reset = await h.http.post(`/api/v1/users/${a.id}/reset-password`).set('Authorization', `Bearer ${other.token}`).send({});
    expect(reset.status).toBe(404);
    expect((await a.b.me()).status).toBe(200);
  });
});

describe('resets and email changes', () => {
  it('admin reset: a temporary password by email, sessions end, and it must be changed at the next sign-in', async () => {
    const a = await activePerson();
    const res = await admin(`/users/${a.id}/reset-password`);
    expect(res.status).toBe(202);
    expect((await a.b.me()).status).toBe(401);
    const mail = await mailTo(a.email, /password/i);
    const temp = /([A-Za-z0-9]{20})/.exec(mail.text.split(a.email)[1] ?? mail.text)?.[1];
    expect(temp).toBeDefined();
    expect((await browser(h.app).signIn(a.email, GOOD)).status).toBe(401);
    const b = browser(h.app);
    const signed = await b.signIn(a.email, temp!);
    expect(signed.headers.location).toBe('/account/password');
    expect((await b.me()).body.mustChangePassword).toBe(true);
    await b.get('/account/password');
    expect((await b.post('/account/password', { password: 'brand-new-passphrase-2026' })).status).toBe(303);
    expect((await b.me()).body.mustChangePassword).toBe(false);
    expect((await admin(`/users/${t.primaryAdminId}/reset-password`)).status).toBe(403);
  });

  it('forgot password answers the same for any address; the link resets once and ends sessions', async () => {
    const a = await activePerson();
    const sent = smtp.messages.length;
    const b = browser(h.app);
    await b.get('/forgot-password');
    const unknown = await b.post('/forgot-password', { email: 'ghost@acme.test' });
    await b.get('/forgot-password');
    const known = await b.post('/forgot-password', { email: a.email });
    expect(unknown.status).toBe(200);
    expect(known.status).toBe(200);
    expect(unknown.text).toBe(known.text);
    const mail = await mailTo(a.email, /reset|password/i);
    expect(smtp.messages.slice(sent).filter((m) => m.to.includes('ghost@acme.test'))).toHaveLength(0);
    const token = linkToken(mail.text, '/reset-password');
    const c = browser(h.app);
    expect((await c.get(`/reset-password?token=${token}`)).status).toBe(200);
    expect((await c.post('/reset-password', { token, password: 'short' })).status).toBe(400);
    const done = await c.post('/reset-password', { token, password: 'reset-passphrase-for-ada-9' });
    expect(done.status).toBe(303);
    expect((await a.b.me()).status).toBe(401);
    expect((await c.me()).status).toBe(200);
    expect((await browser(h.app).get(`/reset-password?token=${token}`)).status).toBe(410);
  });

  // Issue 9, point 16: the answer cannot depend on whether the address exists, in words or in
  // time. Proven without timing: the runner of after-answer work is held, the pages are
  // compared, nothing was looked up or queued yet; released, the work runs for both addresses and
  // only the real one gets mail.
  it('forgot password answers before it looks anything up, and does the same work for any address', async () => {
    const jobs: (() => Promise<void>)[] = [];
    const held = {
      run: (_label: string, work: () => Promise<void>) => void jobs.push(work),
      idle: async () => undefined,
    };
    const later = await startHarness({ clock, env: { SMTP_URL: smtp.url }, later: held });
    try {
      const other = await createTenant(later, 'Later Co', `chief-${seq}@later.test`);
      const email = `person-${seq}@later.test`;
      const made = await scim(later, other).post('/Users', { schemas: [USER], userName: email, [PROVISIO_USER]: { activationMode: 'generatedCredentials' } });
      expect(made.status).toBe(201);
      await later.deps.mail.worker.runOnce(); // the activation and credentials mail, out of the way
      const resetLinks = () => later.owner(async (trx) => (await trx.raw("SELECT count(*)::int AS n FROM one_time_links WHERE user_id = ? AND purpose = 'reset'", [made.body.id])).rows[0].n);
      const resetMail = () => later.owner(async (trx) => (await trx.raw("SELECT count(*)::int AS n FROM outbox WHERE template = 'password-reset'")).rows[0].n);

      const b = browser(later.app);
      await b.get('/forgot-password');
      const known = await b.post('/forgot-password', { email });
      await b.get('/forgot-password');
      const unknown = await b.post('/forgot-password', { email: `ghost-${seq}@later.test` });
      expect(known.status).toBe(200);
      expect(unknown.status).toBe(200);
      expect(known.text).toBe(unknown.text);
      // Both answers are out; nothing was looked up or queued, for either address.
      expect(jobs).toHaveLength(2);
      expect(await resetLinks()).toBe(0);
      expect(await resetMail()).toBe(0);

      for (const work of jobs.splice(0)) await work();
      expect(await resetLinks()).toBe(1);
      expect(await resetMail()).toBe(1);
      const sent = smtp.messages.length;
      await later.deps.mail.worker.runOnce();
      const mails = smtp.messages.slice(sent);
      expect(mails.map((m) => m.to)).toEqual([[email]]);
      expect(linkToken(mails[0].text, '/reset-password')).toEqual(expect.any(String));
    } finally {
      await later.close();
    }
  });

  it('an email change kills pending links and sends a new activation to the new address', async () => {
    const p = await provision();
    const old = linkToken((await mailTo(p.email, /activ/i)).text, '/activate');
    const newEmail = `moved-${p.email}`;
    const res = await scim(h, t).patch(`/Users/${p.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: newEmail }] });
    expect(res.status).toBe(200);
    expect((await browser(h.app).get(`/activate?token=${old}`)).status).toBe(410);
    const fresh = linkToken((await mailTo(newEmail, /activ/i)).text, '/activate');
    expect((await browser(h.app).get(`/activate?token=${fresh}`)).text).toContain(newEmail);
  });

  it('an active user\'s new sign-in email signs in only once verified', async () => {
    const a = await activePerson();
    const newEmail = `new-${a.email}`;
    await scim(h, t).patch(`/Users/${a.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: newEmail }] });
    expect((await browser(h.app).signIn(newEmail, GOOD)).status).toBe(401);
    const token = linkToken((await mailTo(newEmail, /confirm|verif/i)).text, '/verify-email');
    const b = browser(h.app);
    // GET asks; only the POST confirms (mail scanners open links).
    await b.get(`/verify-email?token=${token}`);
    expect((await browser(h.app).signIn(newEmail, GOOD)).status).toBe(401);
    expect((await b.post('/verify-email', { token })).status).toBe(200);
    expect((await browser(h.app).signIn(newEmail, GOOD)).status).toBe(303);
  });
});

describe('the admin API with a session (the console)', () => {
  it('a signed-in admin calls it with the cookie, and every change needs X-CSRF-Token; others get 401/403', async () => {
    // The primary admin of a tenant of its own, activated through the emailed link.
    const other = await createTenant(h, 'Console Co', `chief-${seq}@console.test`);
    const token = linkToken((await mailTo(`chief-${seq}@console.test`, /activ/i)).text, '/activate');
    const chief = browser(h.app);
    await chief.get(`/activate?token=${token}`);
    expect((await chief.post('/activate', { token, password: GOOD, acceptPrivacy: 'yes' })).headers.location).toBe('/console');
    const me = await chief.me();
    expect(me.body.csrfToken).toEqual(expect.any(String));

    const member = (await scim(h, other).post('/Users', { schemas: [USER], userName: `member-${seq}@console.test`, [PROVISIO_USER]: { activationMode: 'generatedCredentials' } })).body.id;
    expect((await chief.agent.get('/api/v1/settings')).status).toBe(200);
    const noCsrf = await chief.agent.post(`/api/v1/users/${member}/force-logout`).send({});
    expect(noCsrf.status).toBe(403);
    expect(noCsrf.body.detail).toMatch(/X-CSRF-Token/);
    const ok = await chief.agent.post(`/api/v1/users/${member}/force-logout`).set('X-CSRF-Token', me.body.csrfToken).send({});
    expect(ok.status).toBe(200);
    // The audit names the person, not a token.
    const audit = await h.http.get('/api/v1/audit').query({ action: 'user.forceLogout' }).set('Authorization', `Bearer ${other.token}`);
    expect(audit.body.entries[0]).toMatchObject({ actor: { type: 'user', id: other.primaryAdminId } });

    // Another tenant's user is 404 as always.
    const stranger = await activePerson();
    expect((await chief.agent.post(`/api/v1/users/${stranger.id}/force-logout`).set('X-CSRF-Token', me.body.csrfToken).send({})).status).toBe(404);

    // Not an admin: 403; no session: 401.
    expect((await stranger.b.agent.get('/api/v1/settings')).status).toBe(403);
    expect((await h.http.get('/api/v1/settings')).status).toBe(401);
  });
});

describe('a sub-account admin on the admin API', () => {
  it('acts only once working in their sub-account, and then only on its subtree', async () => {
    const boss = await activePerson();
    const staff = await activePerson();
    const outsider = await activePerson();
    const sub = await scim(h, t).post('/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      displayName: `Nantes ${seq}`,
      members: [{ value: boss.id }, { value: staff.id }],
      'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount', admins: [{ value: boss.id }] },
    });
    expect(sub.status).toBe(201);
    // Working in the tenant, where they are no admin: 403.
    expect((await boss.b.agent.get('/api/v1/audit')).status).toBe(403);
    await boss.b.get('/account');
    expect((await boss.b.post('/account/switch', { accountId: sub.body.id })).status).toBe(303);
    const csrf = (await boss.b.me()).body.csrfToken;
    // Bound to the sub-account: whole-tenant parts are 403, people outside are 404.
    expect((await boss.b.agent.get('/api/v1/settings')).status).toBe(403);
    expect((await boss.b.agent.post(`/api/v1/users/${outsider.id}/force-logout`).set('X-CSRF-Token', csrf).send({})).status).toBe(404);
    expect((await boss.b.agent.post(`/api/v1/users/${staff.id}/force-logout`).set('X-CSRF-Token', csrf).send({})).status).toBe(200);
    expect((await staff.b.me()).status).toBe(401);
    expect((await outsider.b.me()).status).toBe(200);
  });
});

describe('bad input gets a readable page and changes nothing', () => {
  it.each([
    ['/activate', { token: 'x', password: GOOD, acceptPrivacy: 'yes' }, 410],
    ['/activate', {}, 410],
    ['/reset-password', { token: '', password: GOOD }, 410],
    ['/verify-email', { token: 'nope' }, 410],
    ['/login', { email: 'not an email' }, 400],
    ['/login/password', { email: 'a@b.test' }, 400],
    ['/forgot-password', { email: '' }, 400],
    ['/account/switch', { accountId: 'x' }, 303],
  ])('POST %s %j → %i', async (path, fields, status) => {
    const b = browser(h.app);
    await b.get('/login');
    const res = await b.post(path, fields as Record<string, string>);
    expect(res.status).toBe(status);
    if (status !== 303) expect(res.headers['content-type']).toMatch(/text\/html/);
  });

  it('an oversized or JSON body is refused with a page, and the server keeps serving', async () => {
    const big = await h.http.post('/login').type('form').send(`email=${'a'.repeat(20_000)}`);
    expect(big.status).toBe(413);
    expect(big.text).toMatch(/could not read/);
    const json = await h.http.post('/login/password').set('Content-Type', 'application/json').send('{"email": ');
    expect(json.status).toBe(403); // no form, no CSRF token
    expect((await h.http.get('/login')).status).toBe(200);
  });
});

describe('accounts', () => {
  it('the tenant and each sub-account the person belongs to; switching between them', async () => {
    const a = await activePerson();
    const sub = await scim(h, t).post('/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Paris ${seq}`, members: [{ value: a.id }], 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } });
    const me = await a.b.me();
    expect(me.body.accounts.map((x: { id: string }) => x.id)).toEqual([t.id, sub.body.id]);
    const page = await a.b.get('/account');
    expect(page.text).toContain(`Paris ${seq}`);
    const res = await a.b.post('/account/switch', { accountId: sub.body.id });
    expect(res.status).toBe(303);
    expect((await a.b.me()).body.account).toBe(sub.body.id);
    expect((await a.b.post('/account/switch', { accountId: '0190a0a0-0000-7000-8000-000000000000' })).status).toBe(404);
  });

  it('the primary admin is activated like anyone and lands on the console', async () => {
    const mail = await mailTo('owner@acme.test', /activ/i);
    const token = linkToken(mail.text, '/activate');
    const b = browser(h.app);
    await b.get(`/activate?token=${token}`);
    const res = await b.post('/activate', { token, password: GOOD, acceptPrivacy: 'yes' });
    expect(res.headers.location).toBe('/console');
    const consolePage = await b.get('/console');
    expect(consolePage.status).toBe(200);
    expect(consolePage.text).toContain('Acme');
    expect((await b.me()).body.admin).toBe(true);
  });

  it('no secret reaches the log', async () => {
    const joined = h.logs.join('\n');
    expect(joined).not.toContain(GOOD);
    expect(joined).not.toMatch(/token=[A-Za-z0-9_-]{43}/);
  });
});

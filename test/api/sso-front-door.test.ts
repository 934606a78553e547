// SSO through the whole front door (issue 5, "Done when"; issue 9 points 5 and 12): an admin
// configures a connection over the admin API and proves its domain in DNS (a DNS server of this
// file on 127.0.0.1); people type their email at {PUBLIC_URL}/login, are sent to the tenant's IdP
// (a real oidc-provider) and come back signed in with a database session. The primary admin is
// signed in through SSO only with a link they made themselves from the account page. The OIDC
// start step keeps its state in a sealed cookie, never in a session row. The OIDC checks
// themselves (state, issuer, domains, verified email) are proven one by one in
// test/api/sso.test.ts.
import { csrfOf } from '../support/browser';
import { startTestDns, TestDns } from '../support/dns-server';
import { createTenant, Harness, LOOPBACK_IDP_ENV, OPERATOR_TOKEN, scim, startHarness, TestTenant, USER } from '../support/harness';
import { CookieJar, startTestIdp, TestIdp } from '../support/oidc-idp';
import { activate, listen, loginStep, Web } from '../support/web';

const PUBLIC_URL = 'http://provisio.test';
const SECRET = 'front-door-client-secret-0123456789';
const PASSWORD = 'correct-horse-battery-staple-42';
const GENERIC = 'We could not sign you in with your organisation';

let h: Harness;
let t: TestTenant;
let idp: TestIdp;
let dns: TestDns;
let web: Web;
let connectionId: string;
let offset = 0;
const clock = () => new Date(Date.now() + offset);

beforeAll(async () => {
  dns = await startTestDns();
  h = await startHarness({ env: { PUBLIC_URL, DNS_SERVERS: dns.address, ...LOOPBACK_IDP_ENV }, clock });
  t = await createTenant(h, 'Acme', 'boss@acme-sso.test');
  idp = await startTestIdp();
  web = await listen(h.app, PUBLIC_URL);
  const res = await h.http
    .post('/api/v1/sso-connections')
    .set('Authorization', `Bearer ${t.token}`)
    .send({ issuer: idp.issuer, clientId: 'acme-console', clientSecret: SECRET, emailDomains: ['acme-sso.test'] });
  expect(res.status).toBe(201);
  expect(res.body.redirectUri).toBe(`${PUBLIC_URL}/login/oidc/${res.body.id}/callback`);
  connectionId = res.body.id;
  idp.addClient({ clientId: 'acme-console', clientSecret: SECRET, redirectUris: [res.body.redirectUri] });
  // The admin publishes the record the API gave and asks for the proof: the domain now routes
  // everyone at /login (test/api/sso-domains.test.ts proves the rules).
  const record = res.body.domains[0].record;
  dns.setTxt(record.name, [record.value]);
  await h.http.post(`/api/v1/sso-connections/${connectionId}/domains/acme-sso.test/verify`).set('Authorization', `Bearer ${t.token}`).expect(200);
});
afterAll(async () => {
  await web?.close();
  await idp?.close();
  await h?.close();
  await dns?.close();
});

/** Email first at /login, then wherever it leads (the IdP, back to our callback, onward). */
async function signInAt(jar: CookieJar, email: string) {
  const step = await loginStep(web, jar, email);
  expect(step.status).toBe(303);
  const location = step.headers.get('location')!;
  expect(location).toMatch(/^\/login\/oidc\/[0-9a-f-]+\/start\?login_hint=/);
  return web.follow(jar, location);
}

const sessionRows = async () => Number((await h.owner((db) => db('sessions').count({ n: '*' })))[0].n);
const links = (userId: string) => h.owner((db) => db('sso_identities').where({ user_id: userId }).select(['subject', 'linked_by']));
const lastRefusal = () => h.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'oidc sign-in refused').pop();

describe('the primary admin and SSO (issue 9 point 5)', () => {
  it('a connection for the admin\'s domain does not sign the primary admin in, nor links them, at a first SSO sign-in', async () => {
    idp.setAccount('boss@acme-sso.test', { sub: 'idp-boss', email: 'boss@acme-sso.test', email_verified: true });
    const result = await signInAt(new CookieJar(), 'boss@acme-sso.test');
    expect(result.response.status).toBe(403);
    expect(await result.response.text()).toContain('We could not sign you in');
    expect(lastRefusal().reason).toMatch(/primary admin is never linked at a first SSO sign-in/);
    expect(await links(t.primaryAdminId)).toEqual([]);
  });

  it('a link made automatically (before this rule) is not honoured for the primary admin', async () => {
    await h.owner((db) => db('sso_identities').insert({ tenant_id: t.id, connection_id: connectionId, subject: 'idp-boss', user_id: t.primaryAdminId, linked_at: new Date() }));
    expect(await links(t.primaryAdminId)).toEqual([{ subject: 'idp-boss', linked_by: 'first-sign-in' }]);
    const result = await signInAt(new CookieJar(), 'boss@acme-sso.test');
    expect(result.response.status).toBe(403);
    expect(lastRefusal().reason).toMatch(/only with a link they made themselves/);
  });

  it('the primary admin activates with a password, links their IdP account from the account page, and then signs in through the IdP', async () => {
    const jar = new CookieJar();
    const activated = await activate(h, web, jar, 'boss@acme-sso.test', PASSWORD);
    expect(activated.headers.get('location')).toBe('/console');
    const page = await (await web.page(jar, '/account/identities')).text();
    expect(page).toContain(idp.issuer);
    expect(page).toContain('Linked automatically: not used for you until you link it yourself');

    // Another IdP account (another address) cannot be linked: the IdP's verified email must be
    // the primary admin's sign-in email.
    idp.setAccount('boss@acme-sso.test', { sub: 'idp-other', email: 'someone@acme-sso.test', email_verified: true });
    const wrong = await web.form(jar, `/account/identities/${connectionId}/link`, {}, page);
    expect(wrong.status).toBe(303);
    const refused = await web.follow(jar, wrong.headers.get('location')!);
    expect(refused.response.status).toBe(403);
    expect(await refused.response.text()).toContain('another email address than your sign-in email');
    expect(await links(t.primaryAdminId)).toEqual([{ subject: 'idp-boss', linked_by: 'first-sign-in' }]);
    jar.clear(idp.origin);

    // Their own IdP account: the automatic link becomes theirs.
    idp.setAccount('boss@acme-sso.test', { sub: 'idp-boss', email: 'boss@acme-sso.test', email_verified: true });
    const start = await web.form(jar, `/account/identities/${connectionId}/link`, {}, page);
    const linked = await web.follow(jar, start.headers.get('location')!);
    expect(linked.url.pathname).toBe('/account/identities');
    expect(await linked.response.text()).toContain('Linked by you');
    expect(await links(t.primaryAdminId)).toEqual([{ subject: 'idp-boss', linked_by: 'self' }]);
    const audit = await h.http.get(`/api/v1/audit?action=user.identity.link&target=${t.primaryAdminId}`).set('Authorization', `Bearer ${t.token}`).expect(200);
    expect(audit.body.entries[0]).toMatchObject({ actor: { type: 'user', id: t.primaryAdminId }, changes: { connectionId, subject: 'idp-boss', linkedBy: 'self', previously: 'first-sign-in' } });

    // A fresh browser: email first → IdP → the console.
    const other = new CookieJar();
    const result = await signInAt(other, 'boss@acme-sso.test');
    expect(result.url.pathname).toBe('/console');
    const me = await web.page(other, '/api/v1/me');
    expect(await me.json()).toMatchObject({ id: t.primaryAdminId, userName: 'boss@acme-sso.test', tenant: { id: t.id }, admin: true, signInMethod: 'oidc' });
  });
});

describe('people of the tenant sign in through the IdP', () => {
  it('a member signs in through the IdP, accepts the privacy policy, lands on their account page, and is forced out by the admin API', async () => {
    const id = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'ann@acme-sso.test' })).body.id;
    idp.setAccount('ann@acme-sso.test', { sub: 'idp-ann', email: 'ann@acme-sso.test', email_verified: true });
    const jar = new CookieJar();
    const result = await signInAt(jar, 'ann@acme-sso.test');
    expect(result.url.pathname).toBe('/accept-privacy');
    const accepted = await web.form(jar, '/accept-privacy', { acceptPrivacy: 'yes' }, await result.response.text());
    expect(accepted.headers.get('location')).toBe('/account');
    expect((await web.page(jar, '/api/v1/me')).status).toBe(200);
    const user = await scim(h, t).get(`/Users/${id}`);
    expect(user.body['urn:provisio:params:scim:schemas:extension:2.0:User']).toMatchObject({ activationState: 'active', privacyPolicyAcceptedAt: expect.any(String) });
    expect(await links(id)).toEqual([{ subject: 'idp-ann', linked_by: 'first-sign-in' }]);
    // The new link is a security notice to the person (issue 10), naming the IdP.
    const kept = await h.http.get('/operator/v1/mail').query({ to: 'ann@acme-sso.test' }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
    const notice = kept.body.messages.find((m: { template: string }) => m.template === 'identity-linked');
    expect(notice?.text).toContain(idp.issuer);

    const out = await h.http.post(`/api/v1/users/${id}/force-logout`).set('Authorization', `Bearer ${t.token}`).send({});
    expect(out.status).toBe(200);
    expect((await web.page(jar, '/api/v1/me')).status).toBe(401);
    const again = await web.page(jar, '/account');
    expect(again.headers.get('location')).toBe('/login');
  });

  it('with requireSso, a new member gets no activation email and activates at their first sign-in through the IdP (issue 12)', async () => {
    const conn = (requireSso: boolean) => h.http.patch(`/api/v1/sso-connections/${connectionId}`).set('Authorization', `Bearer ${t.token}`).send({ requireSso }).expect(200);
    await conn(true);
    try {
      const id = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'bo@acme-sso.test' }).expect(201)).body.id;
      const kept = async () => (await h.http.get('/operator/v1/mail').query({ to: 'bo@acme-sso.test' }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`)).body.messages as { template: string }[];
      expect(await kept()).toEqual([]);
      idp.setAccount('bo@acme-sso.test', { sub: 'idp-bo', email: 'bo@acme-sso.test', email_verified: true });
      const jar = new CookieJar();
      const result = await signInAt(jar, 'bo@acme-sso.test');
      expect(result.url.pathname).toBe('/accept-privacy');
      const accepted = await web.form(jar, '/accept-privacy', { acceptPrivacy: 'yes' }, await result.response.text());
      expect(accepted.headers.get('location')).toBe('/account');
      const user = await scim(h, t).get(`/Users/${id}`);
      expect(user.body['urn:provisio:params:scim:schemas:extension:2.0:User']).toMatchObject({ activationState: 'active', privacyPolicyAcceptedAt: expect.any(String) });
      // Their only mail is the security notice of the new link, never an activation link.
      expect((await kept()).map((m) => m.template)).toEqual(['identity-linked']);
    } finally {
      await conn(false);
    }
  });

  it('an address with no account in a proven SSO domain goes to the IdP too, and is refused there with the generic page', async () => {
    idp.setAccount('ghost@acme-sso.test', { sub: 'idp-ghost', email: 'ghost@acme-sso.test', email_verified: true });
    const jar = new CookieJar();
    const result = await signInAt(jar, 'ghost@acme-sso.test');
    expect(result.response.status).toBe(403);
    expect(await result.response.text()).toContain(GENERIC);
    expect((await web.page(jar, '/api/v1/me')).status).toBe(401);
  });
});

describe('anonymous requests create no session rows (issue 9 point 12)', () => {
  const start = () => `/login/oidc/${connectionId}/start?login_hint=${encodeURIComponent('ann@acme-sso.test')}`;

  it('the start step keeps its state in a sealed, short-lived cookie, not in a session row; the callback still works', async () => {
    idp.setAccount('ann@acme-sso.test', { sub: 'idp-ann', email: 'ann@acme-sso.test', email_verified: true });
    const before = await sessionRows();
    const jar = new CookieJar();
    const res = await web.page(jar, start());
    expect(new URL(res.headers.get('location')!).origin).toBe(idp.origin);
    expect(await sessionRows()).toBe(before);
    expect(res.status).toBe(303);
    const cookies = res.headers.getSetCookie();
    expect(cookies.some((c) => c.startsWith('provisio.sid='))).toBe(false);
    const state = cookies.find((c) => c.startsWith('provisio.oidc='))!;
    expect(state).toMatch(/; Max-Age=600;/);
    expect(state).toMatch(/; Path=\/login\/oidc\/;/);
    expect(state).toMatch(/; HttpOnly/);
    expect(state).toMatch(/; SameSite=Lax/);
    // Sealed: neither the PKCE verifier nor the state can be read out of it.
    const value = decodeURIComponent(state.split(';')[0].split('=')[1]);
    const sentState = new URL(res.headers.get('location')!).searchParams.get('state')!;
    expect(value).toMatch(/^v1\./);
    expect(value).not.toContain(sentState);

    const result = await web.follow(jar, res.headers.get('location')!);
    expect(result.url.pathname).toBe('/account');
    expect(await sessionRows()).toBe(before + 1);
    // Used once: the cookie is gone.
    expect(jar.get(web.base, 'provisio.oidc')).toBeUndefined();
  });

  it('a tampered state cookie is refused with the generic page', async () => {
    const jar = new CookieJar();
    const res = await web.page(jar, start());
    const result = await web.follow(jar, res.headers.get('location')!, {
      tamper: (url) => {
        if (!url.pathname.endsWith('/callback')) return;
        const value = decodeURIComponent(jar.get(web.base, 'provisio.oidc')!);
        const flipped = value.slice(0, -3) + (value.at(-3) === 'A' ? 'B' : 'A') + value.slice(-2);
        jar.set(web.base, 'provisio.oidc', encodeURIComponent(flipped));
      },
    });
    expect(result.response.status).toBe(400);
    expect(await result.response.text()).toContain(GENERIC);
    expect(lastRefusal().reason).toMatch(/does not open/);
    expect((await web.page(jar, '/api/v1/me')).status).toBe(401);
  });

  it('an expired state cookie is refused with the generic page', async () => {
    const jar = new CookieJar();
    const res = await web.page(jar, start());
    try {
      const result = await web.follow(jar, res.headers.get('location')!, {
        tamper: (url) => {
          // Eleven minutes pass while the person is at the IdP (the browser would also have dropped it).
          if (url.pathname.endsWith('/callback')) offset = 11 * 60_000;
        },
      });
      expect(result.response.status).toBe(400);
      expect(await result.response.text()).toContain(GENERIC);
      expect(lastRefusal().reason).toMatch(/expired/);
    } finally {
      offset = 0;
    }
  });

  it('a callback without the cookie (another browser) is refused', async () => {
    const jar = new CookieJar();
    const res = await web.page(jar, start());
    const result = await web.follow(jar, res.headers.get('location')!, {
      tamper: (url) => {
        if (url.pathname.endsWith('/callback')) jar.set(web.base, 'provisio.oidc', '');
      },
    });
    expect(result.response.status).toBe(400);
    expect(lastRefusal().reason).toMatch(/no sign-in state cookie/);
    expect(csrfOf(await result.response.text())).toBeTruthy();
  });
});

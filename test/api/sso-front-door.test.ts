// SSO through the whole front door (issue 5, "Done when"): an admin configures a connection over
// the admin API, types their email at {PUBLIC_URL}/login, is sent to the tenant's IdP (a real
// oidc-provider), comes back signed in with a database session, accepts the privacy policy and
// reaches the console; /api/v1/me knows them. The OIDC checks themselves (state, issuer,
// domains, verified email) are proven one by one in test/api/sso.test.ts.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { csrfOf } from '../support/browser';
import { createTenant, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';
import { CookieJar, followLogin, startTestIdp, TestIdp } from '../support/oidc-idp';

const PUBLIC_URL = 'http://provisio.test';
const SECRET = 'front-door-client-secret-0123456789';

let h: Harness;
let t: TestTenant;
let idp: TestIdp;
let server: Server;
let appBase: string;

beforeAll(async () => {
  h = await startHarness({ env: { PUBLIC_URL } });
  t = await createTenant(h, 'Acme', 'boss@acme-sso.test');
  idp = await startTestIdp();
  server = h.app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  appBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const res = await h.http
    .post('/api/v1/sso-connections')
    .set('Authorization', `Bearer ${t.token}`)
    .send({ issuer: idp.issuer, clientId: 'acme-console', clientSecret: SECRET, emailDomains: ['acme-sso.test'] });
  expect(res.status).toBe(201);
  expect(res.body.redirectUri).toBe(`${PUBLIC_URL}/login/oidc/${res.body.id}/callback`);
  idp.addClient({ clientId: 'acme-console', clientSecret: SECRET, redirectUris: [res.body.redirectUri] });
});
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await idp?.close();
  await h?.close();
});

/** Our PUBLIC_URL is served by the listening test app. */
const toApp = (url: URL) => (url.origin === PUBLIC_URL ? new URL(url.pathname + url.search, appBase) : url);

async function fetchPage(jar: CookieJar, path: string, init: RequestInit = {}) {
  const url = new URL(path, appBase);
  const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) } });
  jar.store(url, res);
  return res;
}

async function postForm(jar: CookieJar, path: string, fields: Record<string, string>, csrfFrom: string) {
  const body = new URLSearchParams({ ...fields, _csrf: csrfOf(csrfFrom) });
  return fetchPage(jar, path, { method: 'POST', body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
}

/** Email first at /login, then wherever it leads (the IdP, back to our callback, onward). */
async function signInAt(jar: CookieJar, email: string) {
  const page = await (await fetchPage(jar, '/login')).text();
  const step = await postForm(jar, '/login', { email }, page);
  expect(step.status).toBe(303);
  const location = step.headers.get('location')!;
  expect(location).toMatch(/^\/login\/oidc\/[0-9a-f-]+\/start\?login_hint=/);
  return followLogin(new URL(location, appBase).toString(), jar, { resolve: toApp });
}

describe('an admin signs in through the tenant IdP', () => {
  it('email first → IdP → privacy acceptance → console; /api/v1/me answers with the session', async () => {
    idp.setAccount('boss@acme-sso.test', { sub: 'idp-boss', email: 'boss@acme-sso.test', email_verified: true });
    const jar = new CookieJar();
    const result = await signInAt(jar, 'boss@acme-sso.test');
    // The primary admin was provisioned pending: the IdP proved the address, the privacy page remains.
    expect(result.url.pathname).toBe('/accept-privacy');
    const page = await result.response.text();
    const accepted = await postForm(jar, '/accept-privacy', { acceptPrivacy: 'yes' }, page);
    expect(accepted.status).toBe(303);
    expect(accepted.headers.get('location')).toBe('/console');
    const consolePage = await fetchPage(jar, '/console');
    expect(consolePage.status).toBe(200);
    expect(await consolePage.text()).toContain('Acme');

    const me = await fetchPage(jar, '/api/v1/me');
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: t.primaryAdminId, userName: 'boss@acme-sso.test', tenant: { id: t.id }, admin: true, signInMethod: 'oidc' });
    const user = await scim(h, t).get(`/Users/${t.primaryAdminId}`);
    expect(user.body['urn:provisio:params:scim:schemas:extension:2.0:User']).toMatchObject({ activationState: 'active', privacyPolicyAcceptedAt: expect.any(String) });
    const linked = await h.owner(async (trx) => (await trx.raw('SELECT subject FROM sso_identities WHERE user_id = ?', [t.primaryAdminId])).rows);
    expect(linked).toEqual([{ subject: 'idp-boss' }]);
  });

  it('a member signs in through the IdP, lands on their account page, and is forced out by the admin API', async () => {
    const id = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'ann@acme-sso.test' })).body.id;
    idp.setAccount('ann@acme-sso.test', { sub: 'idp-ann', email: 'ann@acme-sso.test', email_verified: true });
    const jar = new CookieJar();
    const result = await signInAt(jar, 'ann@acme-sso.test');
    expect(result.url.pathname).toBe('/accept-privacy');
    const accepted = await postForm(jar, '/accept-privacy', { acceptPrivacy: 'yes' }, await result.response.text());
    expect(accepted.headers.get('location')).toBe('/account');
    expect((await fetchPage(jar, '/api/v1/me')).status).toBe(200);

    const out = await h.http.post(`/api/v1/users/${id}/force-logout`).set('Authorization', `Bearer ${t.token}`).send({});
    expect(out.status).toBe(200);
    expect((await fetchPage(jar, '/api/v1/me')).status).toBe(401);
    const again = await fetchPage(jar, '/account');
    expect(again.headers.get('location')).toBe('/login');
  });

  it('an address with no account in an SSO domain goes to the IdP too, and is refused there with the generic page', async () => {
    idp.setAccount('ghost@acme-sso.test', { sub: 'idp-ghost', email: 'ghost@acme-sso.test', email_verified: true });
    const jar = new CookieJar();
    const result = await signInAt(jar, 'ghost@acme-sso.test');
    expect(result.response.status).toBe(403);
    expect(await result.response.text()).toContain('We could not sign you in');
    expect((await fetchPage(jar, '/api/v1/me')).status).toBe(401);
  });
});

// The OAuth 2.0 authorization code grant for SCIM clients (Okta's "OAuth 2" authentication;
// server/oauth/grants.ts, http/oauth-authorize.ts) on a real server and database, over HTTP with
// cookie jars: a tenant admin signs in through the front door's real endpoints on the way to the
// consent page, allows, and the client exchanges the code (RFC 6749 §4.1), refreshes with
// rotation and reuse detection (RFC 9700 §4.14.2), revokes (RFC 7009). Wrong clients and redirect
// URIs get a page and no redirect (§4.1.2.1); PKCE (RFC 7636); code replay and expiry (injected
// clock); people of another tenant and non-admins refused; the grant stops with the person's
// authority and with revocation through the admin API.
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import { decodeJwt } from 'jose';
import { browser, Browser } from '../support/browser';
import { activatedBrowser, GOOD_PASSWORD } from '../support/console';
import { adminApi, createTenant, Harness, startHarness, TestTenant } from '../support/harness';
import { parseNewScimClient } from '../../server/admin/scim-clients';

let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
let h: Harness;
let t: TestTenant;
let other: TestTenant;
let seq = 0;
const PUBLIC_URL = 'http://provisio.test';
// Never fetched: redirects are Location headers the tests read (no request leaves the process).
const REDIRECT = 'https://idp.example.test/admin/app/oauth/callback?app=provisio';

interface Client {
  id: string;
  clientId: string;
  clientSecret: string;
}

async function codeClient(extra: Record<string, unknown> = {}, tenant = () => t): Promise<Client> {
  const res = await adminApi(h, tenant()).post('/scim-clients', { name: `Okta ${++seq}`, scopes: ['scim'], grantType: 'authorization_code', redirectUris: [REDIRECT], ...extra });
  if (res.status !== 201) throw new Error(`client: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const authorizePath = (c: Client, extra: Record<string, string | undefined> = {}) => {
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: c.clientId, redirect_uri: REDIRECT, state: 'st-42', scope: 'scim offline_access', ...extra })) if (v !== undefined) q[k] = v;
  return `/oauth/authorize?${new URLSearchParams(q).toString()}`;
};

const unescapeHtml = (s: string) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
/** The hidden fields of the consent form, as a browser would post them. */
function consentFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([a-z_]+)" value="([^"]*)">/g)) if (m[1] !== '_csrf') out[m[1]] = unescapeHtml(m[2]);
  return out;
}

/** The answer's parameters at the redirect URI. */
function answer(res: request.Response): URLSearchParams {
  expect(res.status).toBe(303);
  const loc = String(res.headers.location);
  expect(loc.startsWith('https://idp.example.test/admin/app/oauth/callback?app=provisio&')).toBe(true);
  return new URL(loc).searchParams;
}

/** A signed-in admin of `t` (activated once, then a fresh browser through /login). */
let adminEmail: string;
let adminId: string;
async function signedInAdmin(): Promise<Browser> {
  const b = browser(h.app);
  const res = await b.signIn(adminEmail, GOOD_PASSWORD);
  expect(res.status).toBe(303);
  return b;
}

/** Consent as a signed-in person: the page, then Allow (or Deny); returns the code's answer. */
async function consent(b: Browser, c: Client, extra: Record<string, string | undefined> = {}, decision = 'allow'): Promise<URLSearchParams> {
  const page = await b.get(authorizePath(c, extra));
  expect(page.status).toBe(200);
  return answer(await b.post('/oauth/authorize', { ...consentFields(page.text), decision }));
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
function token(c: Client, form: Record<string, string>, auth: 'basic' | 'post' = 'basic') {
  let r = h.http.post('/oauth/token').type('form');
  const body = { ...form };
  if (auth === 'basic') r = r.set('Authorization', basic(c.clientId, c.clientSecret));
  else Object.assign(body, { client_id: c.clientId, client_secret: c.clientSecret });
  return r.send(new URLSearchParams(body).toString());
}
const exchange = (c: Client, code: string, extra: Record<string, string> = {}, auth: 'basic' | 'post' = 'basic') => token(c, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...extra }, auth);
const refresh = (c: Client, rt: string) => token(c, { grant_type: 'refresh_token', refresh_token: rt });
const revoke = (c: Client, tok: string) => h.http.post('/oauth/revoke').type('form').set('Authorization', basic(c.clientId, c.clientSecret)).send(new URLSearchParams({ token: tok }).toString());
const scimStatus = async (accessToken: string, tenant = t) => (await h.http.get(`${tenant.path}/Users`).set('Authorization', `Bearer ${accessToken}`)).status;

function expectOAuthError(res: request.Response, status: number, error: string) {
  expect({ status: res.status, error: res.body.error }).toEqual({ status, error });
  expect(res.headers['cache-control']).toBe('no-store');
}

/** A page, never a redirect (RFC 6749 §4.1.2.1). */
function expectPage(res: request.Response, status: number, text?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers.location).toBeUndefined();
  expect(res.headers['content-type']).toMatch(/text\/html/);
  if (text) expect(res.text).toMatch(text);
}

/** A whole grant: consent as the admin, exchange; returns the token answer. */
async function granted(c: Client, extra: Record<string, string | undefined> = {}, verifier?: string) {
  const b = await signedInAdmin();
  const code = (await consent(b, c, extra)).get('code')!;
  const res = await exchange(c, code, verifier ? { code_verifier: verifier } : {});
  expect(res.status).toBe(200);
  return res.body as { access_token: string; refresh_token: string; expires_in: number; scope: string; token_type: string };
}

async function newPerson(role: 'admin' | 'user', tenant = () => t): Promise<{ id: string; email: string; b: Browser }> {
  const email = `oauth-person${++seq}-${randomBytes(3).toString('hex')}@acme.test`;
  const res = await adminApi(h, tenant()).post('/users', { givenName: 'Pat', familyName: `Person ${seq}`, email, role });
  expect(res.status).toBe(201);
  const b = await activatedBrowser(h, email);
  return { id: res.body.user.id, email, b };
}

const auditActions = async () => ((await adminApi(h, t).get('/audit?limit=200').expect(200)).body.entries as { action: string; target: { id: string }; actor: { type: string; id: string } }[]);

beforeAll(async () => {
  h = await startHarness({ clock });
  t = await createTenant(h, 'Acme Partners');
  other = await createTenant(h, 'Other Org');
  // An admin of t with a password: activated once through the kept mail.
  const p = await newPerson('admin');
  adminEmail = p.email;
  adminId = p.id;
});
afterAll(() => h.close());
afterEach(() => {
  offsetMs = 0;
});

describe('registering a client for the authorization code grant', () => {
  it('shows its grant type, redirect URIs and endpoints, and refuses client_credentials for it', async () => {
    const c = await codeClient({ requirePkce: true });
    const got = await adminApi(h, t).get(`/scim-clients/${c.id}`).expect(200);
    expect(got.body).toMatchObject({ grantType: 'authorization_code', redirectUris: [REDIRECT], requirePkce: true, authorizationEndpoint: `${PUBLIC_URL}/oauth/authorize`, tokenEndpoint: `${PUBLIC_URL}/oauth/token` });
    expect(got.body.clientSecret).toBeUndefined();
    expectOAuthError(await token(c, { grant_type: 'client_credentials' }), 400, 'unauthorized_client');
  });

  it.each([
    [{ redirectUris: undefined }, /redirectUris is required/],
    [{ redirectUris: [] }, /redirectUris is required/],
    [{ redirectUris: ['http://idp.example.test/cb'] }, /https/],
    [{ redirectUris: ['http://127.0.0.1:9/cb'] }, /SSO_ALLOW_INSECURE_ISSUERS/],
    [{ redirectUris: ['https://idp.example.test/cb#x'] }, /fragment/],
    [{ redirectUris: ['/relative'] }, /absolute/],
    [{ requirePkce: 'yes' }, /requirePkce/],
    [{ grantType: 'password' }, /grantType/],
    [{ subAccount: '00000000-0000-4000-8000-000000000000' }, /tenant-wide/],
  ])('refuses %j with a clear error and stores nothing', async (extra, detail) => {
    const before = (await adminApi(h, t).get('/scim-clients').expect(200)).body.scimClients.length;
    const res = await adminApi(h, t).post('/scim-clients', { name: 'Bad', scopes: ['scim'], grantType: 'authorization_code', redirectUris: [REDIRECT], ...extra });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(detail);
    expect((await adminApi(h, t).get('/scim-clients').expect(200)).body.scimClients.length).toBe(before);
  });

  it('accepts plain http to a loopback host only under the development setting of SSO issuers', () => {
    const body = { name: 'Dev', scopes: ['scim'], grantType: 'authorization_code', redirectUris: ['http://127.0.0.1:8080/cb', 'http://localhost/cb'] };
    expect(parseNewScimClient(body, { allowInsecureRedirects: true }).redirectUris).toEqual(['http://127.0.0.1:8080/cb', 'http://localhost/cb']);
    expect(() => parseNewScimClient(body)).toThrow(/SSO_ALLOW_INSECURE_ISSUERS/);
    expect(() => parseNewScimClient({ ...body, redirectUris: ['http://10.0.0.1/cb'] }, { allowInsecureRedirects: true })).toThrow(/https/);
  });

  it('the metadata names the authorization and revocation endpoints', async () => {
    const res = await h.http.get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.body).toMatchObject({
      authorization_endpoint: `${PUBLIC_URL}/oauth/authorize`,
      revocation_endpoint: `${PUBLIC_URL}/oauth/revoke`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token']),
      authorization_response_iss_parameter_supported: true,
    });
  });
});

describe('the whole flow', () => {
  it('anonymous → /login → back to the consent page → code with state and iss → tokens → SCIM works; audited; last use shown', async () => {
    const c = await codeClient();
    const b = browser(h.app);
    const first = await b.get(authorizePath(c));
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe('/login');
    // The sign-in, through the front door's real pages, lands back on the authorize request.
    const signIn = await b.signIn(adminEmail, GOOD_PASSWORD);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.location).toBe(authorizePath(c));
    const page = await b.get(signIn.headers.location);
    expect(page.status).toBe(200);
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.text).toContain(`Okta ${seq}`);
    expect(page.text).toContain('Acme Partners');
    expect(page.text).toMatch(/name="_csrf"/);
    expect(page.text).not.toMatch(/<script>/);
    expect(page.text).toMatch(/users and groups over SCIM/);
    // The waiting request is forgotten once shown: a later sign-in lands on the console.
    expect(b.setCookies.get('provisio.oauth')).toBe('');

    const back = answer(await b.post('/oauth/authorize', { ...consentFields(page.text), decision: 'allow' }));
    expect(back.get('state')).toBe('st-42');
    expect(back.get('iss')).toBe(PUBLIC_URL);
    const code = back.get('code')!;
    expect(code).toMatch(/^pvac_[A-Za-z0-9_-]{43}$/);

    const res = await exchange(c, code, {}, 'post');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', scope: 'scim', expires_in: 3600, refresh_token: expect.stringMatching(/^pvrt_/) });
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({ iss: PUBLIC_URL, sub: adminId, client_id: c.clientId, tenant_id: t.id, gid: expect.any(String) });
    expect(await scimStatus(res.body.access_token)).toBe(200);
    // Another tenant's SCIM URL refuses it.
    expect(await scimStatus(res.body.access_token, other)).toBe(401);

    // Nothing secret at rest: the code and refresh token only as hashes.
    const hash = (s: string) => createHash('sha256').update(s).digest('hex');
    const rows = await h.owner(async (db) => ({
      codes: (await db.raw('SELECT code_hash FROM oauth_codes WHERE tenant_id = ?', [t.id])).rows.map((r: { code_hash: string }) => r.code_hash),
      refresh: (await db.raw('SELECT token_hash FROM oauth_refresh_tokens WHERE tenant_id = ?', [t.id])).rows.map((r: { token_hash: string }) => r.token_hash),
    }));
    expect(rows.codes).toContain(hash(code));
    expect(rows.refresh).toContain(hash(res.body.refresh_token));
    expect(JSON.stringify(rows)).not.toContain(code);

    const gid = String(claims.gid);
    const entries = await auditActions();
    expect(entries.find((e) => e.action === 'oauthGrant.create' && e.target.id === gid)).toMatchObject({ actor: { type: 'user', id: adminId } });
    // The tokens list shows the grant with who consented, and its last use once recorded.
    let listed: { id: string; consentedBy: { id: string }; lastUsedAt: string | null; client: { name: string } } | undefined;
    for (let i = 0; i < 100; i++) {
      listed = (await adminApi(h, t).get('/tokens').expect(200)).body.oauthGrants.find((g: { id: string }) => g.id === gid);
      if (listed?.lastUsedAt) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(listed).toMatchObject({ consentedBy: { id: adminId }, client: { name: `Okta ${seq}` }, lastUsedAt: expect.any(String) });
  });

  it('an anonymous visit writes no session row: the waiting request is in a sealed, short-lived cookie; a tampered one is ignored', async () => {
    const c = await codeClient();
    const rows = async () => Number((await h.owner((db) => db.raw('SELECT count(*)::int AS n FROM sessions'))).rows[0].n);
    const before = await rows();
    const res = await h.http.get(authorizePath(c));
    expect(res.status).toBe(303);
    expect(await rows()).toBe(before);
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    expect(cookies.some((x) => x.startsWith('provisio.sid='))).toBe(false);
    const resume = cookies.find((x) => x.startsWith('provisio.oauth='))!;
    expect(resume).toMatch(/; Max-Age=600;/);
    expect(resume).toMatch(/; HttpOnly/);
    expect(resume).toMatch(/; SameSite=Lax/);
    expect(decodeURIComponent(resume.split(';')[0].split('=')[1])).not.toContain(c.clientId);
    // The cookie carried to a browser brings its sign-in back to the request; tampered with, it
    // does not open and the person lands on the console as usual.
    const value = resume.split(';')[0].split('=')[1];
    const carried = browser(h.app);
    carried.agent.jar.setCookie(`provisio.oauth=${value}; Path=/`);
    expect((await carried.signIn(adminEmail, GOOD_PASSWORD)).headers.location).toBe(authorizePath(c));
    const tampered = browser(h.app);
    tampered.agent.jar.setCookie(`provisio.oauth=${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}; Path=/`);
    expect((await tampered.signIn(adminEmail, GOOD_PASSWORD)).headers.location).toBe('/console');
    // After ten minutes (server clock) it is dead inside the seal too, whatever the browser keeps.
    const late = browser(h.app);
    late.agent.jar.setCookie(`provisio.oauth=${value}; Path=/`);
    offsetMs = 11 * 60_000;
    expect((await late.signIn(adminEmail, GOOD_PASSWORD)).headers.location).toBe('/console');
  });

  it('deny sends error=access_denied with state and iss, and no code', async () => {
    const c = await codeClient();
    const back = await consent(await signedInAdmin(), c, {}, 'deny');
    expect(Object.fromEntries(back)).toMatchObject({ error: 'access_denied', state: 'st-42', iss: PUBLIC_URL });
    expect(back.get('code')).toBeNull();
  });

  it('a consent form without its CSRF token is refused with a page', async () => {
    const c = await codeClient();
    const b = await signedInAdmin();
    const page = await b.get(authorizePath(c));
    expectPage(await b.post('/oauth/authorize', { ...consentFields(page.text), decision: 'allow' }, { csrf: false }), 403);
  });
});

describe('client and redirect URI: a page, never a redirect', () => {
  it('an unregistered redirect_uri (even a prefix or a variant) is a page naming it', async () => {
    const c = await codeClient();
    for (const uri of ['https://evil.example.test/cb', `${REDIRECT}&x=1`, REDIRECT.replace('https', 'http'), REDIRECT.toUpperCase()]) {
      expectPage(await browser(h.app).get(authorizePath(c, { redirect_uri: uri })), 400, /not one registered/);
    }
    // Signed in changes nothing.
    expectPage(await (await signedInAdmin()).get(authorizePath(c, { redirect_uri: 'https://evil.example.test/cb' })), 400);
  });

  it('an unknown, malformed, revoked or client-credentials client is a page', async () => {
    const cc = (await adminApi(h, t).post('/scim-clients', { name: 'CC', scopes: ['scim'] }).expect(201)).body as Client;
    const revoked = await codeClient();
    await adminApi(h, t).delete(`/scim-clients/${revoked.id}`).expect(204);
    for (const c of [{ clientId: '00000000-0000-4000-8000-000000000000' }, { clientId: 'okta' }, cc, revoked] as Client[]) {
      expectPage(await browser(h.app).get(authorizePath(c)), 400, /application is unknown/);
    }
    expectPage(await browser(h.app).get('/oauth/authorize?response_type=code'), 400);
  });

  it('a repeated client_id is a page; a bad response_type or scope goes back to the redirect URI with state', async () => {
    const c = await codeClient();
    expectPage(await browser(h.app).get(`${authorizePath(c)}&client_id=${c.clientId}`), 400);
    expect(Object.fromEntries(answer(await browser(h.app).get(authorizePath(c, { response_type: 'token' }))))).toMatchObject({ error: 'unsupported_response_type', state: 'st-42', iss: PUBLIC_URL });
    expect(Object.fromEntries(answer(await browser(h.app).get(authorizePath(c, { scope: 'admin' }))))).toMatchObject({ error: 'invalid_scope', state: 'st-42' });
  });

  it('leaving out redirect_uri works for a client with one registered URI', async () => {
    const c = await codeClient();
    const b = await signedInAdmin();
    const code = (await consent(b, c, { redirect_uri: undefined })).get('code')!;
    expect((await token(c, { grant_type: 'authorization_code', code })).status).toBe(200);
  });
});

describe('PKCE (RFC 7636)', () => {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');

  it('a client that requires it is refused without a challenge; plain is refused', async () => {
    const c = await codeClient({ requirePkce: true });
    expect(Object.fromEntries(answer(await browser(h.app).get(authorizePath(c))))).toMatchObject({ error: 'invalid_request', state: 'st-42' });
    expect(answer(await browser(h.app).get(authorizePath(c, { code_challenge: challenge, code_challenge_method: 'plain' }))).get('error')).toBe('invalid_request');
    expect(answer(await browser(h.app).get(authorizePath(c, { code_challenge: challenge }))).get('error')).toBe('invalid_request');
  });

  it('S256: the right verifier gets tokens; a wrong or missing one does not', async () => {
    const c = await codeClient({ requirePkce: true });
    const b = await signedInAdmin();
    const pkce = { code_challenge: challenge, code_challenge_method: 'S256' };
    const code1 = (await consent(b, c, pkce)).get('code')!;
    expectOAuthError(await exchange(c, code1, { code_verifier: randomBytes(32).toString('base64url') }), 400, 'invalid_grant');
    const code2 = (await consent(b, c, pkce)).get('code')!;
    expectOAuthError(await exchange(c, code2), 400, 'invalid_grant');
    const code3 = (await consent(b, c, pkce)).get('code')!;
    expect((await exchange(c, code3, { code_verifier: verifier })).status).toBe(200);
  });

  it('a verifier for a code made without a challenge is refused (downgrade)', async () => {
    const c = await codeClient();
    const code = (await consent(await signedInAdmin(), c)).get('code')!;
    expectOAuthError(await exchange(c, code, { code_verifier: verifier }), 400, 'invalid_grant');
  });
});

describe('the code', () => {
  it('is bound to its client and redirect URI', async () => {
    const c = await codeClient({ redirectUris: [REDIRECT, 'https://idp.example.test/other'] });
    const d = await codeClient();
    const b = await signedInAdmin();
    const code = (await consent(b, c)).get('code')!;
    expectOAuthError(await exchange(d, code), 400, 'invalid_grant');
    expectOAuthError(await exchange(c, code, { redirect_uri: 'https://idp.example.test/other' }), 400, 'invalid_grant');
    // Wrong client secret: 401 invalid_client, the code untouched.
    expectOAuthError(await exchange({ ...c, clientSecret: 'pvcs_wrong' }, code), 401, 'invalid_client');
    expect((await exchange(c, code)).status).toBe(200);
  });

  it('expires after 60 seconds (server clock)', async () => {
    const c = await codeClient();
    const code = (await consent(await signedInAdmin(), c)).get('code')!;
    offsetMs = 61_000;
    expectOAuthError(await exchange(c, code), 400, 'invalid_grant');
  });

  it('replayed, it is refused and revokes the tokens issued from it', async () => {
    const c = await codeClient();
    const code = (await consent(await signedInAdmin(), c)).get('code')!;
    const first = await exchange(c, code);
    expect(first.status).toBe(200);
    expect(await scimStatus(first.body.access_token)).toBe(200);
    expectOAuthError(await exchange(c, code), 400, 'invalid_grant');
    expect(await scimStatus(first.body.access_token)).toBe(401);
    expectOAuthError(await refresh(c, first.body.refresh_token), 400, 'invalid_grant');
    const gid = String(decodeJwt(first.body.access_token).gid);
    expect((await auditActions()).some((e) => e.action === 'oauthGrant.codeReplayed' && e.target.id === gid)).toBe(true);
    expect((await adminApi(h, t).get(`/oauth-grants/${gid}`).expect(200)).body).toMatchObject({ revokedAt: expect.any(String), revokedReason: 'authorization code used twice' });
  });
});

describe('races', () => {
  it('one code sent twice at once: one answer at most, and what it gave is revoked', async () => {
    const c = await codeClient();
    const code = (await consent(await signedInAdmin(), c)).get('code')!;
    const answers = await Promise.all([exchange(c, code), exchange(c, code)]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses[1]).toBe(400);
    for (const r of answers.filter((x) => x.status === 200)) expect(await scimStatus(r.body.access_token)).toBe(401);
  });

  it('one refresh token sent twice at once: reuse, the grant is revoked', async () => {
    const c = await codeClient();
    const g = await granted(c);
    const answers = await Promise.all([refresh(c, g.refresh_token), refresh(c, g.refresh_token)]);
    expect(answers.map((r) => r.status).sort()[1]).toBe(400);
    for (const r of answers.filter((x) => x.status === 200)) {
      expect(await scimStatus(r.body.access_token)).toBe(401);
      expectOAuthError(await refresh(c, r.body.refresh_token), 400, 'invalid_grant');
    }
    expect(await scimStatus(g.access_token)).toBe(401);
  });
});

describe('refresh tokens', () => {
  it('rotate on every use; a used one presented again revokes the whole grant', async () => {
    const c = await codeClient();
    const g = await granted(c);
    const r1 = await refresh(c, g.refresh_token);
    expect(r1.status).toBe(200);
    expect(r1.body.refresh_token).not.toBe(g.refresh_token);
    expect(await scimStatus(r1.body.access_token)).toBe(200);
    const r2 = await refresh(c, r1.body.refresh_token);
    expect(r2.status).toBe(200);
    const gid = String(decodeJwt(r2.body.access_token).gid);
    expect((await adminApi(h, t).get(`/oauth-grants/${gid}`).expect(200)).body.lastRefreshedAt).toEqual(expect.any(String));
    // The first refresh token again: reuse. The grant dies with everything it issued.
    expectOAuthError(await refresh(c, g.refresh_token), 400, 'invalid_grant');
    expectOAuthError(await refresh(c, r2.body.refresh_token), 400, 'invalid_grant');
    expect(await scimStatus(r2.body.access_token)).toBe(401);
    expect(await scimStatus(g.access_token)).toBe(401);
    expect((await auditActions()).some((e) => e.action === 'oauthGrant.reuseDetected' && e.target.id === gid)).toBe(true);
  });

  it('belong to their client, and may narrow scopes but not widen them', async () => {
    const c = await codeClient();
    const d = await codeClient();
    const g = await granted(c);
    expectOAuthError(await refresh(d, g.refresh_token), 400, 'invalid_grant');
    expectOAuthError(await token(c, { grant_type: 'refresh_token', refresh_token: g.refresh_token, scope: 'admin' }), 400, 'invalid_scope');
    expect((await token(c, { grant_type: 'refresh_token', refresh_token: g.refresh_token, scope: 'scim' })).status).toBe(200);
    expectOAuthError(await refresh(c, 'pvrt_unknown'), 400, 'invalid_grant');
    // Unused for 90 days (server clock), a refresh token has expired.
    const g2 = await granted(c);
    offsetMs = 91 * 86_400_000;
    expectOAuthError(await refresh(c, g2.refresh_token), 400, 'invalid_grant');
    expectOAuthError(await token(c, { grant_type: 'refresh_token' }), 400, 'invalid_request');
  });
});

describe('revocation', () => {
  it('/oauth/revoke with the refresh token stops the grant at once; unknown tokens answer 200; the client must authenticate', async () => {
    const c = await codeClient();
    const g = await granted(c);
    expect((await revoke(c, g.refresh_token)).status).toBe(200);
    expect(await scimStatus(g.access_token)).toBe(401);
    expectOAuthError(await refresh(c, g.refresh_token), 400, 'invalid_grant');
    expect((await revoke(c, 'pvrt_nothing')).status).toBe(200);
    expectOAuthError(await revoke({ ...c, clientSecret: 'wrong' }, g.refresh_token), 401, 'invalid_client');
    expectOAuthError(await h.http.post('/oauth/revoke').type('form').set('Authorization', basic(c.clientId, c.clientSecret)).send(''), 400, 'invalid_request');
  });

  it('/oauth/revoke with an access token revokes its grant; another client cannot revoke it', async () => {
    const c = await codeClient();
    const d = await codeClient();
    const g = await granted(c);
    expect((await revoke(d, g.access_token)).status).toBe(200);
    expect((await revoke(d, g.refresh_token)).status).toBe(200);
    expect(await scimStatus(g.access_token)).toBe(200); // d named a token not its own
    expect((await revoke(c, g.access_token)).status).toBe(200);
    expect(await scimStatus(g.access_token)).toBe(401);
  });

  it('through the admin API: the grant, or its client; another tenant sees a 404', async () => {
    const c = await codeClient();
    const g = await granted(c);
    const gid = String(decodeJwt(g.access_token).gid);
    await adminApi(h, other).get(`/oauth-grants/${gid}`).expect(404);
    await adminApi(h, other).delete(`/oauth-grants/${gid}`).expect(404);
    expect(await scimStatus(g.access_token)).toBe(200);
    await adminApi(h, t).delete(`/oauth-grants/${gid}`).expect(204);
    expect(await scimStatus(g.access_token)).toBe(401);
    expectOAuthError(await refresh(c, g.refresh_token), 400, 'invalid_grant');
    expect((await auditActions()).find((e) => e.action === 'oauthGrant.revoke' && e.target.id === gid)).toMatchObject({ actor: { type: 'token' } });
    await adminApi(h, t).delete(`/oauth-grants/${gid}`).expect(204); // idempotent

    const g2 = await granted(c);
    await adminApi(h, t).delete(`/scim-clients/${c.id}`).expect(204);
    expect(await scimStatus(g2.access_token)).toBe(401);
    expectOAuthError(await refresh(c, g2.refresh_token), 401, 'invalid_client');
    const listed = (await adminApi(h, t).get('/oauth-grants').expect(200)).body.oauthGrants.find((x: { id: string }) => x.id === String(decodeJwt(g2.access_token).gid));
    expect(listed).toMatchObject({ revokedAt: expect.any(String), revokedReason: 'client revoked' });
  });
});

describe('who may consent', () => {
  it('an admin of another tenant gets a refusal page and never a code', async () => {
    const c = await codeClient();
    const b = await activatedBrowser(h, other.adminEmail);
    const page = await b.get(authorizePath(c));
    expectPage(page, 403, /another organisation/);
    expect(page.text).not.toContain('name="decision"');
    // Posting the form anyway changes nothing.
    const forced = await b.post('/oauth/authorize', { response_type: 'code', client_id: c.clientId, redirect_uri: REDIRECT, state: 'x', decision: 'allow' });
    expectPage(forced, 403);
  });

  it('a person of the tenant who is not an admin gets a refusal page', async () => {
    const c = await codeClient();
    const p = await newPerson('user');
    expectPage(await p.b.get(authorizePath(c)), 403, /Only an administrator/);
  });

  it('the grant stops when the consenting person loses admin rights, or is deactivated', async () => {
    const c = await codeClient();
    const boss = await newPerson('admin');
    const code = (await consent(boss.b, c)).get('code')!;
    const g = (await exchange(c, code)).body;
    expect(await scimStatus(g.access_token)).toBe(200);
    await adminApi(h, t).patch(`/users/${boss.id}`, { role: 'user' }).expect(200);
    expect(await scimStatus(g.access_token)).toBe(401);
    expectOAuthError(await refresh(c, g.refresh_token), 400, 'invalid_grant');
    // Made admin again, the grant works again: it was never revoked, only not empowered.
    await adminApi(h, t).patch(`/users/${boss.id}`, { role: 'admin' }).expect(200);
    expect(await scimStatus(g.access_token)).toBe(200);

    const code2 = (await consent(boss.b, c)).get('code')!;
    const g2 = (await exchange(c, code2)).body;
    await h.http
      .patch(`${t.path}/Users/${boss.id}`)
      .set('Authorization', `Bearer ${t.token}`)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', value: { active: false } }] }))
      .expect(200);
    expect(await scimStatus(g2.access_token)).toBe(401);
    expectOAuthError(await refresh(c, g2.refresh_token), 400, 'invalid_grant');
  });

  it('a code whose person lost the right before the exchange is refused', async () => {
    const c = await codeClient();
    const boss = await newPerson('admin');
    const code = (await consent(boss.b, c)).get('code')!;
    await adminApi(h, t).patch(`/users/${boss.id}`, { role: 'user' }).expect(200);
    expectOAuthError(await exchange(c, code), 400, 'invalid_grant');
  });
});

describe('the console tokens page', () => {
  const french = (b: Browser, path: string) => b.agent.get(path).set('Accept-Language', 'fr-FR,fr;q=0.9');

  it('lists every credential kind with its last use, in English and French, and revokes a grant and the issuer behind a confirmation', async () => {
    const name = `Okta console ${randomBytes(3).toString('hex')}`;
    const c = await codeClient({ name });
    const g = await granted(c);
    const gid = String(decodeJwt(g.access_token).gid);
    // The trusted issuer, stored as the admin API would (never contacted: no token of it is checked here).
    await h.owner((db) =>
      db.raw(`INSERT INTO scim_issuers (tenant_id, kind, issuer, jwks_url, audience, claim_name, claim_value, created_at, updated_at) VALUES (?, 'custom', 'https://issuer.example.test/v2.0', 'https://issuer.example.test/keys', 'api://provisio', 'tid', 'x', now(), now()) ON CONFLICT (tenant_id) DO NOTHING`, [t.id]),
    );
    const b = await signedInAdmin();
    const en = await b.get('/console/tokens');
    expect(en.status).toBe(200);
    expect(en.text).toContain('Access allowed to SCIM clients');
    expect(en.text).toContain(name);
    expect(en.text).toContain('authorization code (an administrator allows it)');
    expect(en.text).toContain(`action="/console/tokens/grants/${gid}/revoke"`);
    expect(en.text).toContain('https://issuer.example.test/v2.0');
    expect(en.text).toContain('action="/console/tokens/issuer/revoke"');
    const fr = await french(b, '/console/tokens');
    expect(fr.text).toContain('Accès accordés à des clients SCIM');
    expect(fr.text).toContain('code d&#39;autorisation');

    await b.get('/console/tokens');
    const ask = await b.post(`/console/tokens/grants/${gid}/revoke`, {});
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(name);
    expect(ask.text).toContain('name="confirm"');
    expect(await scimStatus(g.access_token)).toBe(200);
    const done = await b.post(`/console/tokens/grants/${gid}/revoke`, { confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(await scimStatus(g.access_token)).toBe(401);
    expect((await auditActions()).find((e) => e.action === 'oauthGrant.revoke' && e.target.id === gid)).toMatchObject({ actor: { type: 'user' } });

    await b.get('/console/tokens');
    expect((await b.post('/console/tokens/issuer/revoke', {})).text).toContain('https://issuer.example.test/v2.0');
    expect((await b.post('/console/tokens/issuer/revoke', { confirm: 'yes' })).status).toBe(303);
    await adminApi(h, t).get('/scim-issuer').expect(404);
  });
});

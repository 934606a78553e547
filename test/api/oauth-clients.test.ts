// OAuth 2.0 client credentials for SCIM (issue 13, "How SCIM clients authenticate") on a real
// server and database: a SCIM client made through the admin API (secret shown once, stored as a
// hash), access tokens at /oauth/token with client_secret_basic and client_secret_post (RFC 6749
// §4.4, §2.3.1, errors per §5.2), RFC 9068 JWTs verified against the published JWKS, accepted on
// SCIM (and the admin API with the admin scope), refused when expired by the server's clock, for
// another tenant or audience, or signed by a key the server does not publish; revocation that
// stops the tokens at once; key rotation with a token in flight.
import request from 'supertest';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { hashToken } from '../../server/secrets';
import { createTenant, Harness, OPERATOR_TOKEN, PROVISIO_GROUP, GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';

let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);
let h: Harness;
let t: TestTenant;
let other: TestTenant;
const PUBLIC_URL = 'http://provisio.test';

const admin = (token: string) => {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  return {
    get: (p: string) => auth(h.http.get(`/api/v1${p}`)),
    post: (p: string, body: unknown) => auth(h.http.post(`/api/v1${p}`)).send(body as object),
    delete: (p: string) => auth(h.http.delete(`/api/v1${p}`)),
  };
};

interface Client {
  id: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  tokenLifetimeMinutes: number;
}

async function newClient(body: Record<string, unknown> = {}, by = t.token): Promise<Client> {
  const res = await admin(by).post('/scim-clients', { name: 'Entra provisioning', scopes: ['scim'], ...body });
  if (res.status !== 201) throw new Error(`client: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A token request; `auth` 'basic' (client_secret_basic) or 'post' (client_secret_post). */
function tokenRequest(c: { clientId: string; clientSecret: string }, auth: 'basic' | 'post' = 'basic', extra: Record<string, string> = {}) {
  const form: Record<string, string> = { grant_type: 'client_credentials', ...extra };
  let r = h.http.post('/oauth/token').type('form');
  if (auth === 'basic') r = r.set('Authorization', basic(c.clientId, c.clientSecret));
  else Object.assign(form, { client_id: c.clientId, client_secret: c.clientSecret });
  return r.send(new URLSearchParams(form).toString());
}

async function accessToken(c: Client, auth: 'basic' | 'post' = 'basic', extra: Record<string, string> = {}): Promise<string> {
  const res = await tokenRequest(c, auth, extra);
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.access_token;
}

const scimWith = (token: string, tenant = t) => ({
  get: (p: string) => h.http.get(tenant.path + p).set('Authorization', `Bearer ${token}`),
  post: (p: string, body: unknown) => h.http.post(tenant.path + p).set('Authorization', `Bearer ${token}`).set('Content-Type', 'application/scim+json').send(JSON.stringify(body)),
});

function expectOAuthError(res: request.Response, status: number, error: string) {
  expect({ status: res.status, type: res.headers['content-type'], error: res.body.error }).toEqual({ status, type: expect.stringMatching(/^application\/json/), error });
  expect(typeof res.body.error_description).toBe('string');
  expect(res.headers['cache-control']).toBe('no-store');
}

beforeAll(async () => {
  h = await startHarness({ clock });
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Other');
});
afterAll(() => h.close());
afterEach(() => {
  offsetMs = 0;
});

describe('SCIM clients in the admin API', () => {
  it('shows the secret once, stores only its hash, lists without it, and audits the creation', async () => {
    const res = await admin(t.token).post('/scim-clients', { name: ' Entra ', scopes: ['scim'] });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.location).toBe(`/api/v1/scim-clients/${res.body.id}`);
    expect(res.body).toMatchObject({ id: expect.any(String), name: 'Entra', scopes: ['scim'], subAccount: null, tokenLifetimeMinutes: 60, tokenEndpoint: `${PUBLIC_URL}/oauth/token`, lastUsedAt: null, revokedAt: null });
    expect(res.body.clientId).toBe(res.body.id);
    expect(res.body.clientSecret).toMatch(/^pvcs_[A-Za-z0-9_-]{43}$/);
    const stored = await h.owner((db) => db('scim_clients').where({ id: res.body.id }).first());
    expect(stored.secret_hash).toBe(hashToken(res.body.clientSecret));
    expect(JSON.stringify(stored)).not.toContain(res.body.clientSecret);
    const one = await admin(t.token).get(`/scim-clients/${res.body.id}`).expect(200);
    const list = await admin(t.token).get('/scim-clients').expect(200);
    expect(one.body.clientSecret).toBeUndefined();
    expect(JSON.stringify(list.body)).not.toContain(res.body.clientSecret);
    expect(list.body.scimClients.map((c: Client) => c.id)).toContain(res.body.id);
    const audit = await admin(t.token).get(`/audit?target=${res.body.id}`).expect(200);
    expect(audit.body.entries).toEqual([expect.objectContaining({ action: 'scimClient.create', target: { type: 'ScimClient', id: res.body.id }, changes: { set: { name: 'Entra', scopes: ['scim'], subAccount: null, tokenLifetimeMinutes: 60 } } })]);
  });

  it.each([
    [{ name: 'x', scopes: ['read'] }, /scopes/],
    [{ name: '', scopes: ['scim'] }, /name/],
    [{ name: 'x', scopes: ['scim'], tokenLifetimeMinutes: 59 }, /tokenLifetimeMinutes/],
    [{ name: 'x', scopes: ['scim'], tokenLifetimeMinutes: 361 }, /tokenLifetimeMinutes/],
    [{ name: 'x', scopes: ['scim'], tokenLifetimeMinutes: 90.5 }, /tokenLifetimeMinutes/],
    [{ name: 'x', scopes: ['scim'], secret: 'mine' }, /secret is not a field here/],
    [{ name: 'x', scopes: ['scim'], subAccount: '00000000-0000-4000-8000-000000000000' }, /subAccount/],
  ])('refuses %j with 400 invalidValue, storing nothing', async (body, detail) => {
    const before = (await admin(t.token).get('/scim-clients')).body.scimClients.length;
    const res = await admin(t.token).post('/scim-clients', body);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(res.body.detail).toMatch(detail);
    expect((await admin(t.token).get('/scim-clients')).body.scimClients.length).toBe(before);
  });

  it('another tenant’s client is 404, and a token that is not an admin token cannot manage clients', async () => {
    const c = await newClient();
    await admin(other.token).get(`/scim-clients/${c.id}`).expect(404);
    await admin(other.token).delete(`/scim-clients/${c.id}`).expect(404);
    const scimOnly = await admin(t.token).post('/tokens', { name: 'scim only', scopes: ['scim'] });
    await admin(scimOnly.body.token).get('/scim-clients').expect(403);
  });

  it('a credential bound to a sub-account creates only clients bound to it', async () => {
    const sub = await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Dept', [PROVISIO_GROUP]: { kind: 'subAccount' } });
    expect(sub.status).toBe(201);
    const bound = await admin(t.token).post('/tokens', { name: 'dept admin', scopes: ['admin'], subAccount: sub.body.id });
    const refused = await admin(bound.body.token).post('/scim-clients', { name: 'x', scopes: ['scim'] });
    expect(refused.status).toBe(403);
    const ok = await admin(bound.body.token).post('/scim-clients', { name: 'x', scopes: ['scim'], subAccount: sub.body.id });
    expect(ok.status).toBe(201);
    const seen = (await admin(bound.body.token).get('/scim-clients')).body.scimClients.map((c: Client) => c.id);
    expect(seen).toEqual([ok.body.id]);
  });
});

describe('the token endpoint', () => {
  it('issues an RFC 9068 access token with client_secret_basic, verifiable against the published JWKS', async () => {
    const c = await newClient();
    const res = await tokenRequest(c, 'basic');
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'scim' });
    const header = decodeProtectedHeader(res.body.access_token);
    expect(header).toMatchObject({ alg: 'RS256', typ: 'at+jwt', kid: expect.any(String) });
    const jwks = (await h.http.get('/.well-known/jwks.json').expect(200)).body;
    expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(header.kid);
    for (const k of jwks.keys) expect(Object.keys(k).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
    const { payload } = await jwtVerify(res.body.access_token, createLocalJWKSet(jwks), { issuer: PUBLIC_URL, audience: t.base, typ: 'at+jwt' });
    expect(payload).toMatchObject({ iss: PUBLIC_URL, sub: c.clientId, client_id: c.clientId, aud: t.base, scope: 'scim', tenant_id: t.id, jti: expect.any(String) });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('accepts client_secret_post too, and the token works on the tenant’s SCIM API, audited as the client', async () => {
    const c = await newClient();
    const token = await accessToken(c, 'post');
    const created = await scimWith(token).post('/Users', { schemas: [USER], userName: 'oauth.user@acme.test' });
    expect(created.status).toBe(201);
    await scimWith(token).get(`/Users/${created.body.id}`).expect(200);
    const audit = await admin(t.token).get(`/audit?target=${created.body.id}`).expect(200);
    expect(audit.body.entries[0].actor).toEqual({ type: 'scimClient', id: c.clientId });
  });

  it('refuses a wrong secret and an unknown client with 401 invalid_client and WWW-Authenticate', async () => {
    const c = await newClient();
    for (const auth of ['basic', 'post'] as const) {
      const wrong = await tokenRequest({ clientId: c.clientId, clientSecret: c.clientSecret + 'x' }, auth);
      expectOAuthError(wrong, 401, 'invalid_client');
      expect(wrong.headers['www-authenticate']).toMatch(/^Basic realm="provisio"/);
    }
    expectOAuthError(await tokenRequest({ clientId: '01990000-0000-7000-8000-000000000000', clientSecret: c.clientSecret }), 401, 'invalid_client');
    expectOAuthError(await tokenRequest({ clientId: 'not-a-uuid', clientSecret: c.clientSecret }, 'post'), 401, 'invalid_client');
    // Another tenant's client with this tenant's... nothing: the id names the tenant, the secret must match it.
    const theirs = await newClient({}, other.token);
    expectOAuthError(await tokenRequest({ clientId: theirs.clientId, clientSecret: c.clientSecret }), 401, 'invalid_client');
  });

  it('answers RFC 6749 §5.2 errors for malformed requests', async () => {
    const c = await newClient();
    expectOAuthError(await tokenRequest(c, 'basic', { grant_type: 'password' }), 400, 'unsupported_grant_type');
    expectOAuthError(await h.http.post('/oauth/token').type('form').set('Authorization', basic(c.clientId, c.clientSecret)).send('scope=scim'), 400, 'invalid_request');
    // Both methods at once (§2.3), a repeated parameter (§3.2), JSON instead of a form (§4.4.2).
    expectOAuthError(await tokenRequest(c, 'basic', { client_secret: c.clientSecret }), 400, 'invalid_request');
    expectOAuthError(await h.http.post('/oauth/token').type('form').set('Authorization', basic(c.clientId, c.clientSecret)).send('grant_type=client_credentials&grant_type=client_credentials'), 400, 'invalid_request');
    expectOAuthError(await h.http.post('/oauth/token').set('Authorization', basic(c.clientId, c.clientSecret)).send({ grant_type: 'client_credentials' }), 400, 'invalid_request');
    expectOAuthError(await h.http.post('/oauth/token').type('form').send('grant_type=client_credentials'), 401, 'invalid_client');
    expectOAuthError(await tokenRequest(c, 'basic', { scope: 'admin' }), 400, 'invalid_scope');
    const get = await h.http.get('/oauth/token');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
  });

  it('publishes RFC 8414 metadata', async () => {
    const res = await h.http.get('/.well-known/oauth-authorization-server').expect(200);
    expect(res.body).toMatchObject({
      issuer: PUBLIC_URL,
      token_endpoint: `${PUBLIC_URL}/oauth/token`,
      jwks_uri: `${PUBLIC_URL}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    });
  });

  it('slows down an address that keeps failing one client’s authentication (429), without locking the client out elsewhere', async () => {
    const c = await newClient();
    for (let i = 0; i < 10; i++) expectOAuthError(await tokenRequest({ clientId: c.clientId, clientSecret: 'pvcs_wrong' }), 401, 'invalid_client');
    const refused = await tokenRequest(c);
    expectOAuthError(refused, 429, 'temporarily_unavailable');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    // Another client from the same address is not affected.
    await accessToken(await newClient());
  });
});

describe('access tokens on SCIM and the admin API', () => {
  it('a token is for its tenant and its audience only', async () => {
    const c = await newClient();
    const token = await accessToken(c);
    await scimWith(token).get('/Users').expect(200);
    await scimWith(token, other).get('/Users').expect(401);
    // The scim scope's audience is the SCIM base URL: the admin API refuses it.
    await admin(token).get('/tokens').expect(401);
    const tampered = token.replace(/\.([^.]+)\./, (_m, p: string) => `.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), scope: 'scim admin' })).toString('base64url')}.`);
    await scimWith(tampered).get('/Users').expect(401);
  });

  it('with the admin scope, the token opens the admin API, and the tokens list shows every credential kind with its last use', async () => {
    const c = await newClient({ scopes: ['scim', 'admin'] });
    const token = await accessToken(c);
    expect(decodeJwt(token).aud).toEqual([t.base, `${PUBLIC_URL}/api/v1`]);
    await scimWith(token).get('/Users').expect(200);
    const list = await admin(token).get('/tokens').expect(200);
    expect(list.body.tokens.length).toBeGreaterThan(0);
    const mine = list.body.scimClients.find((x: Client) => x.id === c.id);
    expect(mine.lastUsedAt).not.toBeNull();
    expect(mine.lastTokenAt).not.toBeNull();
    expect(list.body.scimIssuer).toBeNull();
    // A client cannot revoke itself (like a token).
    await admin(token).delete(`/scim-clients/${c.id}`).expect(403);
    // A narrower token on request: scope=scim gives no admin audience.
    const narrow = await accessToken(c, 'basic', { scope: 'scim' });
    expect(decodeJwt(narrow).scope).toBe('scim');
    await admin(narrow).get('/tokens').expect(401);
  });

  it('honours the client’s lifetime and expires by the server’s clock', async () => {
    const c = await newClient({ tokenLifetimeMinutes: 90 });
    const res = await tokenRequest(c);
    expect(res.body.expires_in).toBe(5400);
    const token = res.body.access_token;
    offsetMs = 89 * 60_000;
    await scimWith(token).get('/Users').expect(200);
    offsetMs = 91 * 60_000;
    const late = await scimWith(token).get('/Users');
    expect(late.status).toBe(401);
    expect(late.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('revoking the client stops its tokens at once, and it gets no new ones', async () => {
    const c = await newClient();
    const token = await accessToken(c);
    await scimWith(token).get('/Users').expect(200); // cached as valid now
    await admin(t.token).delete(`/scim-clients/${c.id}`).expect(204);
    await scimWith(token).get('/Users').expect(401);
    expectOAuthError(await tokenRequest(c), 401, 'invalid_client');
    const row = (await admin(t.token).get(`/scim-clients/${c.id}`).expect(200)).body;
    expect(row.revokedAt).not.toBeNull();
    await admin(t.token).delete(`/scim-clients/${c.id}`).expect(204);
    const audit = await admin(t.token).get(`/audit?target=${c.id}&action=scimClient.revoke`).expect(200);
    expect(audit.body.entries).toHaveLength(1);
  });

  it('a client bound to a sub-account stops when the sub-account is switched off', async () => {
    const sub = await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Dept off', [PROVISIO_GROUP]: { kind: 'subAccount' } });
    const c = await newClient({ subAccount: sub.body.id });
    const token = await accessToken(c);
    await scimWith(token).get('/Users').expect(200);
    await scim(h, t).patch(`/Groups/${sub.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: false }] }).expect(204);
    await scimWith(token).get('/Users').expect(401);
    expectOAuthError(await tokenRequest(c), 401, 'invalid_client');
  });

  it('refuses a token signed by a key the server does not publish, or not signed at all', async () => {
    const c = await newClient();
    const real = decodeJwt(await accessToken(c));
    const { privateKey } = await generateKeyPair('RS256');
    const kid = decodeProtectedHeader(await accessToken(c)).kid!;
    for (const k of ['not-a-key-of-ours', kid]) {
      const forged = await new SignJWT({ ...real }).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: k }).sign(privateKey);
      await scimWith(forged).get('/Users').expect(401);
    }
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify(real)).toString('base64url')}.x`;
    await scimWith(none).get('/Users').expect(401);
  });

  it('key rotation: the new key signs, a token in flight stays accepted until it expires, the old key is unpublished after', async () => {
    const c = await newClient({ tokenLifetimeMinutes: 360 });
    const before = await accessToken(c);
    const oldKid = decodeProtectedHeader(before).kid;
    await scimWith(before).get('/Users').expect(200);
    const rotated = await h.http.post('/operator/v1/signing-keys/rotate').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200);
    expect(rotated.body.retired).toBe(oldKid);
    const after = await accessToken(c);
    expect(decodeProtectedHeader(after).kid).toBe(rotated.body.kid);
    expect(rotated.body.kid).not.toBe(oldKid);
    const kids = (await h.http.get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, rotated.body.kid]));
    await scimWith(before).get('/Users').expect(200);
    await scimWith(after).get('/Users').expect(200);
    // Past its publication window, the old key is forgotten; the new one stays.
    offsetMs = new Date(rotated.body.retiredPublishedUntil).getTime() - Date.now() + 60_000;
    await h.deps.jobs.maintainSigningKeys();
    const later = (await h.http.get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(later).not.toContain(oldKid);
    expect(later).toContain(rotated.body.kid);
  });
});

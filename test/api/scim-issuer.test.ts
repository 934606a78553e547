// Tokens of an external issuer on SCIM (issue 13, "Entra-issued tokens") on a real server and
// database, against a JWKS server of our own on 127.0.0.1 (plain node:http, keys made here with
// jose): the tenant's one trusted issuer set through the admin API (audited, tenant-wide
// credentials only, outbound address rules), tokens accepted only with the right issuer,
// audience, claim and signature and before they expire, the JWKS fetched once and again only for
// an unknown key id (counted at the server), never per request; clearing the issuer stops its
// tokens at once. No request ever leaves 127.0.0.1: the Entra form is set and read, never used.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';
import { createTenant, GROUP, Harness, LOOPBACK_IDP_ENV, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';

const ENTRA_AUDIENCE = '8adf8e6e-67b2-4cf2-a259-e3dc5476c621';
const ENTRA_TENANT = '6f2d0a0e-1c5e-4b8a-9d7e-3a1b2c3d4e5f';
const ISSUER = `https://sts.windows.net/${ENTRA_TENANT}/`;

type Key = { kid: string; privateKey: CryptoKeyLike; jwk: JWK };
type CryptoKeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** A JWKS server on 127.0.0.1 that counts the fetches it answers. */
async function jwksServer() {
  const published: JWK[] = [];
  let fetches = 0;
  const server = http.createServer((req, res) => {
    if (req.url !== '/keys') return void res.writeHead(404).end();
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published }));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
    publish: (k: Key) => published.push(k.jwk),
    get fetches() {
      return fetches;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function newKey(kid: string): Promise<Key> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

/** An Entra-like app token: iss, aud, tid, exp one hour after now (by the test clock). */
function token(key: Key, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) {
  const now = Math.floor(clock().getTime() / 1000);
  return new SignJWT({ iss: ISSUER, aud: ENTRA_AUDIENCE, tid: ENTRA_TENANT, sub: 'sp-object-id', appid: 'app-1', iat: now, nbf: now, exp: now + 3600, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header })
    .sign(key.privateKey);
}

const scimAs = (h: Harness, t: TestTenant, bearer: string) => ({
  get: (p: string) => h.http.get(t.path + p).set('Authorization', `Bearer ${bearer}`),
  post: (p: string, body: unknown) => h.http.post(t.path + p).set('Authorization', `Bearer ${bearer}`).set('Content-Type', 'application/scim+json').send(JSON.stringify(body)),
});
const admin = (h: Harness, bearer: string) => ({
  get: (p: string) => h.http.get(`/api/v1${p}`).set('Authorization', `Bearer ${bearer}`),
  put: (p: string, body: unknown) => h.http.put(`/api/v1${p}`).set('Authorization', `Bearer ${bearer}`).send(body as object),
  delete: (p: string) => h.http.delete(`/api/v1${p}`).set('Authorization', `Bearer ${bearer}`),
});

describe('with the development network settings and no cooldown', () => {
  let h: Harness;
  let t: TestTenant;
  let other: TestTenant;
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let k1: Key;
  let k2: Key;

  beforeAll(async () => {
    jwks = await jwksServer();
    [k1, k2] = await Promise.all([newKey('k1'), newKey('k2')]);
    jwks.publish(k1);
    h = await startHarness({ clock, env: { ...LOOPBACK_IDP_ENV, SCIM_JWKS_COOLDOWN_SECONDS: '0' } });
    t = await createTenant(h, 'Acme');
    other = await createTenant(h, 'Other');
    const res = await admin(h, t.token).put('/scim-issuer', { issuer: ISSUER, jwksUrl: jwks.url, audience: ENTRA_AUDIENCE, claim: { name: 'tid', value: ENTRA_TENANT } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kind: 'custom', issuer: ISSUER, jwksUrl: jwks.url, audience: ENTRA_AUDIENCE, claim: { name: 'tid', value: ENTRA_TENANT }, lastUsedAt: null });
  });
  afterAll(async () => {
    await h.close();
    await jwks.close();
  });
  afterEach(() => {
    offsetMs = 0;
  });

  it('accepts the issuer’s token on SCIM, fetching the JWKS once for many requests, and audits as the token’s subject', async () => {
    expect(jwks.fetches).toBe(0); // nothing fetched when the issuer was set
    const bearer = await token(k1);
    const created = await scimAs(h, t, bearer).post('/Users', { schemas: [USER], userName: 'entra.user@acme.test' });
    expect(created.status).toBe(201);
    for (let i = 0; i < 5; i++) await scimAs(h, t, bearer).get('/Users').expect(200);
    expect(jwks.fetches).toBe(1);
    const audit = await admin(h, t.token).get(`/audit?target=${created.body.id}`).expect(200);
    expect(audit.body.entries[0].actor).toEqual({ type: 'externalIssuer', id: 'sp-object-id' });
    const list = await admin(h, t.token).get('/tokens').expect(200);
    expect(list.body.scimIssuer).toMatchObject({ kind: 'custom', issuer: ISSUER, lastUsedAt: expect.any(String) });
  });

  it.each([
    ['another issuer', { iss: 'https://sts.windows.net/00000000-0000-4000-8000-000000000000/' }],
    ['another audience', { aud: 'api://someone-else' }],
    ['another Entra tenant in tid', { tid: '00000000-0000-4000-8000-000000000000' }],
    ['no tid at all', { tid: undefined }],
  ])('refuses a token with %s (401)', async (_name, claims) => {
    await scimAs(h, t, await token(k1, claims)).get('/Users').expect(401);
  });

  it('refuses an expired token by the server’s clock, a tampered one, and one for another tenant’s SCIM URL', async () => {
    const bearer = await token(k1);
    offsetMs = 2 * 3600_000;
    await scimAs(h, t, bearer).get('/Users').expect(401);
    offsetMs = 0;
    const [head, body, sig] = bearer.split('.');
    const changed = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), sub: 'someone-else' })).toString('base64url');
    await scimAs(h, t, `${head}.${changed}.${sig}`).get('/Users').expect(401);
    await scimAs(h, other, bearer).get('/Users').expect(401);
    // Only SCIM takes external tokens: not the admin API.
    await admin(h, bearer).get('/tokens').expect(401);
  });

  it('a new key at the issuer is fetched once when a token names it; an unknown key id is refused', async () => {
    const start = jwks.fetches;
    jwks.publish(k2);
    const bearer = await token(k2);
    await scimAs(h, t, bearer).get('/Users').expect(200);
    expect(jwks.fetches).toBe(start + 1);
    for (let i = 0; i < 3; i++) await scimAs(h, t, bearer).get('/Users').expect(200);
    await scimAs(h, t, await token(k1)).get('/Users').expect(200);
    expect(jwks.fetches).toBe(start + 1);
    const stranger = await newKey('k-unknown');
    await scimAs(h, t, await token(stranger)).get('/Users').expect(401);
    // A stolen kid with another key's signature fails the signature check.
    await scimAs(h, t, await token({ ...stranger, kid: 'k1' })).get('/Users').expect(401);
  });

  it('clearing the issuer stops its tokens at once; setting and clearing are audited', async () => {
    const bearer = await token(k1);
    await scimAs(h, t, bearer).get('/Users').expect(200);
    await admin(h, t.token).delete('/scim-issuer').expect(204);
    await scimAs(h, t, bearer).get('/Users').expect(401);
    await admin(h, t.token).get('/scim-issuer').expect(404);
    await admin(h, t.token).delete('/scim-issuer').expect(404);
    const audit = await admin(h, t.token).get(`/audit?target=${t.id}`).expect(200);
    expect(audit.body.entries.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['scimIssuer.set', 'scimIssuer.clear']));
    // Set back for the tests after.
    await admin(h, t.token).put('/scim-issuer', { issuer: ISSUER, jwksUrl: jwks.url, audience: ENTRA_AUDIENCE, claim: { name: 'tid', value: ENTRA_TENANT } }).expect(200);
    await scimAs(h, t, bearer).get('/Users').expect(200);
  });

  it('the Entra form derives issuer, keys, audience and claim from the Entra tenant id (read, never used here)', async () => {
    const res = await admin(h, other.token).put('/scim-issuer', { entraTenantId: ENTRA_TENANT.toUpperCase() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      kind: 'entra',
      entraTenantId: ENTRA_TENANT,
      issuer: ISSUER,
      jwksUrl: `https://login.microsoftonline.com/${ENTRA_TENANT}/discovery/keys`,
      audience: ENTRA_AUDIENCE,
      claim: { name: 'tid', value: ENTRA_TENANT },
    });
    const own = await admin(h, other.token).put('/scim-issuer', { entraTenantId: ENTRA_TENANT, audience: 'api://provisio-scim' });
    expect(own.body.audience).toBe('api://provisio-scim');
    await admin(h, other.token).delete('/scim-issuer').expect(204);
  });

  it.each([
    [{ entraTenantId: 'not-a-uuid' }, /entraTenantId/],
    [{ entraTenantId: ENTRA_TENANT, issuer: ISSUER }, /issuer is not a field here; the fields are entraTenantId, audience/],
    [{ issuer: ISSUER, jwksUrl: 'http://127.0.0.1:1/keys', audience: 'a' }, /claim is required/],
    [{ issuer: ISSUER, jwksUrl: 'not a url', audience: 'a', claim: { name: 'tid', value: 'x' } }, /jwksUrl must be an absolute URL/],
    [{ issuer: ISSUER, jwksUrl: 'ftp://127.0.0.1/keys', audience: 'a', claim: { name: 'tid', value: 'x' } }, /jwksUrl is not a URL this server may use/],
    [{ issuer: ISSUER, jwksUrl: 'https://169.254.169.254/keys', audience: 'a', claim: { name: 'tid', value: 'x' } }, /jwksUrl is not a URL this server may use/],
    [{ issuer: ISSUER, jwksUrl: jwksUrlPlaceholder(), audience: '', claim: { name: 'tid', value: 'x' } }, /audience/],
  ])('refuses %j with 400 invalidValue and changes nothing', async (body, detail) => {
    const before = (await admin(h, t.token).get('/scim-issuer')).body;
    const res = await admin(h, t.token).put('/scim-issuer', body);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(res.body.detail).toMatch(detail);
    expect((await admin(h, t.token).get('/scim-issuer')).body).toEqual(before);
  });

  it('is for tenant-wide admin credentials only', async () => {
    const sub = await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Dept', [PROVISIO_GROUP]: { kind: 'subAccount' } });
    const bound = await h.http.post('/api/v1/tokens').set('Authorization', `Bearer ${t.token}`).send({ name: 'dept', scopes: ['admin'], subAccount: sub.body.id });
    await admin(h, bound.body.token).get('/scim-issuer').expect(403);
    await admin(h, bound.body.token).put('/scim-issuer', { entraTenantId: ENTRA_TENANT }).expect(403);
    const scimOnly = await h.http.post('/api/v1/tokens').set('Authorization', `Bearer ${t.token}`).send({ name: 'scim', scopes: ['scim'] });
    await admin(h, scimOnly.body.token).put('/scim-issuer', { entraTenantId: ENTRA_TENANT }).expect(403);
  });
});

function jwksUrlPlaceholder() {
  return 'http://127.0.0.1:1/keys';
}

describe('with the default settings', () => {
  let h: Harness;
  let t: TestTenant;
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let k1: Key;

  beforeAll(async () => {
    jwks = await jwksServer();
    k1 = await newKey('k1');
    jwks.publish(k1);
    h = await startHarness({ clock });
    t = await createTenant(h, 'Acme');
  });
  afterAll(async () => {
    await h.close();
    await jwks.close();
  });

  it('refuses a plain-http or loopback JWKS URL without the development settings', async () => {
    for (const jwksUrl of [jwks.url, jwks.url.replace('http:', 'https:')]) {
      const res = await admin(h, t.token).put('/scim-issuer', { issuer: ISSUER, jwksUrl, audience: ENTRA_AUDIENCE, claim: { name: 'tid', value: ENTRA_TENANT } });
      expect(res.status).toBe(400);
      expect(res.body.detail).not.toMatch(/127\.0\.0\.1|ECONN|port/);
    }
    expect(jwks.fetches).toBe(0);
  });

  it('a loopback JWKS is never fetched without the development settings, even when stored', async () => {
    // Set as the operator would not be able to (the loopback URL is refused over the API): straight in the table.
    await h.owner((db) => db('scim_issuers').insert({ tenant_id: t.id, kind: 'custom', issuer: ISSUER, jwks_url: jwks.url, audience: ENTRA_AUDIENCE, claim_name: 'tid', claim_value: ENTRA_TENANT, created_at: new Date(), updated_at: new Date() }));
    // The fetch itself is refused by the outbound rules here (no development settings): a 401, and no connection made.
    await scimAs(h, t, await token(k1)).get('/Users').expect(401);
    expect(jwks.fetches).toBe(0);
  });
});

describe('with the development network settings and the default cooldown (30 s)', () => {
  let h: Harness;
  let t: TestTenant;
  let jwks: Awaited<ReturnType<typeof jwksServer>>;
  let k1: Key;

  beforeAll(async () => {
    jwks = await jwksServer();
    k1 = await newKey('k1');
    jwks.publish(k1);
    h = await startHarness({ clock, env: LOOPBACK_IDP_ENV });
    t = await createTenant(h, 'Acme');
    await admin(h, t.token).put('/scim-issuer', { issuer: ISSUER, jwksUrl: jwks.url, audience: ENTRA_AUDIENCE, claim: { name: 'tid', value: ENTRA_TENANT } }).expect(200);
  });
  afterAll(async () => {
    await h.close();
    await jwks.close();
  });

  it('tokens naming unknown key ids right after a fetch cost no fetch of their own', async () => {
    await scimAs(h, t, await token(k1)).get('/Users').expect(200);
    expect(jwks.fetches).toBe(1);
    for (const kid of ['made-up-1', 'made-up-2', 'made-up-3']) {
      await scimAs(h, t, await token({ ...(await newKey(kid)) })).get('/Users').expect(401);
    }
    expect(jwks.fetches).toBe(1);
    await scimAs(h, t, await token(k1)).get('/Users').expect(200);
  });
});

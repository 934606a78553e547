// Admin API: API tokens (/api/v1/tokens, issue 4 "Credentials and scopes") on a real server and
// database — shown once and stored as a hash, scopes enforced, optional expiry and sub-account
// binding, last-used time, revocation that takes effect at once on this instance, and the rules
// of server/admin/tokens.ts: a sub-account-bound credential only deals in tokens of its own
// sub-account; a token cannot revoke itself.
import request from 'supertest';
import { hashToken } from '../../server/secrets';
import { browser, Browser, linkToken } from '../support/browser';
import { createTenant, ERROR, GROUP, Harness, OPERATOR_TOKEN, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';

// A controllable clock: expiry is judged by the server's clock.
let offsetMs = 0;
let h: Harness;
let t: TestTenant;
let other: TestTenant;
let subA: string;
let subB: string;
let plainGroup: string;
let company: string;
let otherSub: string;

interface Token {
  id: string;
  name: string;
  scopes: string[];
  subAccount: string | null;
  expiresAt: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  token?: string;
}

const admin = (token: string) => {
  const auth = (r: request.Test) => r.set('Authorization', `Bearer ${token}`);
  return {
    get: (p: string) => auth(h.http.get(`/api/v1${p}`)),
    post: (p: string, body: unknown) => auth(h.http.post(`/api/v1${p}`)).send(body as object),
    delete: (p: string) => auth(h.http.delete(`/api/v1${p}`)),
    patch: (p: string, body: unknown) => auth(h.http.patch(`/api/v1${p}`)).send(body as object),
  };
};

function expectJsonError(res: request.Response, status: number, scimType?: string, detail?: RegExp) {
  expect({ status: res.status, type: res.headers['content-type'] }).toEqual({ status, type: expect.stringMatching(/^application\/json/) });
  expect(res.body).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
  if (scimType) expect(res.body.scimType).toBe(scimType);
  if (detail) expect(res.body.detail).toMatch(detail);
}

async function group(tenant: TestTenant, displayName: string, kind?: string): Promise<string> {
  const body = { schemas: [GROUP], displayName, ...(kind ? { [PROVISIO_GROUP]: { kind } } : {}) };
  const res = await scim(h, tenant).post('/Groups', body);
  if (res.status !== 201) throw new Error(`group: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function mint(body: Record<string, unknown>, by: string = t.token): Promise<Token & { token: string }> {
  const res = await admin(by).post('/tokens', body);
  if (res.status !== 201) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const scimStatus = async (token: string) => (await h.http.get(`${t.path}/Users`).set('Authorization', `Bearer ${token}`)).status;
const adminStatus = async (token: string) => (await admin(token).get('/tokens')).status;
const listed = async (by: string = t.token): Promise<Token[]> => (await admin(by).get('/tokens').expect(200)).body.tokens;
/** The tenant's primary admin, activated through the kept activation email (no SMTP_URL here) and signed in. */
async function signedInPrimaryAdmin(email: string): Promise<Browser> {
  const kept = await h.http.get('/operator/v1/mail').query({ to: email }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
  const token = linkToken(kept.body.messages[0].text, '/activate');
  const b = browser(h.app);
  await b.get(`/activate?token=${token}`);
  expect((await b.post('/activate', { token, password: 'correct-horse-battery-staple-42', acceptPrivacy: 'yes' })).headers.location).toBe('/console');
  return b;
}

const tokenCount = async () => Number((await h.owner((db) => db('api_tokens').where({ tenant_id: t.id }).count({ n: '*' })))[0].n);

beforeAll(async () => {
  h = await startHarness({ clock: () => new Date(Date.now() + offsetMs) });
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Globex');
  subA = await group(t, 'Sub A', 'subAccount');
  subB = await group(t, 'Sub B', 'subAccount');
  plainGroup = await group(t, 'Plain');
  company = await group(t, 'Client Co', 'company');
  otherSub = await group(other, 'Their sub', 'subAccount');
});
afterAll(() => h.close());

describe('POST /api/v1/tokens', () => {
  it('creates a token shown once, with Cache-Control: no-store, stored only as its hash', async () => {
    const res = await admin(t.token).post('/tokens', { name: '  Okta provisioning ', scopes: ['scim'] });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.location).toBe(`/api/v1/tokens/${res.body.id}`);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Okta provisioning',
      scopes: ['scim'],
      subAccount: null,
      expiresAt: null,
      createdAt: expect.any(String),
      createdBy: null,
      lastUsedAt: null,
      revokedAt: null,
      token: expect.stringMatching(/^pvs_[A-Za-z0-9_-]{43}$/),
    });
    const [row] = await h.owner((db) => db('api_tokens').where({ tenant_id: t.id, id: res.body.id }));
    expect(row.token_hash).toBe(hashToken(res.body.token));
    expect(JSON.stringify(row)).not.toContain(res.body.token);
    expect(row.scopes).toEqual(['scim']);

    // It works on SCIM; without the admin scope it is refused on the admin API.
    expect(await scimStatus(res.body.token)).toBe(200);
    expectJsonError(await admin(res.body.token).get('/tokens'), 403, undefined, /admin/);
    // Never shown again.
    const again = await admin(t.token).get(`/tokens/${res.body.id}`).expect(200);
    expect(again.body.token).toBeUndefined();
    expect(JSON.stringify(again.body)).not.toContain(res.body.token);
  });

  it('binds a token to a sub-account with an expiry; scopes are de-duplicated', async () => {
    const expiresAt = new Date(Date.now() + 30 * 86400_000).toISOString();
    const tok = await mint({ name: 'Dept A sync', scopes: ['admin', 'scim', 'scim'], subAccount: subA.toUpperCase(), expiresAt });
    expect(tok).toMatchObject({ name: 'Dept A sync', scopes: ['scim', 'admin'], subAccount: subA, expiresAt });
    const [row] = await h.owner((db) => db('api_tokens').where({ tenant_id: t.id, id: tok.id }));
    expect(row.sub_account_id).toBe(subA);
    expect(new Date(row.expires_at).toISOString()).toBe(expiresAt);
    // A bound token works on SCIM, limited to its sub-account's subtree (test/api/sub-account-tokens.test.ts).
    expect(await scimStatus(tok.token)).toBe(200);
  });

  it('accepts an admin-only token, and an expiry with an offset', async () => {
    const tok = await mint({ name: 'Console robot', scopes: ['admin'], expiresAt: '2999-01-01T10:00:00+02:00' });
    expect(tok).toMatchObject({ scopes: ['admin'], expiresAt: '2999-01-01T08:00:00.000Z' });
    expect(await adminStatus(tok.token)).toBe(200);
    expect(await scimStatus(tok.token)).toBe(403);
  });

  const cases: [string, () => unknown, RegExp][] = [
    ['no body', () => undefined, /fields are not right: name, scopes/],
    ['an array', () => [], /The body must be an object/],
    ['no name', () => ({ scopes: ['scim'] }), /name is required/],
    ['a blank name', () => ({ name: ' ', scopes: ['scim'] }), /name is required/],
    ['a name of 201 characters', () => ({ name: 'n'.repeat(201), scopes: ['scim'] }), /at most 200/],
    ['no scopes', () => ({ name: 'x' }), /scopes is required/],
    ['empty scopes', () => ({ name: 'x', scopes: [] }), /scopes must hold at least 1 item/],
    ['scopes as a string', () => ({ name: 'x', scopes: 'scim' }), /scopes must be a list/],
    ['an unknown scope', () => ({ name: 'x', scopes: ['scim', 'root'] }), /scopes\/1 must be one of "scim", "admin", "events"/],
    ['a scope in capitals', () => ({ name: 'x', scopes: ['SCIM'] }), /scopes\/0 must be one of/],
    ['an expiry in the past', () => ({ name: 'x', scopes: ['scim'], expiresAt: '2020-01-01T00:00:00Z' }), /in the future/],
    ['an expiry that is not a date-time', () => ({ name: 'x', scopes: ['scim'], expiresAt: 'tomorrow' }), /date-time/],
    ['an expiry without an offset', () => ({ name: 'x', scopes: ['scim'], expiresAt: '2999-01-01T00:00:00' }), /date-time/],
    ['an impossible date', () => ({ name: 'x', scopes: ['scim'], expiresAt: '2999-02-30T10:00:00Z' }), /date-time/],
    ['an impossible time', () => ({ name: 'x', scopes: ['scim'], expiresAt: '2999-01-01T24:30:00Z' }), /date-time/],
    ['an expiry as a number', () => ({ name: 'x', scopes: ['scim'], expiresAt: 32503680000000 }), /expiresAt must be text or null/],
    ['a subAccount that is not a UUID', () => ({ name: 'x', scopes: ['scim'], subAccount: 'Sub A' }), /sub-account group of this tenant/],
    ['a subAccount that is a plain group', () => ({ name: 'x', scopes: ['scim'], subAccount: plainGroup }), /sub-account group of this tenant/],
    ['a subAccount that is a company', () => ({ name: 'x', scopes: ['scim'], subAccount: company }), /sub-account group of this tenant/],
    ['a subAccount that does not exist', () => ({ name: 'x', scopes: ['scim'], subAccount: '0190a0a0-0000-7000-8000-000000000001' }), /sub-account group/],
    ["another tenant's sub-account", () => ({ name: 'x', scopes: ['scim'], subAccount: otherSub }), /sub-account group of this tenant/],
    ['an unknown attribute', () => ({ name: 'x', scopes: ['scim'], tenant: 'x' }), /tenant is not a field here/],
  ];
  it.each(cases)('rejects %s with 400 invalidValue, creating nothing', async (_what, body, detail) => {
    const before = await tokenCount();
    expectJsonError(await admin(t.token).post('/tokens', body()), 400, 'invalidValue', detail);
    expect(await tokenCount()).toBe(before);
  });
});

// Issue 9, point 13: the admin API knows the caller before it reads the body.
describe('authentication comes before the body', () => {
  const big = () => `{"name": "${'x'.repeat(h.deps.config.maxBodyBytes + 10)}"}`;
  const post = (body: string, token?: string) => {
    const r = h.http.post('/api/v1/tokens').set('Content-Type', 'application/json');
    return (token ? r.set('Authorization', `Bearer ${token}`) : r).send(body);
  };

  it('an anonymous or wrong-token request is 401 however large or broken its body', async () => {
    const before = await tokenCount();
    for (const token of [undefined, 'pvs_not-a-real-token']) {
      expectJsonError(await post(big(), token), 401);
      expectJsonError(await post('{"name": ', token), 401);
    }
    expect(await tokenCount()).toBe(before);
  });

  it('an authenticated request still gets 413 and 400 invalidSyntax', async () => {
    expectJsonError(await post(big(), t.token), 413);
    expectJsonError(await post('{"name": ', t.token), 400, 'invalidSyntax');
  });

  it('a session without a CSRF header is refused before its body is read; with the header it works', async () => {
    // The console's path: the primary admin's session, the CSRF token from GET /api/v1/me in
    // X-CSRF-Token (never in the body, which is not parsed until the caller is known).
    const email = `chief-${Date.now()}@session-body.test`;
    await createTenant(h, 'Session Body Co', email);
    const b = await signedInPrimaryAdmin(email);
    const csrf = (await b.me()).body.csrfToken;
    const anonymous = await h.http.post('/api/v1/tokens').set('Content-Type', 'application/json').send('{"name": ');
    expect(anonymous.status).toBe(401);
    const noHeader = await b.agent.post('/api/v1/tokens').set('Content-Type', 'application/json').send('{"name": ');
    expect(noHeader.status).toBe(403);
    const broken = await b.agent.post('/api/v1/tokens').set('X-CSRF-Token', csrf).set('Content-Type', 'application/json').send('{"name": ');
    expectJsonError(broken, 400, 'invalidSyntax');
    const made = await b.agent.post('/api/v1/tokens').set('X-CSRF-Token', csrf).send({ name: 'From the console', scopes: ['admin'] });
    expect(made.status).toBe(201);
  });
});

describe('GET /api/v1/tokens', () => {
  it("lists the tenant's tokens with lastUsedAt, never a secret or hash, nothing of another tenant", async () => {
    const theirs = await mint({ name: 'Theirs', scopes: ['scim'] }, other.token);
    const mine = await mint({ name: 'Listed', scopes: ['scim'] });
    const all = await listed();
    expect(all.map((x) => x.name)).toEqual(expect.arrayContaining(['Initial token', 'Listed']));
    expect(all.map((x) => x.id)).not.toContain(theirs.id);
    const initial = all.find((x) => x.name === 'Initial token')!;
    expect(initial).toMatchObject({ scopes: ['scim', 'admin'], subAccount: null, expiresAt: null, revokedAt: null });
    expect(all.find((x) => x.id === mine.id)).toMatchObject({ lastUsedAt: null });
    for (const x of all) expect(Object.keys(x).sort()).toEqual(['createdAt', 'createdBy', 'expiresAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scopes', 'subAccount']);
    const hashes = (await h.owner((db) => db('api_tokens').where({ tenant_id: t.id }).select('token_hash'))).map((r: { token_hash: string }) => r.token_hash);
    const text = JSON.stringify(all);
    expect(text).not.toContain('pvs_');
    for (const hash of hashes) expect(text).not.toContain(hash);
    expectJsonError(await admin(t.token).get(`/tokens/${theirs.id}`), 404);
  });

  it('shows when a token was last used', async () => {
    const tok = await mint({ name: 'Used', scopes: ['scim'] });
    expect(await scimStatus(tok.token)).toBe(200);
    // The last-used time is written in the background, right after authentication.
    let seen: Token | undefined;
    for (let i = 0; i < 50 && !seen?.lastUsedAt; i++) {
      seen = (await admin(t.token).get(`/tokens/${tok.id}`).expect(200)).body;
      if (!seen?.lastUsedAt) await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen!.lastUsedAt).toEqual(expect.any(String));
    expect(Math.abs(new Date(seen!.lastUsedAt!).getTime() - Date.now())).toBeLessThan(60_000);
  });
});

describe('DELETE /api/v1/tokens/{id}', () => {
  it('revokes a token at once on SCIM and the admin API (even right after it was used), and lists it as revoked', async () => {
    const tok = await mint({ name: 'Leaked', scopes: ['scim', 'admin'] });
    // Used first, so its lookup is in the authentication cache.
    expect(await scimStatus(tok.token)).toBe(200);
    expect(await adminStatus(tok.token)).toBe(200);
    await admin(t.token).delete(`/tokens/${tok.id}`).expect(204);
    expect(await scimStatus(tok.token)).toBe(401);
    expect(await adminStatus(tok.token)).toBe(401);
    const row = (await listed()).find((x) => x.id === tok.id)!;
    expect(row.revokedAt).toEqual(expect.any(String));
    // Again: still 204, the first revocation time kept.
    await admin(t.token).delete(`/tokens/${tok.id}`).expect(204);
    expect((await admin(t.token).get(`/tokens/${tok.id}`).expect(200)).body.revokedAt).toBe(row.revokedAt);
    // The other tokens still work.
    expect(await scimStatus(t.token)).toBe(200);
    // Recorded in the audit log once, never with the secret.
    const audit = await h.owner((db) => db('audit_log').where({ tenant_id: t.id, target_id: tok.id }).orderBy('at'));
    expect(audit.map((e: { action: string }) => e.action)).toEqual(['token.create', 'token.revoke']);
    expect(JSON.stringify(audit)).not.toContain(tok.token);
    expect(JSON.stringify(audit)).not.toContain(hashToken(tok.token));
  });

  it('refuses to let a token revoke itself (403); another admin token can', async () => {
    const a = await mint({ name: 'Self A', scopes: ['admin'] });
    const b = await mint({ name: 'Self B', scopes: ['admin'] });
    expectJsonError(await admin(a.token).delete(`/tokens/${a.id}`), 403, undefined, /cannot revoke itself/);
    expectJsonError(await admin(a.token).delete(`/tokens/${a.id.toUpperCase()}`), 403);
    expect(await adminStatus(a.token)).toBe(200);
    await admin(b.token).delete(`/tokens/${a.id}`).expect(204);
    expect(await adminStatus(a.token)).toBe(401);
  });

  it("answers 404 for another tenant's token, a missing one or a malformed id, and revokes nothing", async () => {
    const theirs = await mint({ name: 'Not yours', scopes: ['scim'] }, other.token);
    expectJsonError(await admin(t.token).delete(`/tokens/${theirs.id}`), 404);
    expectJsonError(await admin(t.token).delete('/tokens/0190a0a0-0000-7000-8000-000000000001'), 404);
    expectJsonError(await admin(t.token).delete('/tokens/initial'), 404);
    expect((await h.http.get(`${other.path}/Users`).set('Authorization', `Bearer ${theirs.token}`)).status).toBe(200);
  });
});

describe('a credential bound to a sub-account', () => {
  it('creates only tokens bound to its own sub-account (403 otherwise), and sees and revokes only those', async () => {
    const bound = await mint({ name: 'Dept A admin', scopes: ['admin', 'scim'], subAccount: subA });
    const bAdmin = admin(bound.token);
    const wide = await mint({ name: 'Tenant-wide', scopes: ['scim'] });
    const inB = await mint({ name: 'Dept B', scopes: ['scim'], subAccount: subB });

    // No binding would be tenant-wide: more reach than its own.
    expectJsonError(await bAdmin.post('/tokens', { name: 'Escalate', scopes: ['admin'] }), 403, undefined, /bound to sub-account/);
    expectJsonError(await bAdmin.post('/tokens', { name: 'Escalate', scopes: ['admin'], subAccount: null }), 403);
    expectJsonError(await bAdmin.post('/tokens', { name: 'Sideways', scopes: ['scim'], subAccount: subB }), 403);
    // The same answer for a sub-account that does not exist: nothing learnt about the tenant.
    expectJsonError(await bAdmin.post('/tokens', { name: 'Probe', scopes: ['scim'], subAccount: '0190a0a0-0000-7000-8000-000000000001' }), 403);
    const mine = await mint({ name: 'Dept A sync 2', scopes: ['scim'], subAccount: subA.toUpperCase() }, bound.token);
    expect(mine.subAccount).toBe(subA);

    const seen = (await listed(bound.token)).map((x) => x.id);
    expect(seen).toEqual(expect.arrayContaining([bound.id, mine.id]));
    expect(seen).not.toContain(wide.id);
    expect(seen).not.toContain(inB.id);
    for (const x of await listed(bound.token)) expect(x.subAccount).toBe(subA);
    expectJsonError(await bAdmin.get(`/tokens/${wide.id}`), 404);

    // Outside its sub-account: 404, as if absent, and nothing is revoked.
    expectJsonError(await bAdmin.delete(`/tokens/${wide.id}`), 404);
    expectJsonError(await bAdmin.delete(`/tokens/${inB.id}`), 404);
    expect(await scimStatus(wide.token)).toBe(200);
    expect(await scimStatus(inB.token)).toBe(200);
    // Inside: revoked.
    await bAdmin.delete(`/tokens/${mine.id}`).expect(204);
    expect(await scimStatus(mine.token)).toBe(401);
    // And a tenant-wide admin token sees and revokes bound ones.
    expect((await listed()).map((x) => x.id)).toEqual(expect.arrayContaining([bound.id, inB.id]));
    await admin(t.token).delete(`/tokens/${bound.id}`).expect(204);
    expect(await adminStatus(bound.token)).toBe(401);
  });
});

describe('expiry', () => {
  it('stops a token at its expiry, by the server clock', async () => {
    const tok = await mint({ name: 'Short', scopes: ['scim'], expiresAt: new Date(Date.now() + 3600_000).toISOString() });
    try {
      expect(await scimStatus(tok.token)).toBe(200);
      offsetMs = 2 * 3600_000;
      expect(await scimStatus(tok.token)).toBe(401);
      expect((await listed()).find((x) => x.id === tok.id)).toMatchObject({ revokedAt: null });
    } finally {
      offsetMs = 0;
    }
  });
});

describe('the endpoint', () => {
  it('needs a valid token, and answers 405 for other methods', async () => {
    expectJsonError(await h.http.get('/api/v1/tokens'), 401);
    expectJsonError(await h.http.post('/api/v1/tokens').set('Authorization', 'Bearer pvs_unknown').send({ name: 'x', scopes: ['scim'] }), 401);
    const res = await admin(t.token).patch('/tokens', { name: 'x' });
    expectJsonError(res, 405);
    expect(res.headers.allow).toBe('GET, POST');
    const tok = await mint({ name: 'Patch me', scopes: ['scim'] });
    expect((await admin(t.token).patch(`/tokens/${tok.id}`, { name: 'y' })).headers.allow).toBe('GET, DELETE');
  });

  it('creates a user over SCIM with a freshly minted token', async () => {
    const tok = await mint({ name: 'Fresh', scopes: ['scim'] });
    const res = await h.http
      .post(`${t.path}/Users`)
      .set('Authorization', `Bearer ${tok.token}`)
      .set('Content-Type', 'application/scim+json')
      .send(JSON.stringify({ schemas: [USER], userName: 'fresh@acme.test' }));
    expect(res.status).toBe(201);
  });
});

// SSO connections as policy (issue 9; docs/sso.md, docs/sign-in.md):
// - point 8, requireSso: people of the connection's tenant whose sign-in email is in its domains
//   cannot set or use a local password on any path; the primary admin keeps a password
//   (break-glass); other tenants' people are untouched.
// - point 5, identities: listing and unlinking through the admin API and the account page, every
//   unlink audited; nobody but the primary admin unlinks the primary admin. (Linking, and the
//   primary admin's sign-in rule, over a real IdP: test/api/sso-front-door.test.ts.)
import request from 'supertest';
import { browser, Browser, linkToken } from '../support/browser';
import { createTenant, ERROR, Harness, LOOPBACK_IDP_ENV, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';
import { startTestIdp, TestIdp } from '../support/oidc-idp';
import { keptMail, mailCount } from '../support/web';

const PASSWORD = 'correct-horse-battery-staple-42';
const GENERIC = 'The email or password is not right, or this account cannot sign in with a password yet.';
const SSO_WORDS = /Your organisation signs you in with its identity provider/;

let h: Harness;
let t: TestTenant;
let other: TestTenant;
let idp: TestIdp;
let connectionId: string;
let pat: { id: string; b: Browser };

const api = (tenant: TestTenant, token = tenant.token) => ({
  get: (p: string) => h.http.get(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
  post: (p: string, body?: unknown) => h.http.post(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send((body ?? {}) as object),
  patch: (p: string, body: unknown) => h.http.patch(`/api/v1${p}`).set('Authorization', `Bearer ${token}`).send(body as object),
  delete: (p: string) => h.http.delete(`/api/v1${p}`).set('Authorization', `Bearer ${token}`),
});

function expectJsonError(res: request.Response, status: number, detail?: RegExp) {
  expect({ status: res.status, schemas: res.body.schemas }).toEqual({ status, schemas: [ERROR] });
  if (detail) expect(res.body.detail).toMatch(detail);
}

/** A user activated through the emailed link with PASSWORD; their browser stays signed in. */
async function activePerson(tenant: TestTenant, email: string): Promise<{ id: string; b: Browser }> {
  const id = email === 'boss@policy.test' ? tenant.primaryAdminId : (await scim(h, tenant).post('/Users', { schemas: [USER], userName: email }).expect(201)).body.id;
  const token = linkToken((await keptMail(h, email, 'activation')).text, '/activate');
  const b = browser(h.app);
  await b.get(`/activate?token=${token}`);
  expect((await b.post('/activate', { token, password: PASSWORD, acceptPrivacy: 'yes' })).status).toBe(303);
  return { id, b };
}

/** A password sign-in straight at the password step (the email step would send these people to the IdP). */
async function passwordSignIn(email: string, password = PASSWORD) {
  const b = browser(h.app);
  await b.get('/login');
  return b.post('/login/password', { email, password });
}

async function forgot(email: string) {
  const b = browser(h.app);
  await b.get('/forgot-password');
  const res = await b.post('/forgot-password', { email });
  // The page answers first; the lookup and the email come after it (http/after-response.ts).
  await h.deps.later.idle();
  return res;
}

const hashOf = async (userId: string) => (await h.owner((db) => db('user_credentials').where({ user_id: userId }).first('password_hash')))?.password_hash ?? null;
const requireSso = (on: boolean) => api(t).patch(`/sso-connections/${connectionId}`, { requireSso: on }).expect(200);

beforeAll(async () => {
  h = await startHarness({ env: LOOPBACK_IDP_ENV });
  t = await createTenant(h, 'Policy', 'boss@policy.test');
  other = await createTenant(h, 'Other', 'boss@other-admin.test');
  idp = await startTestIdp();
  const res = await api(t).post('/sso-connections', { issuer: idp.issuer, clientId: 'policy', clientSecret: 'secret-0123456789', emailDomains: ['policy.test'] });
  expect(res.status).toBe(201);
  expect(res.body.requireSso).toBe(false);
  connectionId = res.body.id;
  await activePerson(t, 'boss@policy.test');
  pat = await activePerson(t, 'pat@policy.test');
});
afterAll(async () => {
  await idp?.close();
  await h?.close();
});

describe('requireSso (issue 9 point 8)', () => {
  let pending: string;
  let otherTenants: string;

  beforeAll(async () => {
    pending = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'pen@policy.test' }).expect(201)).body.id;
    otherTenants = (await activePerson(other, 'oscar@policy.test')).id;
    // Signed in with a password before the rule: the change-password test uses this session.
    expect((await passwordSignIn('pat@policy.test')).status).toBe(303);
    const on = await requireSso(true);
    expect(on.body.requireSso).toBe(true);
    const audit = await api(t).get(`/audit?action=ssoConnection.update&target=${connectionId}`).expect(200);
    expect(audit.body.entries[0].changes).toEqual({ set: { requireSso: true } });
  });

  it('password sign-in is refused: with the right password it says why (issue 11), with a wrong one the generic words', async () => {
    const refused = await passwordSignIn('pat@policy.test');
    expect(refused.status).toBe(401);
    expect(refused.text).toMatch(/signs you in with its identity provider: you have no password here/);
    expect(refused.text).not.toContain(GENERIC);
    const wrong = await passwordSignIn('pat@policy.test', 'not-the-password-at-all');
    expect(wrong.text).toContain(GENERIC);
    const reasons = h.logs.map((l) => JSON.parse(l)).filter((l) => l.msg === 'password sign-in refused').map((l) => l.reason);
    expect(reasons).toContain('SSO is required for this email domain');
  });

  it('forgot-password sends nothing and answers the same page', async () => {
    const before = await mailCount(h, 'pat@policy.test');
    const res = await forgot('pat@policy.test');
    const unknown = await forgot('nobody-here@policy.test');
    expect(res.status).toBe(200);
    expect(res.text.replace(/value="[^"]*"/g, '')).toBe(unknown.text.replace(/value="[^"]*"/g, ''));
    expect(await mailCount(h, 'pat@policy.test')).toBe(before);
  });

  it('the activation page tells them to sign in with their organisation and sets no password', async () => {
    const token = linkToken((await keptMail(h, 'pen@policy.test', 'activation')).text, '/activate');
    const b = browser(h.app);
    const page = await b.get(`/activate?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toMatch(SSO_WORDS);
    expect(page.text).not.toContain('name="password"');
    // A form posted anyway (an old tab): refused, nothing set, the link stays for what it is worth.
    await b.get('/login');
    const posted = await b.post('/activate', { token, password: PASSWORD, acceptPrivacy: 'yes' });
    expect(posted.status).toBe(400);
    expect(posted.text).toMatch(SSO_WORDS);
    expect(await hashOf(pending)).toBeNull();
    expect((await scim(h, t).get(`/Users/${pending}`)).body[PROVISIO_USER].activationState).toBe('pending');
  });

  it('an admin reset is 409 saying SSO is required, and sends nothing', async () => {
    const before = await mailCount(h, 'pat@policy.test');
    const hash = await hashOf(pat.id);
    expectJsonError(await api(t).post(`/users/${pat.id}/reset-password`), 409, /SSO is required/);
    expect(await mailCount(h, 'pat@policy.test')).toBe(before);
    expect(await hashOf(pat.id)).toBe(hash);
  });

  it('a signed-in person cannot change (set) a password', async () => {
    const hash = await hashOf(pat.id);
    await pat.b.get('/account/password');
    const res = await pat.b.post('/account/password', { current: PASSWORD, password: 'another-long-passphrase-99' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(SSO_WORDS);
    expect(await hashOf(pat.id)).toBe(hash);
  });

  it('generated credentials are neither made nor mailed: the person stays pending for their first IdP sign-in', async () => {
    const res = await scim(h, t).post('/Users', {
      schemas: [USER],
      userName: 'gen@policy.test',
      [PROVISIO_USER]: { activationMode: 'generatedCredentials', credentialsEmail: 'it-desk@elsewhere.test' },
    });
    expect(res.status).toBe(201);
    expect(res.body[PROVISIO_USER].activationState).toBe('pending');
    expect(await mailCount(h, 'it-desk@elsewhere.test')).toBe(0);
    expect(await hashOf(res.body.id)).toBeNull();
  });

  it('no activation email: a user created in the domain stays pending with no mail queued, and the log says why (issue 12)', async () => {
    const res = await scim(h, t).post('/Users', { schemas: [USER], userName: 'quiet@policy.test' });
    expect(res.status).toBe(201);
    expect(res.body[PROVISIO_USER].activationState).toBe('pending');
    expect(await mailCount(h, 'quiet@policy.test')).toBe(0);
    const outbox = await h.owner((db) => db('outbox').where({ tenant_id: t.id, recipient: 'quiet@policy.test' }).count({ n: '*' }));
    expect(Number(outbox[0].n)).toBe(0);
    const line = h.logs.map((l) => JSON.parse(l)).find((l) => l.user === res.body.id && /no activation email/.test(l.msg));
    expect(line).toMatchObject({ tenant: t.id, msg: 'user created pending: SSO is required for their domain, no activation email sent' });
    // Another tenant's person with an address in the domain still gets theirs; so does this
    // tenant's person outside the domain.
    await scim(h, other).post('/Users', { schemas: [USER], userName: 'olga@policy.test' }).expect(201);
    await scim(h, t).post('/Users', { schemas: [USER], userName: 'outside@elsewhere.test' }).expect(201);
    expect((await keptMail(h, 'olga@policy.test', 'activation')).text).toContain('/activate?token=');
    expect((await keptMail(h, 'outside@elsewhere.test', 'activation')).text).toContain('/activate?token=');
  });

  it('no activation email either when a pending person\'s sign-in email moves into the domain', async () => {
    const id = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'mover@elsewhere.test' }).expect(201)).body.id;
    expect(await mailCount(h, 'mover@elsewhere.test')).toBe(1);
    const res = await scim(h, t).patch(`/Users/${id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'userName', value: 'mover@policy.test' }] });
    expect(res.status).toBe(200);
    expect(res.body[PROVISIO_USER].activationState).toBe('pending');
    expect(await mailCount(h, 'mover@policy.test')).toBe(0);
    // The old address still learns of the change (its activation link died with it).
    expect((await keptMail(h, 'mover@elsewhere.test', 'email-changed')).text).toContain('mover@policy.test');
  });

  it('break-glass: the primary admin keeps password sign-in and forgot-password', async () => {
    expect((await passwordSignIn('boss@policy.test')).status).toBe(303);
    const before = await mailCount(h, 'boss@policy.test');
    await forgot('boss@policy.test');
    expect(await mailCount(h, 'boss@policy.test')).toBe(before + 1);
    expect((await keptMail(h, 'boss@policy.test', 'password-reset')).text).toContain('/reset-password?token=');
  });

  it("another tenant's people with an address in the domain are not affected", async () => {
    expect((await passwordSignIn('oscar@policy.test')).status).toBe(303);
    const before = await mailCount(h, 'oscar@policy.test');
    await forgot('oscar@policy.test');
    expect(await mailCount(h, 'oscar@policy.test')).toBe(before + 1);
    expect(otherTenants).toBeTruthy();
  });

  it('switched off, passwords work again', async () => {
    await requireSso(false);
    try {
      expect((await passwordSignIn('pat@policy.test')).status).toBe(303);
    } finally {
      await requireSso(true);
    }
  });

  it('resending the activation email is 409 ssoRequired on email, nothing changed or sent; without the rule it is sent (issue 12)', async () => {
    const before = await mailCount(h, 'pen@policy.test');
    const links = () => h.owner((db) => db('one_time_links').where({ tenant_id: t.id, user_id: pending }).orderBy('id').select('id'));
    const resends = async () => (await api(t).get(`/audit?action=user.activation.resend&target=${pending}`).expect(200)).body.entries.length;
    const [linksBefore, resendsBefore] = [await links(), await resends()];
    const res = await api(t).post(`/users/${pending}/activation`);
    expectJsonError(res, 409, /SSO is required for this user's email domain/);
    // A state refusal, not a clash of values: no scimType (RFC 7644 §3.12); the console translates by the code.
    expect(res.body.scimType).toBeUndefined();
    expect(res.body.errors).toEqual([{ field: 'email', path: '/email', code: 'ssoRequired', detail: expect.stringMatching(/no activation email is sent/) }]);
    expect(await mailCount(h, 'pen@policy.test')).toBe(before);
    expect(await links()).toEqual(linksBefore);
    expect(await resends()).toBe(resendsBefore);
    // The console's Activate button gets the same refusal and says so on the person's page.
    const boss = browser(h.app);
    await boss.get('/login');
    expect((await boss.post('/login/password', { email: 'boss@policy.test', password: PASSWORD })).status).toBe(303);
    expect((await boss.get(`/console/users/${pending}`)).status).toBe(200);
    const page = await boss.post(`/console/users/${pending}/activate`, { confirm: 'yes' });
    expect(page.status).toBe(409);
    expect(page.text).toContain('nothing was changed');
    expect(page.text).toMatch(/SSO is required for this user(&#39;|&#x27;|')s email domain/);
    expect(await mailCount(h, 'pen@policy.test')).toBe(before);
    // Another tenant's pending person with an address in the domain still gets theirs.
    const olga = (await scim(h, other).post('/Users', { schemas: [USER], userName: 'olive@policy.test' }).expect(201)).body.id;
    expect((await api(other).post(`/users/${olga}/activation`)).status).toBe(202);
    // The same rule as every other path: switched off, the resend goes out.
    await requireSso(false);
    try {
      expect((await api(t).post(`/users/${pending}/activation`)).status).toBe(202);
      expect(await mailCount(h, 'pen@policy.test')).toBe(before + 1);
    } finally {
      await requireSso(true);
    }
  });

  afterAll(() => requireSso(false));
});

describe('identities: listing and unlinking (issue 9 point 5)', () => {
  const link = (userId: string, subject: string, linkedBy = 'first-sign-in') =>
    h.owner((db) => db('sso_identities').insert({ tenant_id: t.id, connection_id: connectionId, subject, user_id: userId, linked_at: new Date(), linked_by: linkedBy }));
  const linksOf = (userId: string) => h.owner((db) => db('sso_identities').where({ user_id: userId }).select('subject'));

  it('GET lists a person\'s identities; DELETE unlinks (204, audited); missing links, users and other tenants are 404', async () => {
    const ann = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'ann@policy.test' }).expect(201)).body.id;
    await link(ann, 'idp-ann');
    const list = await api(t).get(`/users/${ann}/identities`).expect(200);
    expect(list.body).toEqual({ identities: [{ connectionId, issuer: idp.issuer, subject: 'idp-ann', linkedAt: expect.any(String), linkedBy: 'first-sign-in' }] });
    expectJsonError(await api(other).get(`/users/${ann}/identities`), 404);
    expectJsonError(await api(other).delete(`/users/${ann}/identities/${connectionId}`), 404);
    expectJsonError(await api(t).get('/users/not-a-uuid/identities'), 404);

    await api(t).delete(`/users/${ann}/identities/${connectionId.toUpperCase()}`).expect(204);
    expect(await linksOf(ann)).toEqual([]);
    expect((await api(t).get(`/users/${ann}/identities`).expect(200)).body).toEqual({ identities: [] });
    const audit = await api(t).get(`/audit?action=user.identity.unlink&target=${ann}`).expect(200);
    expect(audit.body.entries).toHaveLength(1);
    expect(audit.body.entries[0]).toMatchObject({ actor: { type: 'token' }, target: { type: 'User', id: ann }, changes: { connectionId, subject: 'idp-ann', linkedBy: 'first-sign-in' } });
    expectJsonError(await api(t).delete(`/users/${ann}/identities/${connectionId}`), 404, /has no identity linked/);
  });

  it('nobody but the primary admin unlinks the primary admin (403); a sub-account credential reaches only its own people', async () => {
    await link(t.primaryAdminId, 'idp-boss', 'self');
    expectJsonError(await api(t).delete(`/users/${t.primaryAdminId}/identities/${connectionId}`), 403, /primary admin/);
    expect(await linksOf(t.primaryAdminId)).toEqual([{ subject: 'idp-boss' }]);
    const group = await scim(h, t).post('/Groups', { displayName: 'Branch', [`urn:provisio:params:scim:schemas:extension:2.0:Group`]: { kind: 'subAccount' } }).expect(201);
    const bound = (await api(t).post('/tokens', { name: 'branch', scopes: ['admin'], subAccount: group.body.id }).expect(201)).body.token;
    // Someone outside its subtree is 404 to it, as if absent (the authority rule, test/api/authority.test.ts).
    expectJsonError(await api(t, bound).get(`/users/${pat.id}/identities`), 404);
    expectJsonError(await api(t, bound).delete(`/users/${pat.id}/identities/${connectionId}`), 404);
  });

  it('the person unlinks themselves on the account page (audited as themselves)', async () => {
    await link(pat.id, 'idp-pat');
    const b = browser(h.app);
    await b.get('/login');
    expect((await b.post('/login/password', { email: 'pat@policy.test', password: PASSWORD })).status).toBe(303);
    const page = await b.get('/account/identities');
    expect(page.status).toBe(200);
    expect(page.text).toContain(idp.issuer);
    expect(page.text).toContain('Linked at your first sign-in');
    const res = await b.post(`/account/identities/${connectionId}/unlink`, {});
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account/identities?unlinked=1');
    expect(await linksOf(pat.id)).toEqual([]);
    const audit = await api(t).get(`/audit?action=user.identity.unlink&target=${pat.id}`).expect(200);
    expect(audit.body.entries[0]).toMatchObject({ actor: { type: 'user', id: pat.id }, changes: { connectionId, subject: 'idp-pat' } });
    // Nothing left to unlink: a page saying so, not an error.
    await b.get('/account/identities');
    expect((await b.post(`/account/identities/${connectionId}/unlink`, {})).status).toBe(404);
  });

  it('deleting a connection unlinks everyone linked at it, one audit entry each', async () => {
    const c = await api(t).post('/sso-connections', { issuer: idp.issuer, clientId: 'doomed', clientSecret: 'secret-0123456789', emailDomains: ['doomed.test'] }).expect(201);
    const u1 = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'u1@doomed.test' }).expect(201)).body.id;
    const u2 = (await scim(h, t).post('/Users', { schemas: [USER], userName: 'u2@doomed.test' }).expect(201)).body.id;
    await h.owner((db) =>
      db('sso_identities').insert([
        { tenant_id: t.id, connection_id: c.body.id, subject: 's1', user_id: u1, linked_at: new Date() },
        { tenant_id: t.id, connection_id: c.body.id, subject: 's2', user_id: u2, linked_at: new Date() },
      ]),
    );
    await api(t).delete(`/sso-connections/${c.body.id}`).expect(204);
    for (const [u, s] of [[u1, 's1'], [u2, 's2']]) {
      const audit = await api(t).get(`/audit?action=user.identity.unlink&target=${u}`).expect(200);
      expect(audit.body.entries).toEqual([expect.objectContaining({ changes: { connectionId: c.body.id, subject: s, reason: 'connection deleted' } })]);
    }
  });

  it('asking to prove a domain when the resolver cannot be reached is a 400 in words (the harness points DNS at a closed loopback port)', async () => {
    const res = await api(t).post(`/sso-connections/${connectionId}/domains/policy.test/verify`);
    expectJsonError(res, 400, /The DNS could not be asked just now/);
    expect(res.body.detail).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|:1\b/);
  });
});

// Roles (issue 10, "Roles: admin and user"; server/resources/roles.ts): every user is an admin or
// a user, pushed by IdPs in the SCIM core `roles` attribute (Okta's array, Entra's app-role forms);
// a tenant admin has the primary admin's powers on the admin API except over the primary admin;
// only tenant-wide credentials and tenant admins grant or remove admin. On PGlite and PostgreSQL.
import { browser, linkToken } from '../support/browser';
import { createTenant, expectScimError, Harness, OPERATOR_TOKEN, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GOOD = 'correct-horse-battery-staple-42';
const ops = (...operations: Record<string, unknown>[]) => ({ schemas: [PATCH], Operations: operations });

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Roles', 'owner@roles.test');
  api = scim(h, t);
});
afterAll(() => h.close());

async function person(extra: Record<string, unknown> = {}): Promise<{ id: string; email: string; body: Record<string, unknown> }> {
  const email = `person${++seq}@roles.test`;
  const res = await api.post('/Users', { schemas: [USER], userName: email, ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.id, email, body: res.body };
}

/** Activates a person through the kept activation email and returns their signed-in browser. */
async function signedIn(email: string) {
  const mail = await h.http.get('/operator/v1/mail').query({ to: email }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
  const linkSecret = linkToken(mail.body.messages.find((m: { template: string }) => m.template === 'activation').text, '/activate');
  const b = browser(h.app);
  await b.get(`/activate?token=${linkSecret}`);
  const done = await b.post('/activate', { token: linkSecret, password: GOOD, acceptPrivacy: 'yes' });
  expect(done.status).toBe(303);
  return { b, landing: done.headers.location as string, csrf: async () => (await b.me()).body.csrfToken as string };
}

describe('the roles attribute', () => {
  it('a user created without roles is a user; the primary admin is an admin', async () => {
    const p = await person();
    expect(p.body.roles).toEqual([{ value: 'user' }]);
    expect((await api.get(`/Users/${t.primaryAdminId}`)).body.roles).toEqual([expect.objectContaining({ value: 'admin' })]);
  });

  it('accepts Okta’s roles array and Entra’s app-role form, in any case', async () => {
    expect((await person({ roles: [{ value: 'Admin' }] })).body.roles).toEqual([{ value: 'admin' }]);
    const entra = await person({ roles: [{ value: 'admin', primary: 'True', type: 'WindowsAzureActiveDirectoryRole' }] });
    expect(entra.body.roles).toEqual([{ value: 'admin', primary: true, type: 'WindowsAzureActiveDirectoryRole' }]);
  });

  it('Entra’s PATCH of roles[primary eq "True"].value, and roles as JSON inside a string', async () => {
    const p = await person();
    const res = await api.patch(`/Users/${p.id}`, ops({ op: 'Replace', path: 'roles[primary eq "True"].value', value: 'admin' }));
    expect(res.status).toBe(200);
    expect(res.body.roles.map((r: { value: string }) => r.value)).toContain('admin');
    const back = await api.patch(`/Users/${p.id}`, ops({ op: 'Replace', path: 'roles', value: '[{"value":"user","primary":true}]' }));
    expect(back.status).toBe(200);
    expect(back.body.roles).toEqual([{ value: 'user', primary: true }]);
  });

  it('refuses a value that is not admin or user, and changes nothing', async () => {
    const p = await person();
    expectScimError(await api.patch(`/Users/${p.id}`, ops({ op: 'add', path: 'roles', value: [{ value: 'owner' }] })), 400, 'invalidValue');
    expectScimError(await api.post('/Users', { schemas: [USER], userName: 'bad-role@roles.test', roles: [{ value: 'Student' }] }), 400, 'invalidValue');
    expect((await api.get(`/Users/${p.id}`)).body.roles).toEqual([{ value: 'user' }]);
  });

  it('a PUT without roles keeps them: an IdP that does not manage roles never demotes an admin', async () => {
    const p = await person({ roles: [{ value: 'admin' }] });
    const res = await api.put(`/Users/${p.id}`, { schemas: [USER], userName: p.email, title: 'Lead' });
    expect(res.status).toBe(200);
    expect(res.body.roles).toEqual([{ value: 'admin' }]);
  });

  it('the primary admin is always an admin, even for the tenant-wide token', async () => {
    expectScimError(await api.patch(`/Users/${t.primaryAdminId}`, ops({ op: 'replace', path: 'roles', value: [{ value: 'user' }] })), 403);
    const res = await h.owner((db) => db('users').where({ tenant_id: t.id, id: t.primaryAdminId }).first('role'));
    expect(res.role).toBe('admin');
  });
});

describe('who may grant admin', () => {
  it('a sub-account’s credential may neither grant nor remove admin, nor change a tenant admin', async () => {
    const member = await person();
    const admin = await person({ roles: [{ value: 'admin' }] });
    const sub = await api.post('/Groups', { displayName: `Branch ${seq}`, members: [{ value: member.id }, { value: admin.id }], [PROVISIO_GROUP]: { kind: 'subAccount' } });
    const token = (await h.http.post('/api/v1/tokens').set('Authorization', `Bearer ${t.token}`).send({ name: 'branch', scopes: ['scim'], subAccount: sub.body.id }).expect(201)).body.token;
    const bound = scim(h, { ...t, token });
    expectScimError(await bound.patch(`/Users/${member.id}`, ops({ op: 'replace', path: 'roles', value: [{ value: 'admin' }] })), 403);
    expectScimError(await bound.post('/Users', { schemas: [USER], userName: 'made-admin@roles.test', roles: [{ value: 'admin' }] }), 403);
    // A tenant admin administers the whole tenant: no sub-account's credential changes them.
    expectScimError(await bound.patch(`/Users/${admin.id}`, ops({ op: 'replace', path: 'title', value: 'x' })), 403);
    expect((await bound.patch(`/Users/${member.id}`, ops({ op: 'replace', path: 'title', value: 'Clerk' }))).status).toBe(200);
  });
});

describe('tenant admins', () => {
  it('have the primary admin’s powers on the admin API, tenant-wide, except over the primary admin', async () => {
    const admin = await person({ roles: [{ value: 'admin' }] });
    const other = await person();
    const s = await signedIn(admin.email);
    expect(s.landing).toBe('/console');
    const csrf = await s.csrf();
    expect((await s.b.agent.get('/api/v1/audit')).status).toBe(200);
    expect((await s.b.agent.get('/api/v1/settings')).status).toBe(200);
    expect((await s.b.agent.post(`/api/v1/users/${other.id}/force-logout`).set('X-CSRF-Token', csrf).send({})).status).toBe(200);
    expect((await s.b.agent.post(`/api/v1/users/${t.primaryAdminId}/force-logout`).set('X-CSRF-Token', csrf).send({})).status).toBe(403);
    expect((await s.b.agent.post(`/api/v1/users/${t.primaryAdminId}/reset-password`).set('X-CSRF-Token', csrf).send({})).status).toBe(403);
    expect((await s.b.me()).body).toMatchObject({ admin: true });
  });

  it('a token a tenant admin made stops when they are no longer an admin', async () => {
    const admin = await person({ roles: [{ value: 'admin' }] });
    const s = await signedIn(admin.email);
    const csrf = await s.csrf();
    const made = await s.b.agent.post('/api/v1/tokens').set('X-CSRF-Token', csrf).send({ name: 'script', scopes: ['scim'] });
    expect(made.status).toBe(201);
    const theirs = scim(h, { ...t, token: made.body.token });
    expect((await theirs.get('/Users').query({ count: 1 })).status).toBe(200);
    await api.patch(`/Users/${admin.id}`, ops({ op: 'replace', path: 'roles', value: [{ value: 'user' }] })).expect(200);
    expectScimError(await theirs.get('/Users'), 401);
  });

  it('a user signs in to the account page only; the admin API refuses them', async () => {
    const p = await person();
    const s = await signedIn(p.email);
    expect(s.landing).toBe('/account');
    expect((await s.b.agent.get('/api/v1/audit')).status).toBe(403);
    expect((await s.b.get('/console')).headers.location).toBe('/account');
  });
});

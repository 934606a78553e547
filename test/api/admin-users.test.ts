// Users in the admin API (issue 10, "Users in the admin API"; server/admin/users.ts): list with
// search, filters and cursor paging; create with the three activation choices and per-field
// errors; read, change, delete; a temporary password; bulk delete, all or nothing. Every write goes
// through the resource service, so the SCIM rules hold: the primary admin, the authority of
// sub-account credentials, audit. On PGlite and PostgreSQL.
import { browser, linkToken } from '../support/browser';
import { createTenant, Harness, OPERATOR_TOKEN, PROVISIO_GROUP, scim, startHarness, TestTenant } from '../support/harness';

const GOOD = 'correct-horse-battery-staple-42';

let h: Harness;
let t: TestTenant;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Users API', 'owner@users-api.test');
});
afterAll(() => h.close());

const api = (token = t.token) => ({
  get: (path: string) => h.http.get(`/api/v1${path}`).set('Authorization', `Bearer ${token}`),
  post: (path: string, body?: object) => h.http.post(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body ?? {}),
  patch: (path: string, body: object) => h.http.patch(`/api/v1${path}`).set('Authorization', `Bearer ${token}`).send(body),
  delete: (path: string) => h.http.delete(`/api/v1${path}`).set('Authorization', `Bearer ${token}`),
});

const kept = async (to: string) =>
  (await h.http.get('/operator/v1/mail').query({ to }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`)).body.messages as { template: string; text: string }[];

async function newUser(extra: Record<string, unknown> = {}, token?: string) {
  const email = `person${++seq}@users-api.test`;
  const res = await api(token).post('/users', { givenName: 'Ada', familyName: `Lovelace ${seq}`, email, ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.user.id as string, email, res };
}

describe('POST /users', () => {
  it('creates a pending user and sends the activation email by default', async () => {
    const { res, email } = await newUser({ role: 'admin', notificationEmail: 'notify@users-api.test', externalContact: 'Grace' });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body.password).toBeUndefined();
    expect(res.body.user).toMatchObject({ givenName: 'Ada', email, role: 'admin', state: 'pending', notificationEmail: 'notify@users-api.test', externalContact: 'Grace', lastSignInAt: null });
    expect((await kept(email)).map((m) => m.template)).toEqual(['activation']);
  });

  it('"now": active at once, the generated password answered once and emailed to the credentials address', async () => {
    const { res, id, email } = await newUser({ activation: 'now', credentialsEmail: 'it@users-api.test' });
    expect(res.body.user.state).toBe('active');
    expect(res.body.password).toMatch(/^\S{16,}$/);
    const mail = (await kept('it@users-api.test')).find((m) => m.template === 'credentials');
    expect(mail?.text).toContain(res.body.password);
    // Never shown again.
    expect(JSON.stringify((await api().get(`/users/${id}`)).body)).not.toContain(res.body.password);
    // The person signs in with it, and must change it.
    const b = browser(h.app);
    expect((await b.signIn(email, res.body.password)).headers.location).toBe('/account/password');
  });

  it('"later": pending with no email; activating later sends it', async () => {
    const { id, email } = await newUser({ activation: 'later' });
    expect(await kept(email)).toEqual([]);
    expect((await api().post(`/users/${id}/activation`)).status).toBe(202);
    expect((await kept(email)).map((m) => m.template)).toEqual(['activation']);
  });

  it('answers every field at fault, by name, and creates nothing', async () => {
    const res = await api().post('/users', { givenName: '', email: 'two@@users-api.test', role: 'owner', activation: 'soon', shoeSize: 43 });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    // Each with its code (docs/admin-api.md, "Field errors").
    expect(res.body.errors.map((e: { field: string; code: string }) => `${e.field} ${e.code}`).sort()).toEqual(['activation enum', 'email address', 'familyName required', 'givenName required', 'role enum', 'shoeSize unknown']);
    const taken = await api().post('/users', { givenName: 'A', familyName: 'B', email: 'owner@users-api.test' });
    expect(taken.status).toBe(409);
    expect(taken.body.errors).toEqual([{ field: 'email', path: '/email', code: 'taken', detail: expect.stringMatching(/already in use/) }]);
  });
});

describe('GET /users', () => {
  it('searches by name or email, filters by state and role, and pages with a cursor', async () => {
    const a = await newUser({ givenName: 'Zelda' });
    await newUser({ activation: 'now' });
    await newUser({ role: 'admin', activation: 'later' });
    expect((await api().get('/users?q=zelda')).body.users.map((u: { id: string }) => u.id)).toEqual([a.id]);
    expect((await api().get(`/users?q=${encodeURIComponent(a.email)}`)).body.users).toHaveLength(1);
    const active = (await api().get('/users?state=active&count=200')).body.users;
    expect(active.length).toBeGreaterThan(0);
    expect(active.every((u: { state: string }) => u.state === 'active')).toBe(true);
    const admins = (await api().get('/users?role=admin&count=200')).body.users;
    expect(admins.every((u: { role: string }) => u.role === 'admin')).toBe(true);
    expect(admins.some((u: { primaryAdmin: boolean }) => u.primaryAdmin)).toBe(true);
    const first = await api().get('/users?count=2');
    expect(first.body.users).toHaveLength(2);
    expect(first.body.totalResults).toBeGreaterThan(2);
    const next = await api().get(`/users?count=2&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect(next.body.users[0].id).not.toBe(first.body.users[0].id);
    expect((await api().get('/users?state=sleeping')).status).toBe(400);
    // A search is a value, never filter syntax.
    const odd = await api().get(`/users?q=${encodeURIComponent('a" or userName pr or "')}`);
    expect(odd.status).toBe(200);
    expect(odd.body.users).toEqual([]);
  });

  it('shows when a person last signed in', async () => {
    const { id, email, res } = await newUser({ activation: 'now' });
    const b = browser(h.app);
    await b.signIn(email, res.body.password);
    expect((await api().get(`/users/${id}`)).body.lastSignInAt).toEqual(expect.any(String));
  });
});

describe('PATCH, DELETE and the password', () => {
  it('changes fields through the resource service, per-field errors included', async () => {
    const { id } = await newUser();
    const res = await api().patch(`/users/${id}`, { familyName: 'Byron', role: 'admin', notificationEmail: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ familyName: 'Byron', role: 'admin', notificationEmail: null });
    const bad = await api().patch(`/users/${id}`, { email: 'not an address' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual([{ field: 'email', path: '/email', code: 'address', detail: expect.any(String) }]);
    const audit = await api().get(`/audit?target=${id}&action=user.patch`);
    expect(audit.body.entries.length).toBeGreaterThan(0);
  });

  it('the primary admin edits their own name with their session; nobody else touches them', async () => {
    const mail = (await kept('owner@users-api.test')).find((m) => m.template === 'activation')!;
    const token = linkToken(mail.text, '/activate');
    const b = browser(h.app);
    await b.get(`/activate?token=${token}`);
    expect((await b.post('/activate', { token, password: GOOD, acceptPrivacy: 'yes' })).status).toBe(303);
    const csrf = (await b.me()).body.csrfToken;
    const own = await b.agent.patch(`/api/v1/users/${t.primaryAdminId}`).set('X-CSRF-Token', csrf).send({ givenName: 'Owen' });
    expect(own.status).toBe(200);
    expect(own.body.givenName).toBe('Owen');
    expect((await api().patch(`/users/${t.primaryAdminId}`, { givenName: 'Mallory' })).status).toBe(403);
    expect((await api().delete(`/users/${t.primaryAdminId}`)).status).toBe(403);
    expect((await api().post(`/users/${t.primaryAdminId}/password`, { password: GOOD })).status).toBe(403);
  });

  it('a temporary password must pass the policy and be changed at the next sign-in', async () => {
    const { id, email, res } = await newUser({ activation: 'now' });
    const weak = await api().post(`/users/${id}/password`, { password: 'password1234' });
    expect(weak.status).toBe(400);
    expect(weak.body.errors).toEqual([{ field: 'password', path: '/password', code: 'weak', detail: expect.stringMatching(/common/) }]);
    expect((await api().post(`/users/${id}/password`, { password: 'a-temporary-passphrase-77' })).status).toBe(204);
    const b = browser(h.app);
    expect((await b.signIn(email, res.body.password)).status).toBe(401);
    expect((await b.signIn(email, 'a-temporary-passphrase-77')).headers.location).toBe('/account/password');
  });

  it('bulk delete is all or nothing: an unknown id or the primary admin refuses the whole request', async () => {
    const a = await newUser();
    const b = await newUser();
    expect((await api().post('/users/delete', { ids: [a.id, b.id, '01a23ca4-8404-705d-a9fa-cebeeb087634'] })).status).toBe(404);
    expect((await api().post('/users/delete', { ids: [a.id, t.primaryAdminId] })).status).toBe(403);
    expect((await api().get(`/users/${a.id}`)).status).toBe(200);
    const done = await api().post('/users/delete', { ids: [a.id, b.id, a.id.toUpperCase()] });
    expect(done.body).toEqual({ deleted: 2 });
    expect((await api().get(`/users/${b.id}`)).status).toBe(404);
    expect((await api().post('/users/delete', { ids: [] })).status).toBe(400);
  });
});

describe('a sub-account’s credential', () => {
  it('lists its subtree, creates into its sub-account, and changes only people it fully administers', async () => {
    const inside = await newUser();
    const shared = await newUser();
    const sub = await scim(h, t).post('/Groups', { displayName: 'Branch', members: [{ value: inside.id }, { value: shared.id }], [PROVISIO_GROUP]: { kind: 'subAccount' } });
    await scim(h, t).post('/Groups', { displayName: 'Elsewhere', members: [{ value: shared.id }] }).expect(201);
    const token = (await api().post('/tokens', { name: 'branch', scopes: ['admin'], subAccount: sub.body.id })).body.token;
    const listed = (await api(token).get('/users?count=200')).body.users.map((u: { id: string }) => u.id).sort();
    expect(listed).toEqual([inside.id, shared.id].sort());
    const made = await newUser({}, token);
    expect((await api(token).get(`/users/${made.id}`)).status).toBe(200);
    expect((await api(token).patch(`/users/${inside.id}`, { givenName: 'Ida' })).status).toBe(200);
    expect((await api(token).patch(`/users/${shared.id}`, { givenName: 'Sam' })).status).toBe(403);
    expect((await api(token).patch(`/users/${inside.id}`, { role: 'admin' })).status).toBe(403);
    expect((await api(token).get(`/users/${t.primaryAdminId}`)).status).toBe(404);
  });
});

// The admin API's sub-accounts, companies and delegated managers (docs/admin-api.md): what the
// console's Departments, Sub-accounts and Companies pages call. They go through the resource
// service, so the SCIM rules hold: tenancy (another tenant's is 404), the authority of the account
// above over a sub-account's state, admins and limits, tenant-wide-only licence rights, audit.
// Runs on PGlite and PostgreSQL.
import { adminApi, createTenant, expectJsonError, GROUP, Harness, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';
import { keptMail } from '../support/web';

let h: Harness;
let t: TestTenant;
let other: TestTenant;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Other');
});
afterAll(async () => h.close());

async function person(tenant = t): Promise<string> {
  const res = await scim(h, tenant).post('/Users', { schemas: [USER], userName: `p${++seq}-${Date.now() % 100000}@acme.test` });
  expect(res.status).toBe(201);
  return res.body.id;
}

describe('sub-accounts', () => {
  it('creates, lists, reads, changes and deletes a sub-account, with members, admins, limits and state', async () => {
    const api = adminApi(h, t);
    const [a, b] = [await person(), await person()];
    const created = await api.post('/sub-accounts', { name: 'Paris office', dailyLimit: 10, monthlyLimit: 200, members: [a], admins: [b] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Paris office', active: true, deactivatedAt: null, purgeAt: null, dailyLimit: 10, monthlyLimit: 200, admins: [b], mayChangeState: true });
    // An admin is always a member.
    expect(created.body.members.map((m: { id: string }) => m.id).sort()).toEqual([a, b].sort());
    const id = created.body.id;

    const list = await api.get('/sub-accounts');
    expect(list.status).toBe(200);
    expect(list.body.subAccounts.map((s: { id: string }) => s.id)).toContain(id);
    expect(list.body.subAccounts[0].members).toBeUndefined();

    const off = await api.patch(`/sub-accounts/${id}`, { active: false, dailyLimit: null, members: [b], name: 'Paris' });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ name: 'Paris', active: false, dailyLimit: null, monthlyLimit: 200 });
    expect(off.body.members.map((m: { id: string }) => m.id)).toEqual([b]);
    const deactivated = new Date(off.body.deactivatedAt);
    const purge = new Date(off.body.purgeAt);
    expect(purge.getUTCFullYear() * 12 + purge.getUTCMonth() - (deactivated.getUTCFullYear() * 12 + deactivated.getUTCMonth())).toBe(12);

    const on = await api.patch(`/sub-accounts/${id}`, { active: true });
    expect(on.body).toMatchObject({ active: true, deactivatedAt: null, purgeAt: null });

    const audit = await api.get(`/audit?target=${id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.entries.length).toBeGreaterThanOrEqual(3);

    expect((await api.delete(`/sub-accounts/${id}`)).status).toBe(204);
    expectJsonError(await api.get(`/sub-accounts/${id}`), 404);
  });

  it('answers bad fields by name and changes nothing', async () => {
    const api = adminApi(h, t);
    const res = await api.post('/sub-accounts', { name: ' ', dailyLimit: -1, monthlyLimit: 1.5, colour: 'red' });
    expectJsonError(res, 400);
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['colour', 'dailyLimit', 'monthlyLimit', 'name']);
    const id = (await api.post('/sub-accounts', { name: `Dept ${++seq}` })).body.id;
    const stranger = await person(other);
    const bad = await api.patch(`/sub-accounts/${id}`, { members: [stranger], dailyLimit: 5 });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);
    expect((await api.get(`/sub-accounts/${id}`)).body).toMatchObject({ dailyLimit: null, members: [] });
  });

  it('never answers 500 for odd input: every refusal is a 4xx naming what is wrong, and nothing changes', async () => {
    const api = adminApi(h, t);
    const stranger = await person(other);
    const missing = '01900000-0000-7000-8000-000000000000';
    const id = (await api.post('/sub-accounts', { name: `Odd ${++seq}` })).body.id;
    const bodies: unknown[] = [
      { name: 42 },
      { name: 'x', parent: missing },
      { name: 'x', parent: 'not-an-id' },
      { name: 'x', parent: id.replace(/.$/, (c: string) => (c === '0' ? '1' : '0')) },
      { name: 'x', admins: [stranger] },
      { name: 'x', members: 'everyone' },
      { name: 'x', members: [missing] },
      [],
      'text',
    ];
    for (const body of bodies) {
      const res = await api.post('/sub-accounts', body);
      expect([JSON.stringify(body), res.status >= 400 && res.status < 500]).toEqual([JSON.stringify(body), true]);
    }
    for (const body of [{ active: 'no' }, { admins: [missing] }, { members: [stranger] }, {}, { parent: id }]) {
      const res = await api.patch(`/sub-accounts/${id}`, body);
      expect([JSON.stringify(body), res.status >= 400 && res.status < 500]).toEqual([JSON.stringify(body), true]);
    }
    for (const body of [{ companies: 'all' }, { companies: [missing] }, { canManageLicences: 'yes' }, { email: 'x@y.z' }]) {
      const res = await api.patch(`/managers/${t.primaryAdminId}`, body);
      expect([JSON.stringify(body), res.status >= 400 && res.status < 500]).toEqual([JSON.stringify(body), true]);
    }
    expect((await api.get('/sub-accounts')).body.subAccounts.filter((s: { name: string }) => s.name === 'x')).toEqual([]);
    expect((await api.get(`/sub-accounts/${id}`)).body).toMatchObject({ active: true, admins: [], members: [] });
  });

  it('is 404 for another tenant\'s sub-account and for a group of another kind', async () => {
    const mine = (await adminApi(h, t).post('/sub-accounts', { name: `Mine ${++seq}` })).body.id;
    expectJsonError(await adminApi(h, other).get(`/sub-accounts/${mine}`), 404);
    expectJsonError(await adminApi(h, other).patch(`/sub-accounts/${mine}`, { active: false }), 404);
    expectJsonError(await adminApi(h, other).delete(`/sub-accounts/${mine}`), 404);
    const company = (await adminApi(h, t).post('/companies', { name: `Co ${++seq}` })).body.id;
    expectJsonError(await adminApi(h, t).get(`/sub-accounts/${company}`), 404);
    expectJsonError(await adminApi(h, t).get(`/companies/${mine}`), 404);
  });

  it('a credential bound to a sub-account cannot switch it off or change its limits, and is told so beforehand', async () => {
    const api = adminApi(h, t);
    const parent = (await api.post('/sub-accounts', { name: `Top ${++seq}` })).body.id;
    const child = (await api.post('/sub-accounts', { name: `Below ${seq}`, parent })).body.id;
    const token = (await api.post('/tokens', { name: 'bound', scopes: ['admin'], subAccount: parent })).body.token;
    const bound = adminApi(h, t, token);
    const rows = (await bound.get('/sub-accounts')).body.subAccounts;
    expect(rows.map((r: { id: string }) => r.id).sort()).toEqual([parent, child].sort());
    expect(rows.find((r: { id: string }) => r.id === parent).mayChangeState).toBe(false);
    expect(rows.find((r: { id: string }) => r.id === child).mayChangeState).toBe(true);
    expectJsonError(await bound.patch(`/sub-accounts/${parent}`, { active: false }), 403);
    expectJsonError(await bound.patch(`/sub-accounts/${parent}`, { dailyLimit: 3 }), 403);
    expect((await api.get(`/sub-accounts/${parent}`)).body).toMatchObject({ active: true, dailyLimit: null });
    expect((await bound.patch(`/sub-accounts/${child}`, { active: false })).body.active).toBe(false);
    // One it creates sits under it (it is the account above); one merely nested in it as a member
    // group is not below it by parent, and the answer says so before the API refuses.
    const made = (await bound.post('/sub-accounts', { name: `Made ${seq}` })).body;
    expect(made).toMatchObject({ parent, mayChangeState: true });
    expect((await bound.patch(`/sub-accounts/${made.id}`, { dailyLimit: 7 })).body.dailyLimit).toBe(7);
    const nested = (await scim(h, t).post('/Groups', { schemas: [GROUP, PROVISIO_GROUP], displayName: `Nested ${seq}`, [PROVISIO_GROUP]: { kind: 'subAccount' } })).body.id;
    await scim(h, t).patch(`/Groups/${parent}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'add', path: 'members', value: [{ value: nested }] }] });
    const seen = (await bound.get('/sub-accounts')).body.subAccounts.find((r: { id: string }) => r.id === nested);
    expect(seen).toMatchObject({ mayChangeState: false });
    expectJsonError(await bound.patch(`/sub-accounts/${nested}`, { active: false }), 403);
  });
});

describe('companies', () => {
  it('creates, renames, lists and deletes companies; a name is required', async () => {
    const api = adminApi(h, t);
    const name = `Dupont ${++seq}`;
    const c = await api.post('/companies', { name });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ name, managers: 0 });
    const empty = await api.post('/companies', {});
    expectJsonError(empty, 400);
    expect(empty.body.errors).toEqual([{ field: 'name', path: '/name', code: 'required', detail: 'is required' }]);
    expect((await api.patch(`/companies/${c.body.id}`, { name: `${name} SARL` })).body.name).toBe(`${name} SARL`);
    expect((await api.get('/companies')).body.companies.map((x: { name: string }) => x.name)).toContain(`${name} SARL`);
    expect((await adminApi(h, other).get('/companies')).body.companies).toEqual([]);
    expect((await api.delete(`/companies/${c.body.id}`)).status).toBe(204);
    expectJsonError(await api.get(`/companies/${c.body.id}`), 404);
  });
});

describe('delegated managers', () => {
  it('creates a manager with a temporary password emailed to them, lists them with their companies and licence rights', async () => {
    const api = adminApi(h, t);
    const email = `manager${++seq}@acme.test`;
    const res = await api.post('/managers', { email, name: 'Chloé Martin', canManageLicences: true });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ name: 'Chloé Martin', email, state: 'active', canManageLicences: true, companies: [] });
    expect(JSON.stringify(res.body)).not.toMatch(/password/i);
    await h.deps.later.idle();
    const mail = await keptMail(h, email, 'credentials');
    expect(mail.text).toContain(email);

    const [c1, c2, c3] = await Promise.all([1, 2, 3].map(async (n) => (await api.post('/companies', { name: `Client ${seq}-${n}` })).body.id));
    const set = await api.patch(`/managers/${res.body.id}`, { companies: [c1, c2], canManageLicences: false });
    expect(set.status).toBe(200);
    expect(set.body.companies.map((c: { id: string }) => c.id).sort()).toEqual([c1, c2].sort());
    expect(set.body.canManageLicences).toBe(false);
    const moved = await api.patch(`/managers/${res.body.id}`, { companies: [c3] });
    expect(moved.body.companies.map((c: { id: string }) => c.id)).toEqual([c3]);

    const list = await api.get('/managers');
    expect(list.body.managers.find((m: { id: string }) => m.id === res.body.id)).toMatchObject({ email, canManageLicences: false });
    expect(list.body.primaryAdmin).toMatchObject({ id: t.primaryAdminId, email: t.adminEmail });
    // The permissions answer agrees: the manager manages c3, without licence rights.
    const perms = await api.get(`/users/${res.body.id}/permissions`);
    expect(JSON.stringify(perms.body)).toContain(c3);
  });

  it('refuses a bad email or a missing name by field, an unknown company, and licence rights from a bound credential', async () => {
    const api = adminApi(h, t);
    const bad = await api.post('/managers', { email: 'not an address', name: '' });
    expectJsonError(bad, 400);
    expect(bad.body.errors.map((e: { field: string; code: string }) => `${e.field} ${e.code}`)).toEqual(['email address', 'name required']);
    const taken = await api.post('/managers', { email: t.adminEmail, name: 'Copy' });
    expectJsonError(taken, 409);
    expect(taken.body.errors[0].field).toBe('email');

    const m = (await api.post('/managers', { email: `m${++seq}@acme.test`, name: 'Manager' })).body.id;
    const foreign = (await adminApi(h, other).post('/companies', { name: 'Theirs' })).body.id;
    const unknown = await api.patch(`/managers/${m}`, { companies: [foreign] });
    expectJsonError(unknown, 400);
    expect(unknown.body.errors[0].field).toBe('companies');
    expectJsonError(await adminApi(h, other).patch(`/managers/${m}`, { canManageLicences: true }), 404);

    const sub = (await api.post('/sub-accounts', { name: `Delegated ${seq}`, members: [m] })).body.id;
    const token = (await api.post('/tokens', { name: 'bound', scopes: ['admin'], subAccount: sub })).body.token;
    expectJsonError(await adminApi(h, t, token).patch(`/managers/${m}`, { canManageLicences: true }), 403);
    expect((await api.get('/managers')).body.managers.find((x: { id: string }) => x.id === m).canManageLicences).toBe(false);
  });
});

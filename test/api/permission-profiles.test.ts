// Permission profiles (issue 10, "Permission profiles") on a real server and database: the
// operator's permission catalogue (shipped, or PERMISSIONS_FILE) on the operator and admin APIs;
// /api/v1/permission-profiles with the built-in `enterprise` (every permission, also ones added
// later; never deleted or narrowed), custom subsets and exactly one default; a user's
// `permissionProfile` (the default at creation, kept on PUT without it, unknown → 400); deleting a
// profile moves its users to the default; migration 0015 gives existing tenants and users
// `enterprise`; the lookup the permissions answer is built on.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import * as m0015 from '../../migrations/0015_permission_profiles';
import { Assignments } from '../../server/accounts/assignments';
import { adminApi, createTenant, expectJsonError, expectScimError, GROUP, Harness, OPERATOR_TOKEN, PROVISIO_GROUP, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const CATALOGUE = ['servers.manage', 'servers.view', 'billing.view', 'billing.manage', 'licences.manage', 'users.manage', 'support.open'];
let h: Harness;
let t: TestTenant;
let other: TestTenant;
let now = Date.parse('2026-11-21T09:00:00Z');
const clock = () => new Date(now);
let seq = 0;

beforeAll(async () => {
  h = await startHarness({ clock });
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Globex');
});
afterAll(() => h.close());

const admin = (tenant: TestTenant, token = tenant.token) => adminApi(h, tenant, token);


interface Profile {
  key: string;
  name: string;
  description: string | null;
  permissions: string[];
  builtIn: boolean;
  default: boolean;
}

const profiles = async (tenant = t): Promise<Profile[]> => (await admin(tenant).get('/permission-profiles').expect(200)).body.permissionProfiles;
const defaultKey = async (tenant = t) => (await profiles(tenant)).filter((p) => p.default).map((p) => p.key);
const stored = async (id: string) => h.owner(async (db) => db('users').where({ id }).first(['data', 'folded', 'version', 'updated_at']));
const profileOf = async (id: string) => (await scim(h, t).get(`/Users/${id}`).expect(200)).body[PROVISIO_USER]?.permissionProfile;

async function custom(key: string, permissions: string[] = ['servers.view'], tenant = t): Promise<Profile> {
  const res = await admin(tenant).post('/permission-profiles', { key, name: key.toUpperCase(), permissions });
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function newUser(ext?: Record<string, unknown>, tenant = t): Promise<{ id: string; userName: string; body: Record<string, unknown> }> {
  const userName = `person${++seq}@profiles.test`;
  const res = await scim(h, tenant).post('/Users', { schemas: [USER], userName, ...(ext ? { [PROVISIO_USER]: ext } : {}) });
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, userName, body: res.body };
}

const auditOf = async (query: Record<string, string>) =>
  (await admin(t).get('/audit').query(query).expect(200)).body.entries as { action: string; target: { type: string; id: string }; changes: Record<string, unknown> }[];

describe('migration 0015', () => {
  it('gives every tenant `enterprise` as its default and every existing user that profile, with a new version', async () => {
    const u = await newUser();
    await h.owner(async (trx) => {
      await m0015.down(trx);
      const row = await trx('users').where({ id: u.id }).first(['data']);
      expect(row.data[PROVISIO_USER]?.permissionProfile).toBeUndefined();
    });
    const before = await stored(u.id);
    await h.owner((trx) => m0015.up(trx));
    const after = await stored(u.id);
    expect(after.data[PROVISIO_USER].permissionProfile).toBe('enterprise');
    expect(after.folded[PROVISIO_USER].permissionProfile).toBe('enterprise');
    expect(Number(after.version)).toBe(Number(before.version) + 1);
    const rows = await h.owner((db) => db('permission_profiles').whereIn('tenant_id', [t.id, other.id]).orderBy('tenant_id').select(['tenant_id', 'key', 'built_in', 'is_default']));
    expect(rows.map((r) => [r.key, r.built_in, r.is_default])).toEqual([['enterprise', true, true], ['enterprise', true, true]]);
    expect(await profileOf(t.primaryAdminId)).toBe('enterprise');
  });
});

describe('the permission catalogue', () => {
  it('the operator API and the admin API show the shipped catalogue, keys and descriptions', async () => {
    const op = await h.http.get('/operator/v1/permissions').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200);
    expect(op.body.permissions.map((p: { key: string }) => p.key)).toEqual(CATALOGUE);
    expect(op.body.permissions[0]).toEqual({ key: 'servers.manage', description: expect.any(String) });
    expect((await admin(t).get('/permissions').expect(200)).body).toEqual(op.body);
    expect((await h.http.get('/operator/v1/permissions')).status).toBe(401);
    expect((await h.http.post('/operator/v1/permissions').set('Authorization', `Bearer ${OPERATOR_TOKEN}`)).status).toBe(405);
    expectJsonError(await admin(t).post('/permissions', {}), 405);
  });
});

describe('/api/v1/permission-profiles', () => {
  it('a new tenant has exactly the built-in `enterprise`, the default, granting every permission', async () => {
    const fresh = await createTenant(h, 'Fresh');
    expect(await profiles(fresh)).toEqual([
      { key: 'enterprise', name: 'Enterprise', description: null, permissions: CATALOGUE, builtIn: true, default: true, createdAt: expect.any(String), updatedAt: expect.any(String) },
    ]);
    const res = await scim(h, fresh).get(`/Users/${fresh.primaryAdminId}`).expect(200);
    expect(res.body[PROVISIO_USER].permissionProfile).toBe('enterprise');
  });

  it('creates a custom profile: 201, Location; key lower-cased; permissions in the catalogue’s order, duplicates merged', async () => {
    const res = await admin(t).post('/permission-profiles', { key: 'Support', name: ' Support desk ', description: 'First line', permissions: ['support.open', 'servers.view', 'SUPPORT.OPEN'] });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      key: 'support',
      name: 'Support desk',
      description: 'First line',
      permissions: ['servers.view', 'support.open'],
      builtIn: false,
      default: false,
      createdAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
    });
    expect(res.headers.location).toBe('/api/v1/permission-profiles/support');
    expect((await admin(t).get('/permission-profiles/SUPPORT').expect(200)).body).toEqual(res.body);
    expect((await custom('nothing-at-all', [])).permissions).toEqual([]);
  });

  it.each([
    ['no permissions', { key: 'p1', name: 'P' }, /permissions is required/],
    ['permissions that are not a list', { key: 'p2', name: 'P', permissions: 'servers.view' }, /permissions must be a list/],
    ['an unknown permission', { key: 'p3', name: 'P', permissions: ['servers.view', 'servers.destroy'] }, /permissions "servers.destroy" is not a permission of the catalogue/],
    ['several unknown, each named', { key: 'p4', name: 'P', permissions: ['a.b', 'C.D'] }, /permissions "a.b", "C.D" are not permissions/],
    ['a bad key', { key: 'Not OK', name: 'P', permissions: [] }, /^key must be/],
    ['no name', { key: 'p5', permissions: [] }, /name is required/],
    ['an unknown attribute', { key: 'p6', name: 'P', permissions: [], default: true }, /default is not a field here/],
  ])('refuses %s with 400 invalidValue, creating nothing', async (_what, body, detail) => {
    const before = await profiles();
    expectJsonError(await admin(t).post('/permission-profiles', body), 400, 'invalidValue', detail);
    expect(await profiles()).toEqual(before);
  });

  it('a key is unique in the tenant, `enterprise` included (409 uniqueness); another tenant may use it', async () => {
    await custom('sales');
    expectJsonError(await admin(t).post('/permission-profiles', { key: 'SALES', name: 'X', permissions: [] }), 409, 'uniqueness', /"sales" already exists/);
    expectJsonError(await admin(t).post('/permission-profiles', { key: 'enterprise', name: 'Mine', permissions: [] }), 409, 'uniqueness');
    await custom('sales', [], other);
    expectJsonError(await admin(t).get('/permission-profiles/nope'), 404);
    await custom('globex-only', [], other);
    expectJsonError(await admin(t).get('/permission-profiles/globex-only'), 404);
    expectJsonError(await admin(t).patch('/permission-profiles/globex-only', { name: 'X' }), 404);
    expectJsonError(await admin(t).delete('/permission-profiles/globex-only'), 404);
  });

  it('PATCH changes name, description and permissions; the key is immutable (400 invalidValue)', async () => {
    await custom('editable', ['billing.view']);
    now += 60_000;
    const res = await admin(t).patch('/permission-profiles/editable', { name: 'Edited', description: 'Words', permissions: ['billing.manage', 'billing.view'], key: 'Editable' }).expect(200);
    expect(res.body).toMatchObject({ key: 'editable', name: 'Edited', description: 'Words', permissions: ['billing.view', 'billing.manage'], updatedAt: new Date(now).toISOString() });
    expectJsonError(await admin(t).patch('/permission-profiles/editable', { key: 'other' }), 400, 'invalidValue', /key is immutable/);
    expectJsonError(await admin(t).patch('/permission-profiles/editable', { permissions: ['nope.nope'] }), 400, 'invalidValue', /"nope.nope" is not a permission/);
    expectJsonError(await admin(t).patch('/permission-profiles/editable', {}), 400, 'invalidValue', /The body has nothing to change/);
    expectJsonError(await admin(t).patch('/permission-profiles/editable', { default: 'yes' }), 400, 'invalidValue', /default must be true or false/);
    expect((await admin(t).get('/permission-profiles/editable')).body.permissions).toEqual(['billing.view', 'billing.manage']);
    const entries = await auditOf({ target: 'editable' });
    expect(entries.map((e) => [e.action, e.changes])).toEqual([
      ['permissionProfile.update', { set: { name: 'Edited', description: 'Words', permissions: ['billing.view', 'billing.manage'] } }],
      ['permissionProfile.create', { set: { key: 'editable', name: 'EDITABLE', description: null, permissions: ['billing.view'] } }],
    ]);
  });

  it('`enterprise` cannot be narrowed or deleted (409); its name and description can change', async () => {
    expectJsonError(await admin(t).patch('/permission-profiles/enterprise', { permissions: ['servers.view'] }), 409, undefined, /built-in profile: it grants every permission of the catalogue, and its permissions cannot be changed/);
    expectJsonError(await admin(t).patch('/permission-profiles/enterprise', { permissions: CATALOGUE }), 409);
    expectJsonError(await admin(t).delete('/permission-profiles/Enterprise'), 409, undefined, /built-in profile and cannot be deleted/);
    const renamed = await admin(t).patch('/permission-profiles/enterprise', { name: 'Everything', description: 'All of it' }).expect(200);
    expect(renamed.body).toMatchObject({ key: 'enterprise', name: 'Everything', description: 'All of it', permissions: CATALOGUE, builtIn: true });
    await admin(t).patch('/permission-profiles/enterprise', { name: 'Enterprise', description: null }).expect(200);
  });

  it('exactly one default: making one the default takes the flag; "default": false hands it back to enterprise', async () => {
    await custom('basic', ['servers.view']);
    await custom('advanced', ['servers.view', 'servers.manage']);
    expect(await defaultKey()).toEqual(['enterprise']);
    expectJsonError(await admin(t).patch('/permission-profiles/enterprise', { default: false }), 409, undefined, /make a custom profile the default instead/);

    expect((await admin(t).patch('/permission-profiles/basic', { default: true }).expect(200)).body.default).toBe(true);
    expect(await defaultKey()).toEqual(['basic']);
    now += 60_000;
    await admin(t).patch('/permission-profiles/advanced', { default: true }).expect(200);
    expect(await defaultKey()).toEqual(['advanced']);
    // Unsetting a profile that is not the default changes nothing.
    await admin(t).patch('/permission-profiles/basic', { default: false }).expect(200);
    expect(await defaultKey()).toEqual(['advanced']);
    // true on the default again is no change.
    await admin(t).patch('/permission-profiles/advanced', { default: true }).expect(200);
    expect(await defaultKey()).toEqual(['advanced']);

    expectJsonError(await admin(t).delete('/permission-profiles/advanced'), 409, undefined, /is the default profile and cannot be deleted/);
    now += 60_000;
    await admin(t).patch('/permission-profiles/advanced', { default: false }).expect(200);
    expect(await defaultKey()).toEqual(['enterprise']);
    // Enterprise again the default: enterprise can be made so explicitly too.
    await admin(t).patch('/permission-profiles/basic', { default: true }).expect(200);
    await admin(t).patch('/permission-profiles/enterprise', { default: true }).expect(200);
    expect(await defaultKey()).toEqual(['enterprise']);
    expect((await auditOf({ target: 'advanced', action: 'permissionProfile.update' })).map((e) => e.changes)).toEqual([{ set: { default: false } }, { set: { default: true } }]);
  });

  it('a credential bound to a sub-account reads profiles and the catalogue, and changes nothing (403)', async () => {
    const sub = await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Dept', [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201);
    const token = (await admin(t).post('/tokens', { name: 'dept', scopes: ['admin'], subAccount: sub.body.id }).expect(201)).body.token;
    const bound = admin(t, token);
    expect((await bound.get('/permission-profiles').expect(200)).body.permissionProfiles).toEqual(await profiles());
    await bound.get('/permission-profiles/enterprise').expect(200);
    expect((await bound.get('/permissions').expect(200)).body.permissions).toHaveLength(CATALOGUE.length);
    expectJsonError(await bound.post('/permission-profiles', { key: 'sneaky', name: 'S', permissions: [] }), 403, undefined, /tenant-wide credential/);
    expectJsonError(await bound.patch('/permission-profiles/enterprise', { name: 'Mine' }), 403);
    expectJsonError(await bound.patch('/permission-profiles/basic', { default: true }), 403);
    expectJsonError(await bound.delete('/permission-profiles/basic'), 403);
    expect((await profiles()).map((p) => p.key)).not.toContain('sneaky');
    expect(await defaultKey()).toEqual(['enterprise']);
  });
});

describe('a user’s permissionProfile', () => {
  it('a new user without one gets the default at creation, kept when the default changes later', async () => {
    await custom('starter', ['support.open']);
    const a = await newUser();
    expect(a.body[PROVISIO_USER]).toMatchObject({ permissionProfile: 'enterprise' });
    await admin(t).patch('/permission-profiles/starter', { default: true }).expect(200);
    const b = await newUser();
    expect(b.body[PROVISIO_USER]).toMatchObject({ permissionProfile: 'starter' });
    expect(await profileOf(a.id)).toBe('enterprise');
    await admin(t).patch('/permission-profiles/enterprise', { default: true }).expect(200);
    expect(await profileOf(b.id)).toBe('starter');
    expect((await stored(b.id)).data[PROVISIO_USER].permissionProfile).toBe('starter');
  });

  it('one given on create is checked and kept lower-cased; unknown or another tenant’s is 400 invalidValue', async () => {
    expect((await newUser({ permissionProfile: 'STARTER' })).body[PROVISIO_USER]).toMatchObject({ permissionProfile: 'starter' });
    const flat = await scim(h, t).post('/Users', { schemas: [USER], userName: `flat${++seq}@profiles.test`, [`${PROVISIO_USER}:permissionProfile`]: 'basic' }).expect(201);
    expect(flat.body[PROVISIO_USER].permissionProfile).toBe('basic');
    for (const bad of ['nope', 'globex-only', 'not a key', 42]) {
      const userName = `bad${++seq}@profiles.test`;
      const res = await scim(h, t).post('/Users', { schemas: [USER], userName, [PROVISIO_USER]: { permissionProfile: bad } });
      expectScimError(res, 400, 'invalidValue');
      expect(res.body.detail).toMatch(/permissionProfile .* is not a permission profile of this tenant/);
      expect((await scim(h, t).get('/Users').query({ filter: `userName eq "${userName}"` })).body.totalResults).toBe(0);
    }
  });

  it('PUT without it keeps the current one; PUT and PATCH change it; PATCH removing it keeps it; unknown is 400 and changes nothing', async () => {
    const u = await newUser({ permissionProfile: 'basic' });
    const put = (ext?: Record<string, unknown>) => scim(h, t).put(`/Users/${u.id}`, { schemas: [USER], userName: u.userName, title: 'Engineer', ...(ext ? { [PROVISIO_USER]: ext } : {}) });
    expect((await put().expect(200)).body[PROVISIO_USER].permissionProfile).toBe('basic');
    expect((await put({ externalContact: 'Bob' }).expect(200)).body[PROVISIO_USER]).toMatchObject({ permissionProfile: 'basic', externalContact: 'Bob' });
    expect((await put({ permissionProfile: 'Starter' }).expect(200)).body[PROVISIO_USER].permissionProfile).toBe('starter');
    const patch = (...Operations: unknown[]) => scim(h, t).patch(`/Users/${u.id}`, { schemas: [PATCH], Operations });
    expect((await patch({ op: 'replace', path: `${PROVISIO_USER}:permissionProfile`, value: 'basic' }).expect(200)).body[PROVISIO_USER].permissionProfile).toBe('basic');
    expect((await patch({ op: 'Replace', value: { [`${PROVISIO_USER}:permissionProfile`]: 'starter' } }).expect(200)).body[PROVISIO_USER].permissionProfile).toBe('starter');
    const before = await stored(u.id);
    expect((await patch({ op: 'remove', path: `${PROVISIO_USER}:permissionProfile` }).expect(200)).body[PROVISIO_USER].permissionProfile).toBe('starter');
    expectScimError(await patch({ op: 'replace', path: 'title', value: 'Boss' }, { op: 'replace', path: `${PROVISIO_USER}:permissionProfile`, value: 'gone' }), 400, 'invalidValue');
    expectScimError(await put({ permissionProfile: 'gone' }), 400, 'invalidValue');
    const after = await stored(u.id);
    expect(after.data).toEqual(before.data);
  });

  it('filters find users by profile, in any case', async () => {
    const u = await newUser({ permissionProfile: 'basic' });
    const res = await scim(h, t).get('/Users').query({ filter: `${PROVISIO_USER}:permissionProfile eq "BASIC"`, count: 1000 }).expect(200);
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toContain(u.id);
    expect(res.body.Resources.every((r: Record<string, Record<string, string>>) => r[PROVISIO_USER].permissionProfile === 'basic')).toBe(true);
  });

  it('a sub-account-bound credential assigns profiles to people it administers', async () => {
    const sub = await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Team', [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201);
    const token = (await admin(t).post('/tokens', { name: 'team', scopes: ['scim'], subAccount: sub.body.id }).expect(201)).body.token;
    const bound = scim(h, { ...t, token });
    const made = await bound.post('/Users', { schemas: [USER], userName: `team${++seq}@profiles.test`, [PROVISIO_USER]: { permissionProfile: 'basic' } }).expect(201);
    expect(made.body[PROVISIO_USER].permissionProfile).toBe('basic');
    const changed = await bound.patch(`/Users/${made.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: `${PROVISIO_USER}:permissionProfile`, value: 'starter' }] }).expect(200);
    expect(changed.body[PROVISIO_USER].permissionProfile).toBe('starter');
  });
});

describe('deleting a custom profile', () => {
  it('moves its users to the current default in the same transaction, with a new version; audited with the count', async () => {
    await custom('doomed', ['billing.view']);
    const a = await newUser({ permissionProfile: 'doomed' });
    const b = await newUser({ permissionProfile: 'doomed' });
    const c = await newUser({ permissionProfile: 'basic' });
    await custom('doomed', [], other);
    const theirs = await newUser({ permissionProfile: 'doomed' }, other);
    await admin(t).patch('/permission-profiles/starter', { default: true }).expect(200);
    const before = { a: await stored(a.id), c: await stored(c.id), theirs: await stored(theirs.id) };
    now += 3_600_000;
    await admin(t).delete('/permission-profiles/DOOMED').expect(204);
    for (const id of [a.id, b.id]) {
      const row = await stored(id);
      expect([row.data[PROVISIO_USER].permissionProfile, row.folded[PROVISIO_USER].permissionProfile]).toEqual(['starter', 'starter']);
      expect(new Date(row.updated_at).toISOString()).toBe(new Date(now).toISOString());
    }
    expect(Number((await stored(a.id)).version)).toBe(Number(before.a.version) + 1);
    expect(await stored(c.id)).toEqual(before.c);
    expect(await stored(theirs.id)).toEqual(before.theirs);
    expect((await auditOf({ target: 'doomed', action: 'permissionProfile.delete' }))[0].changes).toEqual({ name: 'DOOMED', usersMoved: 2, movedTo: 'starter' });
    expect((await auditOf({ target: a.id, action: 'user.patch' }))[0].changes).toEqual({ set: { [`${PROVISIO_USER}:permissionProfile`]: 'starter' }, cause: { permissionProfileDeleted: 'doomed' } });
    expectJsonError(await admin(t).delete('/permission-profiles/doomed'), 404);
    expectScimError(await scim(h, t).post('/Users', { schemas: [USER], userName: `late${++seq}@profiles.test`, [PROVISIO_USER]: { permissionProfile: 'doomed' } }), 400, 'invalidValue');
    await admin(t).patch('/permission-profiles/enterprise', { default: true }).expect(200);
  });
});

describe('the lookup behind GET /users/{id}/permissions', () => {
  it('answers the profile with the permissions it grants now, and undefined for another tenant’s user', async () => {
    const a = await newUser({ permissionProfile: 'basic' });
    const e = await newUser();
    const assignments = h.deps.accounts.assignments;
    expect(await assignments.of(t.id, a.id)).toEqual({ profile: { key: 'basic', name: 'BASIC', permissions: ['servers.view'] }, services: [] });
    expect((await assignments.of(t.id, e.id))?.profile).toEqual({ key: 'enterprise', name: 'Enterprise', permissions: CATALOGUE });
    expect(await assignments.of(other.id, a.id)).toBeUndefined();
    // The operator adds a permission and removes one (a restart with another PERMISSIONS_FILE):
    // enterprise grants the new one at once, and nobody the removed one.
    const later = new Assignments({ knex: h.db.knex, permissions: [...CATALOGUE.filter((k) => k !== 'servers.view'), 'backups.restore'].map((key) => ({ key })) });
    expect((await later.of(t.id, e.id))?.profile?.permissions).toEqual([...CATALOGUE.filter((k) => k !== 'servers.view'), 'backups.restore']);
    expect((await later.of(t.id, a.id))?.profile?.permissions).toEqual([]);
  });
});

describe('PERMISSIONS_FILE', () => {
  it('the operator’s catalogue is the one profiles are made of, on both APIs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'provisio-perm-'));
    const file = path.join(dir, 'permissions.json');
    writeFileSync(file, JSON.stringify({ permissions: [{ key: 'vm.start', description: 'Start machines' }, { key: 'vm.stop', description: 'Stop machines' }] }));
    const h2 = await startHarness({ env: { PERMISSIONS_FILE: file } });
    try {
      const t2 = await createTenant(h2, 'Custom catalogue');
      const api = (r: request.Test) => r.set('Authorization', `Bearer ${t2.token}`);
      expect((await api(h2.http.get('/api/v1/permissions')).expect(200)).body.permissions).toEqual([{ key: 'vm.start', description: 'Start machines' }, { key: 'vm.stop', description: 'Stop machines' }]);
      expect((await h2.http.get('/operator/v1/permissions').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200)).body.permissions.map((p: { key: string }) => p.key)).toEqual(['vm.start', 'vm.stop']);
      expect((await api(h2.http.get('/api/v1/permission-profiles/enterprise')).expect(200)).body.permissions).toEqual(['vm.start', 'vm.stop']);
      expect((await api(h2.http.post('/api/v1/permission-profiles')).send({ key: 'starter', name: 'S', permissions: ['vm.start'] }).expect(201)).body.permissions).toEqual(['vm.start']);
      const refused = await api(h2.http.post('/api/v1/permission-profiles')).send({ key: 'old', name: 'O', permissions: ['servers.view'] });
      expect(refused.status).toBe(400);
      expect(refused.body.detail).toMatch(/"servers.view" is not a permission of the catalogue/);
    } finally {
      await h2.close();
    }
  });
});

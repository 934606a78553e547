// /Roles and /Entitlements (draft-ietf-scim-roles-entitlements-01; issue 10, "Discovery") on a
// real server and database: each tenant's accepted values, advertised in /ServiceProviderConfig,
// /ResourceTypes and /Schemas; the same query parameters as /Users; read-only; tenant-scoped; and
// what they list is exactly what a user write accepts.
import request from 'supertest';
import { adminApi, createTenant, expectScimError, GROUP, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';

const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const ROLE = 'urn:ietf:params:scim:schemas:core:2.0:Role';
const ENTITLEMENT = 'urn:ietf:params:scim:schemas:core:2.0:Entitlement';
const RT = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';

let h: Harness;
let t: TestTenant;
let other: TestTenant;
const now = Date.parse('2026-12-03T09:00:00Z');

beforeAll(async () => {
  h = await startHarness({ clock: () => new Date(now) });
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Globex');
  for (const [key, name] of [['m365', 'Microsoft 365'], ['crm', 'CRM'], ['backup', 'Backup']]) await admin(t).post('/services', { key, name }).expect(201);
  await admin(other).post('/services', { key: 'globex-only', name: 'Theirs' }).expect(201);
});
afterAll(() => h.close());

const admin = (tenant: TestTenant) => adminApi(h, tenant);

const values = (res: request.Response) => (res.body.Resources as { value: string }[]).map((r) => r.value);

describe('advertised as the draft says', () => {
  it('/ServiceProviderConfig has RolesAndEntitlements (§3.1) telling the truth about roles and entitlements', async () => {
    const res = await scim(h, t).get('/ServiceProviderConfig').expect(200);
    expect(res.body.RolesAndEntitlements).toEqual({
      roles: { supported: true, multipleRolesSupported: false, primarySupported: true, typeSupported: false },
      entitlements: { supported: true, multipleEntitlementsSupported: true, primarySupported: false, typeSupported: true, types: ['service'] },
    });
  });

  it('/ResourceTypes lists Role and Entitlement with their endpoints and schemas', async () => {
    const res = await scim(h, t).get('/ResourceTypes').expect(200);
    const byId = Object.fromEntries(res.body.Resources.map((r: { id: string }) => [r.id, r]));
    expect(byId.Role).toMatchObject({ schemas: [RT], id: 'Role', endpoint: '/Roles', schema: ROLE, schemaExtensions: [], meta: { location: `${t.base}/ResourceTypes/Role` } });
    expect(byId.Entitlement).toMatchObject({ schemas: [RT], id: 'Entitlement', endpoint: '/Entitlements', schema: ENTITLEMENT, schemaExtensions: [] });
    expect((await scim(h, t).get('/ResourceTypes/Entitlement').expect(200)).body).toEqual(byId.Entitlement);
  });

  it('/Schemas serves both schemas with the draft’s attributes, all read-only', async () => {
    for (const urn of [ROLE, ENTITLEMENT]) {
      const res = await scim(h, t).get(`/Schemas/${urn}`).expect(200);
      const attrs = res.body.attributes as { name: string; mutability: string; required: boolean; type: string; multiValued: boolean }[];
      expect(attrs.map((a) => a.name)).toEqual(['id', 'value', 'display', 'type', 'supported', 'limitedAssignmentsPermitted', 'totalAssignmentsPermitted', 'totalAssignmentsUsed', 'containedBy', 'contains']);
      expect(attrs.every((a) => a.mutability === 'readOnly')).toBe(true);
      expect(attrs.find((a) => a.name === 'value')).toMatchObject({ type: 'string', required: true });
      expect(attrs.find((a) => a.name === 'contains')).toMatchObject({ multiValued: true });
    }
    const all = await scim(h, t).get('/Schemas').expect(200);
    expect((all.body.Resources as { id: string }[]).map((s) => s.id)).toEqual(expect.arrayContaining([ROLE, ENTITLEMENT]));
  });
});

describe('/Roles', () => {
  it('lists admin and user, admin containing user', async () => {
    const res = await scim(h, t).get('/Roles').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 2, itemsPerPage: 2, startIndex: 1 });
    expect(res.body.Resources).toEqual([
      {
        schemas: [ROLE],
        id: 'admin',
        value: 'admin',
        display: 'Administrator',
        supported: true,
        limitedAssignmentsPermitted: false,
        contains: ['user'],
        containedBy: [],
        meta: { resourceType: 'Role', location: `${t.base}/Roles/admin` },
      },
      expect.objectContaining({ id: 'user', value: 'user', display: 'User', supported: true, contains: [], containedBy: ['admin'] }),
    ]);
  });

  it('GET /Roles/{id} is the same document; an unknown role is 404', async () => {
    const list = (await scim(h, t).get('/Roles').expect(200)).body.Resources;
    expect((await scim(h, t).get('/Roles/admin').expect(200)).body).toEqual(list[0]);
    expect((await scim(h, t).get('/Roles/user?attributes=display').expect(200)).body).toEqual({ schemas: [ROLE], id: 'user', display: 'User' });
    expectScimError(await scim(h, t).get('/Roles/owner'), 404);
  });

  it('takes a filter, sortBy and projection like /Users', async () => {
    expect(values(await scim(h, t).get('/Roles').query({ filter: 'value eq "ADMIN"' }).expect(200))).toEqual(['admin']);
    expect(values(await scim(h, t).get('/Roles').query({ sortBy: 'display', sortOrder: 'descending' }).expect(200))).toEqual(['user', 'admin']);
    expect(values(await scim(h, t).post('/Roles/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'containedBy eq "admin"' }).expect(200))).toEqual(['user']);
    expectScimError(await scim(h, t).get('/Roles').query({ filter: 'colour eq "red"' }), 400, 'invalidFilter');
  });

  it('every role listed is accepted on a user, and a value not listed is refused', async () => {
    for (const role of values(await scim(h, t).get('/Roles').expect(200))) {
      await scim(h, t).post('/Users', { schemas: [USER], userName: `role-${role}@acme.test`, roles: [{ value: role }] }).expect(201);
    }
    expectScimError(await scim(h, t).post('/Users', { schemas: [USER], userName: 'owner@acme.test', roles: [{ value: 'owner' }] }), 400, 'invalidValue');
  });
});

describe('/Entitlements', () => {
  it("lists this tenant's services, type service, by key", async () => {
    const res = await scim(h, t).get('/Entitlements').expect(200);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 3, startIndex: 1 });
    expect(values(res)).toEqual(['backup', 'crm', 'm365']);
    expect(res.body.Resources[2]).toEqual({
      schemas: [ENTITLEMENT],
      id: 'm365',
      value: 'm365',
      display: 'Microsoft 365',
      type: 'service',
      supported: true,
      limitedAssignmentsPermitted: false,
      contains: [],
      containedBy: [],
      meta: { resourceType: 'Entitlement', created: new Date(now).toISOString(), lastModified: new Date(now).toISOString(), location: `${t.base}/Entitlements/m365` },
    });
  });

  it('follows the catalogue: a new service appears, a deleted one goes', async () => {
    await admin(t).post('/services', { key: 'vpn', name: 'VPN' }).expect(201);
    expect(values(await scim(h, t).get('/Entitlements').expect(200))).toContain('vpn');
    await admin(t).delete('/services/vpn').expect(204);
    expect(values(await scim(h, t).get('/Entitlements').expect(200))).not.toContain('vpn');
    expectScimError(await scim(h, t).get('/Entitlements/vpn'), 404);
  });

  it("another tenant's services are not there, and one of them by id is 404", async () => {
    expect(values(await scim(h, other).get('/Entitlements').expect(200))).toEqual(['globex-only']);
    expectScimError(await scim(h, t).get('/Entitlements/globex-only'), 404);
    expect((await scim(h, other).get('/Entitlements/globex-only').expect(200)).body.display).toBe('Theirs');
  });

  it('filters, sorts, projects and pages by cursor like /Users', async () => {
    expect(values(await scim(h, t).get('/Entitlements').query({ filter: 'display co "m"' }).expect(200))).toEqual(['crm', 'm365']);
    expect(values(await scim(h, t).get('/Entitlements').query({ sortBy: 'display' }).expect(200))).toEqual(['backup', 'crm', 'm365']);
    const first = await scim(h, t).get('/Entitlements').query({ cursor: '', count: 2 }).expect(200);
    expect(first.body).toMatchObject({ totalResults: 3, itemsPerPage: 2 });
    const second = await scim(h, t).get('/Entitlements').query({ cursor: first.body.nextCursor, count: 2 }).expect(200);
    expect([...values(first), ...values(second)]).toEqual(['backup', 'crm', 'm365']);
    expect(second.body.nextCursor).toBeUndefined();
    expectScimError(await scim(h, t).get('/Entitlements').query({ cursor: 'garbage', count: 2 }), 400, 'invalidCursor');
    const slim = await scim(h, t).get('/Entitlements').query({ attributes: 'value' }).expect(200);
    expect(slim.body.Resources[0]).toEqual({ schemas: [ENTITLEMENT], id: 'backup', value: 'backup' });
  });

  it('every entitlement listed is accepted on a user in the form listed; a value not listed is refused', async () => {
    const listed = (await scim(h, t).get('/Entitlements').expect(200)).body.Resources as { value: string; type: string }[];
    const res = await scim(h, t)
      .post('/Users', { schemas: [USER], userName: 'all-services@acme.test', entitlements: listed.map((e) => ({ value: e.value, type: e.type })) })
      .expect(201);
    expect((res.body.entitlements as { value: string }[]).map((e) => e.value).sort()).toEqual(['backup', 'crm', 'm365']);
    expectScimError(await scim(h, t).post('/Users', { schemas: [USER], userName: 'no-such@acme.test', entitlements: [{ value: 'globex-only', type: 'service' }] }), 400, 'invalidValue');
  });
});

describe('read-only, authenticated, tenant-scoped', () => {
  it.each([
    ['POST', '/Roles'],
    ['PUT', '/Roles/admin'],
    ['PATCH', '/Entitlements/crm'],
    ['DELETE', '/Entitlements/crm'],
    ['POST', '/Entitlements'],
  ])('%s %s is 405 with Allow', async (method, path) => {
    const res = await h.http[method.toLowerCase() as 'post'](t.path + path).set('Authorization', `Bearer ${t.token}`).send('{}');
    expectScimError(res, 405);
    expect(res.headers.allow).toMatch(/GET/);
  });

  it('needs a token of this tenant: none is 401, another tenant’s is 401', async () => {
    expectScimError(await h.http.get(`${t.path}/Roles`), 401);
    expectScimError(await h.http.get(`${t.path}/Entitlements`).set('Authorization', `Bearer ${other.token}`), 401);
  });

  it('a credential bound to a sub-account reads them too: it assigns roles and services to its people', async () => {
    const sub = await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Dept', 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } }).expect(201);
    const token = (await admin(t).post('/tokens', { name: 'dept', scopes: ['admin', 'scim'], subAccount: sub.body.id }).expect(201)).body.token;
    const bound = scim(h, { ...t, token });
    expect(values(await bound.get('/Entitlements').expect(200))).toEqual(['backup', 'crm', 'm365']);
    expect(values(await bound.get('/Roles').expect(200))).toEqual(['admin', 'user']);
  });
});

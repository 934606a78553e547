// GET /api/v1/users/{id}/permissions (issue 10): everything the partner's product asks about a
// person in one call — role, permission profile and what it grants, services, the price list that
// applies, licence rights per managed company, and the limits of the sub-accounts they work in.
// On PGlite and PostgreSQL.
import { createTenant, Harness, PROVISIO_GROUP, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

let h: Harness;
let t: TestTenant;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Product');
});
afterAll(() => h.close());

const admin = (method: 'get' | 'post' | 'patch', path: string, body?: object) => h.http[method](`/api/v1${path}`).set('Authorization', `Bearer ${t.token}`).send(body);

it('answers role, profile, services, price list, companies and sub-account limits in one call', async () => {
  await admin('post', '/services', { key: 'm365', name: 'Microsoft 365' }).expect(201);
  await admin('post', '/permission-profiles', { key: 'viewer', name: 'Viewer', permissions: ['servers.view', 'billing.view'] }).expect(201);
  const gold = (await admin('post', '/price-lists', { name: 'Gold' }).expect(201)).body;
  const api = scim(h, t);
  const ada = (
    await api
      .post('/Users', {
        schemas: [USER],
        userName: 'ada@product.test',
        roles: [{ value: 'admin' }],
        entitlements: [{ type: 'service', value: 'M365' }],
        [PROVISIO_USER]: { permissionProfile: 'viewer', priceList: gold.id, canManageLicences: true },
      })
      .expect(201)
  ).body.id;
  const company = (await api.post('/Groups', { displayName: 'Beta Ltd', members: [{ value: ada }], [PROVISIO_GROUP]: { kind: 'company' } }).expect(201)).body.id;
  const parent = (await api.post('/Groups', { displayName: 'Paris', members: [{ value: ada }], [PROVISIO_GROUP]: { kind: 'subAccount', dailyLimit: 10, monthlyLimit: 200 } }).expect(201)).body.id;
  const child = (await api.post('/Groups', { displayName: 'Lyon', members: [{ value: ada }], [PROVISIO_GROUP]: { kind: 'subAccount', parent, dailyLimit: 3 } }).expect(201)).body.id;

  const res = await admin('get', `/users/${ada}/permissions`).expect(200);
  expect(res.body).toEqual({
    role: 'admin',
    profile: { key: 'viewer', name: 'Viewer', permissions: ['servers.view', 'billing.view'] },
    services: [{ key: 'm365', name: 'Microsoft 365' }],
    priceList: { id: gold.id, name: 'Gold', source: 'assigned' },
    companies: [{ id: company, displayName: 'Beta Ltd', manageLicences: true }],
    subAccounts: [
      { id: child, name: 'Lyon', dailyLimit: 3, monthlyLimit: null },
      { id: parent, name: 'Paris', dailyLimit: 10, monthlyLimit: 200 },
    ],
  });

  // A sub-account switched off (here through its parent) no longer counts; a plain user gets the defaults.
  await api.patch(`/Groups/${parent}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: false }] }).expect(204);
  expect((await admin('get', `/users/${ada}/permissions`).expect(200)).body.subAccounts).toEqual([]);
  const bob = (await api.post('/Users', { schemas: [USER], userName: 'bob@product.test' }).expect(201)).body.id;
  const plain = (await admin('get', `/users/${bob}/permissions`).expect(200)).body;
  expect(plain).toMatchObject({ role: 'user', services: [], priceList: { name: 'Standard', source: 'default' }, companies: [], subAccounts: [] });
  expect(plain.profile.key).toBe('enterprise');
  expect(plain.profile.permissions.length).toBeGreaterThan(2);
});

// Tenancy rules on user attributes (issue 4): a user's priceList must be one of the tenant's
// lists; canManageLicences and priceList may be set only by tenant-wide credentials; and a token
// bound to a sub-account sees only its subtree (test/api/sub-account-tokens.test.ts).
import { createTenant, expectScimError, Harness, PROVISIO_USER, scim, startHarness, TestTenant } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h);
  api = scim(h, t);
});
afterAll(() => h.close());

const admin = (r: import('supertest').Test) => r.set('Authorization', `Bearer ${t.token}`);

it('priceList must be the id of one of the tenant’s price lists, on create, PUT and PATCH', async () => {
  const list = (await admin(h.http.post('/api/v1/price-lists')).send({ name: 'Gold' }).expect(201)).body;
  const other = await createTenant(h, 'Other');
  const foreign = (await h.http.post('/api/v1/price-lists').set('Authorization', `Bearer ${other.token}`).send({ name: 'Theirs' }).expect(201)).body;

  const ok = await api.post('/Users', { userName: 'pl1@rules.test', [PROVISIO_USER]: { priceList: list.id } }).expect(201);
  expect(ok.body[PROVISIO_USER].priceList).toBe(list.id);
  for (const bad of [foreign.id, 'not-a-list', '0190a0a0-0000-7000-8000-000000000000']) {
    expectScimError(await api.post('/Users', { userName: `pl-${bad.length}@rules.test`, [PROVISIO_USER]: { priceList: bad } }), 400, 'invalidValue');
  }
  expectScimError(await api.put(`/Users/${ok.body.id}`, { userName: 'pl1@rules.test', [PROVISIO_USER]: { priceList: foreign.id } }), 400, 'invalidValue');
  expectScimError(
    await api.patch(`/Users/${ok.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: `${PROVISIO_USER}:priceList`, value: foreign.id }] }),
    400,
    'invalidValue',
  );
  expect((await api.get(`/Users/${ok.body.id}`)).body[PROVISIO_USER].priceList).toBe(list.id);
});

it('canManageLicences and priceList are refused (403) to a credential bound to a sub-account, on every write', async () => {
  // Exercised through the service every path (SCIM, Bulk, admin API) uses, as such a credential.
  const sub = (await api.post('/Groups', { displayName: 'Sub', 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } }).expect(201)).body;
  const scope = { tenantId: t.id, baseUrl: t.base, actor: { type: 'token' as const, id: 'bound', subAccountId: sub.id, admin: true } };
  const users = h.deps.catalog.users;
  await expect(h.deps.service.create(scope, users, { userName: 'lic@rules.test', [PROVISIO_USER]: { canManageLicences: true } }, {})).rejects.toMatchObject({
    status: 403,
    message: expect.stringMatching(/canManageLicences can only be set by tenant-wide credentials/),
  });
  const created = await h.deps.service.create(scope, users, { userName: 'lic@rules.test', title: 'x' }, {});
  await expect(
    h.deps.service.patch(scope, users, created.resource.id as string, { Operations: [{ op: 'add', path: `${PROVISIO_USER}:canManageLicences`, value: true }] }, undefined, {}),
  ).rejects.toMatchObject({ status: 403 });
  // Other attributes are fine, and tenant-wide credentials may set both.
  await h.deps.service.patch(scope, users, created.resource.id as string, { Operations: [{ op: 'replace', path: 'title', value: 'y' }] }, undefined, {});
  await api.patch(`/Users/${created.resource.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: `${PROVISIO_USER}:canManageLicences`, value: true }] }).expect(200);
});

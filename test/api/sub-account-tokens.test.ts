// A token bound to a sub-account (issue 4, "Credentials and scopes") sees and changes only that
// sub-account's subtree — the sub-account, sub-accounts below it, groups nested in them, and
// their members. Everything else is 404 as if absent, never listed, never counted, and cannot be
// named as a member. Users it creates join the sub-account. On SCIM and Bulk alike.
import { createTenant, expectScimError, Harness, PROVISIO_GROUP, PROVISIO_USER, scim, startHarness, TestTenant } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let h: Harness;
let t: TestTenant;
let wide: ReturnType<typeof scim>;
let bound: ReturnType<typeof scim>;
const id: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h);
  wide = scim(h, t);
  const user = async (name: string) => (id[name] = (await wide.post('/Users', { userName: `${name}@tree.test` }).expect(201)).body.id);
  const group = async (name: string, members: string[], ext?: Record<string, unknown>) =>
    (id[name] = (await wide.post('/Groups', { displayName: name, members: members.map((value) => ({ value })), ...(ext ? { [PROVISIO_GROUP]: ext } : {}) }).expect(201)).body.id);
  for (const u of ['inS', 'inNested', 'inChild', 'outside', 'inOther']) await user(u);
  await group('Nested', [id.inNested]);
  await group('S', [id.inS, id.Nested], { kind: 'subAccount' });
  await group('Child', [id.inChild], { kind: 'subAccount', parent: id.S });
  await group('OutsideGroup', [id.outside, id.inS]);
  await group('Other', [id.inOther], { kind: 'subAccount' });
  const token = (await h.http.post('/api/v1/tokens').set('Authorization', `Bearer ${t.token}`).send({ name: 'S sync', scopes: ['scim'], subAccount: id.S }).expect(201)).body.token;
  bound = scim(h, { ...t, token });
});
afterAll(() => h.close());

const names = (res: { body: { Resources: { userName?: string; displayName?: string }[] } }) => res.body.Resources.map((r) => r.userName ?? r.displayName).sort();

it('lists and counts only the subtree', async () => {
  const users = await bound.get('/Users').expect(200);
  expect(names(users)).toEqual(['inChild@tree.test', 'inNested@tree.test', 'inS@tree.test']);
  expect(users.body.totalResults).toBe(3);
  const groups = await bound.get('/Groups').query({ excludedAttributes: 'members' }).expect(200);
  expect(names(groups)).toEqual(['Child', 'Nested', 'S']);
  expect((await bound.get('/Users').query({ filter: 'userName eq "outside@tree.test"' })).body.totalResults).toBe(0);
  expect((await bound.get('/Users').query({ count: 0 })).body.totalResults).toBe(3);
  const cursor = await bound.get('/Users').query({ cursor: '', count: 2 }).expect(200);
  expect(cursor.body.totalResults).toBe(3);
  const root = await bound.post('/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }).expect(200);
  expect(root.body.totalResults).toBe(6);
  // The tenant-wide token still sees everything.
  expect((await wide.get('/Users').query({ count: 0 })).body.totalResults).toBe(6);
});

it('anything outside is 404 on read, replace, patch and delete, and in Bulk', async () => {
  for (const target of [`/Users/${id.outside}`, `/Users/${id.inOther}`, `/Users/${t.primaryAdminId}`, `/Groups/${id.OutsideGroup}`, `/Groups/${id.Other}`]) {
    expectScimError(await bound.get(target), 404);
    expectScimError(await bound.patch(target, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] }), 404);
    expectScimError(await bound.delete(target), 404);
  }
  expectScimError(await bound.put(`/Users/${id.outside}`, { userName: 'outside@tree.test', title: 'x' }), 404);
  const bulk = await bound.post('/Bulk', { Operations: [{ method: 'DELETE', path: `/Users/${id.outside}` }] }).expect(200);
  expect(bulk.body.Operations[0].status).toBe('404');
  await wide.get(`/Users/${id.outside}`).expect(200);
});

it('cannot name outside users or groups as members', async () => {
  expectScimError(await bound.patch(`/Groups/${id.S}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: id.outside }] }] }), 400, 'invalidValue');
  expectScimError(await bound.post('/Groups', { displayName: 'Sneaky', members: [{ value: id.OutsideGroup }] }), 400, 'invalidValue');
  // Inside is fine (someone wholly inside the subtree; inS also belongs to OutsideGroup, so their
  // memberships are not the token's to change: test/api/authority.test.ts).
  await bound.patch(`/Groups/${id.Child}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'members', value: [{ value: id.inNested }] }] }).expect(204);
});

it('a user’s groups show only the subtree’s groups', async () => {
  const seenBound = (await bound.get(`/Users/${id.inS}`).expect(200)).body.groups.map((g: { display: string }) => g.display).sort();
  expect(seenBound).toEqual(['S']);
  const seenWide = (await wide.get(`/Users/${id.inS}`).expect(200)).body.groups.map((g: { display: string }) => g.display).sort();
  expect(seenWide).toEqual(['OutsideGroup', 'S']);
});

it('what it creates joins its sub-account and stays visible to it', async () => {
  const created = await bound.post('/Users', { userName: 'new@tree.test' }).expect(201);
  expect(created.body.groups.map((g: { value: string }) => g.value)).toEqual([id.S]);
  await bound.get(`/Users/${created.body.id}`).expect(200);
  const g = await bound.post('/Groups', { displayName: 'Made by S' }).expect(201);
  await bound.get(`/Groups/${g.body.id}`).expect(200);
  const s = await wide.get(`/Groups/${id.S}`).expect(200);
  expect(s.body.members.map((m: { value: string }) => m.value)).toEqual(expect.arrayContaining([created.body.id, g.body.id]));
});

it('cannot set canManageLicences or a price list (403)', async () => {
  expectScimError(
    await bound.patch(`/Users/${id.inS}`, { schemas: [PATCH], Operations: [{ op: 'add', path: `${PROVISIO_USER}:canManageLicences`, value: true }] }),
    403,
  );
});

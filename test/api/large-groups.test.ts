// Groups larger than one read batch (store/members-repo.ts streamMembers, 2,000 a batch): the
// full read streams every member exactly once, projections apply to streamed members, and
// excludedAttributes=members never touches memberships.
import { createTenant, Harness, scim, startHarness, TestTenant } from '../support/harness';

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
let groupId: string;
let userIds: string[];
let subGroupId: string;
const N = 4500;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h);
  api = scim(h, t);
  userIds = (
    await h.owner((db) => db.raw(
      `INSERT INTO users (tenant_id, id, user_name, data, folded, created_at, updated_at)
       SELECT ?, gen_random_uuid(), 'm' || i || '@big.test', jsonb_build_object('userName', 'm' || i || '@big.test'),
              jsonb_build_object('userName', 'm' || i || '@big.test'), now(), now()
         FROM generate_series(1, ?) AS i RETURNING id`,
      [t.id, N],
    ))
  ).rows.map((r: { id: string }) => r.id);
  subGroupId = (await api.post('/Groups', { displayName: 'Nested' }).expect(201)).body.id;
  groupId = (await api.post('/Groups', { displayName: 'Big', members: [{ value: subGroupId }] }).expect(201)).body.id;
  await h.owner((db) => db.raw(`INSERT INTO group_user_members (tenant_id, group_id, user_id) SELECT ?, ?, unnest(?::uuid[])`, [t.id, groupId, userIds]));
});
afterAll(() => h.close());

it('GET streams every member exactly once, users and groups, as valid JSON with an ETag', async () => {
  const res = await api.get(`/Groups/${groupId}`).expect(200);
  expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
  expect(res.headers.etag).toBe(res.body.meta.version);
  expect(res.body.displayName).toBe('Big');
  const values = res.body.members.map((m: { value: string }) => m.value);
  expect(values).toHaveLength(N + 1);
  expect(new Set(values).size).toBe(N + 1);
  expect([...values].sort()).toEqual([...userIds, subGroupId].sort());
  const nested = res.body.members.find((m: { value: string }) => m.value === subGroupId);
  expect(nested).toEqual({ value: subGroupId, $ref: `${t.base}/Groups/${subGroupId}`, type: 'Group', display: 'Nested' });
  expect(res.body.members[0]).toMatchObject({ type: 'User', display: expect.stringMatching(/@big\.test$/) });
});

it('applies attributes to streamed members', async () => {
  const res = await api.get(`/Groups/${groupId}`).query({ attributes: 'members.value' }).expect(200);
  expect(Object.keys(res.body).sort()).toEqual(['id', 'members', 'schemas']);
  expect(res.body.members).toHaveLength(N + 1);
  for (const m of res.body.members.slice(0, 50)) expect(Object.keys(m)).toEqual(['value']);
});

it('excludedAttributes=members answers without members; an empty group has no members key', async () => {
  const res = await api.get(`/Groups/${groupId}`).query({ excludedAttributes: 'members' }).expect(200);
  expect(res.body.members).toBeUndefined();
  const empty = await api.get(`/Groups/${subGroupId}`).expect(200);
  expect(empty.body.members).toBeUndefined();
  expect(empty.body.displayName).toBe('Nested');
});

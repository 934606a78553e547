// Exact per-tenant counts (issue 12, migration 0023): the unfiltered first page's totalResults is
// read from counts that triggers keep in the writing transaction. Every kind of write — SCIM
// creates and deletes, Bulk (including its failed operations), a refused create, the admin API's
// bulk delete, the sub-account purge, tenant creation, many creates at once — leaves them equal to
// count(*), for every tenant; a filtered list and a credential bound to a sub-account still count
// what they see. Runs on PGlite and PostgreSQL.
import { adminApi, createTenant, GROUP, Harness, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
let now = new Date('2026-06-01T00:00:00Z');
let h: Harness;
let t: TestTenant;
let other: TestTenant;

beforeAll(async () => {
  h = await startHarness({ clock: () => now });
  t = await createTenant(h, 'Counted');
  other = await createTenant(h, 'Other');
});
afterAll(() => h?.close());

/** Kept and real counts of every tenant, as the schema owner sees them. */
async function counts(): Promise<{ kept: Record<string, number>; real: Record<string, number> }> {
  return h.owner(async (db) => {
    const kept = await db.raw(`SELECT tenant_id || ':' || resource AS k, sum(n)::int AS n FROM resource_counts GROUP BY 1`);
    const real = await db.raw(
      `SELECT tenant_id || ':users' AS k, count(*)::int AS n FROM users GROUP BY tenant_id UNION ALL SELECT tenant_id || ':groups', count(*)::int FROM groups GROUP BY tenant_id`,
    );
    const map = (rows: { k: string; n: number }[]) => Object.fromEntries(rows.filter((r) => r.n !== 0).map((r) => [r.k, r.n]));
    return { kept: map(kept.rows), real: map(real.rows) };
  });
}

async function expectExact() {
  const c = await counts();
  expect(c.kept).toEqual(c.real);
}

const total = async (tenant: TestTenant, path: string) => (await scim(h, tenant).get(path).expect(200)).body.totalResults as number;

it('tenant creation counts its primary admin', async () => {
  await expectExact();
  expect(await total(t, '/Users')).toBe(1);
  expect(await total(t, '/Groups')).toBe(0);
});

it('creates, a refused create, deletes and Bulk (with a failed operation) keep the counts exact', async () => {
  const api = scim(h, t);
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await api.post('/Users', { schemas: [USER], userName: `c${i}@counted.test` }).expect(201)).body.id);
  await api.post('/Users', { schemas: [USER], userName: 'c0@counted.test' }).expect(409);
  await api.delete(`/Users/${ids[0]}`).expect(204);
  const group = (await api.post('/Groups', { schemas: [GROUP], displayName: 'Team', members: [{ value: ids[1] }] }).expect(201)).body.id;
  const bulk = await api
    .post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [USER], userName: 'bulk-a@counted.test' } },
        { method: 'POST', path: '/Users', bulkId: 'dup', data: { schemas: [USER], userName: 'c1@counted.test' } },
        { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: 'Bulk team', members: [{ value: 'bulkId:a' }] } },
        { method: 'DELETE', path: `/Users/${ids[2]}` },
      ],
    })
    .expect(200);
  expect(bulk.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '409', '201', '204']);
  await expectExact();
  // 1 admin + 5 created − 1 deleted + 1 from Bulk − 1 deleted in Bulk.
  expect(await total(t, '/Users')).toBe(5);
  expect(await total(t, '/Groups')).toBe(2);
  await api.delete(`/Groups/${group}`).expect(204);
  await expectExact();
  expect(await total(t, '/Groups')).toBe(1);
  // The other tenant's counts never moved.
  expect(await total(other, '/Users')).toBe(1);
});

it('the first page of a cursor walk and an index page carry the same exact total; a filtered list still counts its matches', async () => {
  const api = scim(h, t);
  const index = (await api.get('/Users?count=2').expect(200)).body;
  const cursor = (await api.get('/Users?cursor=&count=2').expect(200)).body;
  expect(index.totalResults).toBe(5);
  expect(cursor.totalResults).toBe(5);
  expect((await api.get('/Users?filter=' + encodeURIComponent('userName sw "c"')).expect(200)).body.totalResults).toBe(3);
  expect((await api.get('/Users?count=0').expect(200)).body.totalResults).toBe(5);
});

it('the admin API’s bulk delete and the sub-account purge keep the counts exact', async () => {
  const api = scim(h, t);
  const a = (await api.post('/Users', { schemas: [USER], userName: 'gone-a@counted.test' }).expect(201)).body.id;
  const b = (await api.post('/Users', { schemas: [USER], userName: 'gone-b@counted.test' }).expect(201)).body.id;
  const res = await adminApi(h, t).post('/users/delete', { ids: [a, b] });
  expect(res.status).toBeLessThan(300);
  await expectExact();
  const lonely = (await api.post('/Users', { schemas: [USER], userName: 'lonely@counted.test' }).expect(201)).body.id;
  await api.post('/Groups', { schemas: [GROUP], displayName: 'Doomed', members: [{ value: lonely }], [PROVISIO_GROUP]: { kind: 'subAccount', active: false } }).expect(201);
  const before = await total(t, '/Users');
  now = new Date('2027-06-02T00:00:00Z');
  const done = await h.deps.jobs.purgeSubAccounts();
  now = new Date('2026-06-01T00:00:00Z');
  expect(done.some((d) => d.tenantId === t.id && d.usersDeleted === 1)).toBe(true);
  await expectExact();
  expect(await total(t, '/Users')).toBe(before - 1);
});

it('many creates at once in one tenant are all counted', async () => {
  const api = scim(h, t);
  const before = await total(t, '/Users');
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => api.post('/Users', { schemas: [USER], userName: `many${i}@counted.test` })));
  expect(results.map((r) => r.status)).toEqual(Array(24).fill(201));
  await expectExact();
  expect(await total(t, '/Users')).toBe(before + 24);
});

it('a credential bound to a sub-account counts only what it sees, not the tenant’s total', async () => {
  const api = scim(h, t);
  const member = (await api.post('/Users', { schemas: [USER], userName: 'dept-member@counted.test' }).expect(201)).body.id;
  const dept = (await api.post('/Groups', { schemas: [GROUP], displayName: 'Dept', members: [{ value: member }], [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201)).body.id;
  const token = (await adminApi(h, t).post('/tokens', { name: 'Dept sync', scopes: ['scim'], subAccount: dept }).expect(201)).body.token;
  const bound = { ...t, token };
  const seen = (await scim(h, bound).get('/Users').expect(200)).body;
  expect(seen.totalResults).toBe(seen.Resources.length);
  expect(seen.totalResults).toBeLessThan(await total(t, '/Users'));
});

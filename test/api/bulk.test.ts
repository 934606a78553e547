// Bulk (RFC 7644 §3.7) on both databases: bulkId references across operations (also inside
// members), circular references, failOnErrors, limits, and each operation atomic on its own.
import { createTenant, expectScimError, Harness, scim, startHarness, TestTenant } from '../support/harness';

const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const BULK_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:BulkResponse';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
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

const bulk = (Operations: unknown[], extra: Record<string, unknown> = {}) => api.post('/Bulk', { schemas: [BULK], Operations, ...extra });

describe('POST /Bulk', () => {
  it('creates a user and a group that references it by bulkId, in any order (RFC 7644 §3.7.2)', async () => {
    const res = await bulk([
      // The group comes first but needs the user: it must run second.
      { method: 'POST', path: '/Groups', bulkId: 'g1', data: { schemas: [GROUP], displayName: 'Tour Guides', members: [{ type: 'User', value: 'bulkId:u1' }] } },
      { method: 'POST', path: '/Users', bulkId: 'u1', data: { schemas: [USER], userName: 'alice@bulk.test' } },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.schemas).toEqual([BULK_RESPONSE]);
    const [first, second] = res.body.Operations;
    expect(first).toMatchObject({ method: 'POST', bulkId: 'u1', status: '201', location: expect.stringContaining(`${t.base}/Users/`), version: 'W/"1"' });
    expect(second).toMatchObject({ method: 'POST', bulkId: 'g1', status: '201' });
    const userId = first.location.split('/').pop();
    expect(userId).not.toContain('bulkId');
    const group = await h.http.get(new URL(second.location).pathname).set('Authorization', `Bearer ${t.token}`).expect(200);
    expect(group.body.members.map((m: { value: string }) => m.value)).toEqual([userId]);
  });

  it('resolves bulkIds in paths and runs PUT, PATCH and DELETE', async () => {
    const res = await bulk([
      { method: 'POST', path: '/Users', bulkId: 'b', data: { userName: 'bob@bulk.test' } },
      { method: 'PUT', path: '/Users/bulkId:b', data: { userName: 'bob@bulk.test', title: 'Put' } },
      { method: 'PATCH', path: '/Users/bulkId:b', data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: 'Bob' }] } },
    ]);
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '200', '204']);
    const id = res.body.Operations[0].location.split('/').pop();
    expect((await api.get(`/Users/${id}`)).body).toMatchObject({ title: 'Put', displayName: 'Bob' });
    const del = await bulk([{ method: 'DELETE', path: `/Users/${id}` }]);
    expect(del.body.Operations[0]).toMatchObject({ method: 'DELETE', status: '204' });
    expectScimError(await api.get(`/Users/${id}`), 404);
  });

  it('reports each failure with a string status and an RFC 7644 §3.12 response; the rest still run', async () => {
    await api.post('/Users', { userName: 'dup@bulk.test' }).expect(201);
    const res = await bulk([
      { method: 'POST', path: '/Users', bulkId: 'x', data: { userName: 'dup@bulk.test' } },
      { method: 'POST', path: '/Users', bulkId: 'y', data: { userName: 'fresh@bulk.test' } },
      { method: 'DELETE', path: '/Users/0190a0a0-0000-7000-8000-00000000beef' },
      { method: 'POST', path: '/Groups', data: { displayName: 'Needs x', members: [{ value: 'bulkId:x' }] } },
    ]);
    const ops = res.body.Operations;
    expect(ops.map((o: { status: string }) => o.status)).toEqual(['409', '201', '404', '409']);
    expect(ops[0].response).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness' });
    expect(ops[3].response.detail).toMatch(/bulkId "x"/);
    const groups = await api.get('/Groups').query({ filter: 'displayName eq "Needs x"' });
    expect(groups.body.totalResults).toBe(0);
  });

  it('stops after failOnErrors errors', async () => {
    const res = await bulk(
      [
        { method: 'POST', path: '/Users', data: {} },
        { method: 'POST', path: '/Users', data: { displayName: 'no userName' } },
        { method: 'POST', path: '/Users', data: { userName: 'never@bulk.test' } },
      ],
      { failOnErrors: 2 },
    );
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['400', '400']);
    expect((await api.get('/Users').query({ filter: 'userName eq "never@bulk.test"' })).body.totalResults).toBe(0);
  });

  it('detects circular and unknown bulkId references', async () => {
    const res = await bulk([
      { method: 'POST', path: '/Groups', bulkId: 'a', data: { displayName: 'A', members: [{ value: 'bulkId:b' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'b', data: { displayName: 'B', members: [{ value: 'bulkId:a' }] } },
      { method: 'POST', path: '/Groups', bulkId: 'c', data: { displayName: 'C', members: [{ value: 'bulkId:nowhere' }] } },
    ]);
    const byId = Object.fromEntries(res.body.Operations.map((o: { bulkId: string; status: string }) => [o.bulkId, o.status]));
    expect(byId).toEqual({ a: '409', b: '409', c: '400' });
    expect((await api.get('/Groups').query({ filter: 'displayName eq "A" or displayName eq "B" or displayName eq "C"' })).body.totalResults).toBe(0);
  });

  it('advertises its limits and enforces them with 413', async () => {
    const spc = (await api.get('/ServiceProviderConfig')).body;
    expect(spc.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 1048576 });
    const tooMany = Array.from({ length: spc.bulk.maxOperations + 1 }, (_, i) => ({ method: 'DELETE', path: `/Users/${i}` }));
    expectScimError(await bulk(tooMany), 413);
    const big = [{ method: 'POST', path: '/Users', data: { userName: 'big@bulk.test', displayName: 'x'.repeat(spc.bulk.maxPayloadSize) } }];
    expectScimError(await bulk(big), 413);
  });

  it('rejects a malformed request as a whole with 400 invalidSyntax', async () => {
    expectScimError(await api.post('/Bulk', { schemas: [BULK], Operations: [{ method: 'GET', path: '/Users' }] }), 400, 'invalidSyntax');
    expectScimError(await api.post('/Bulk', { schemas: [BULK] }), 400, 'invalidSyntax');
  });
});

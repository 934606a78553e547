// Tenant isolation and authentication on a real server and database (RFC 7644 §2, RFC 6750):
// a tenant's token opens only its own base URL, and another tenant's objects read exactly like
// missing ones (docs/tenancy.md: "404, exactly as a missing one — never 403").
import { createTenant, expectScimError, GROUP, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let apiA: ReturnType<typeof scim>;
let apiB: ReturnType<typeof scim>;
let aliceA: string;
let groupA: string;

const RANDOM = '0d7c2a4e-9b1f-4c3d-8e5a-6f7b8c9d0e1f';

beforeAll(async () => {
  h = await startHarness();
  a = await createTenant(h, 'Tenant A', 'admin@a.test');
  b = await createTenant(h, 'Tenant B', 'admin@b.test');
  apiA = scim(h, a);
  apiB = scim(h, b);
  aliceA = (await apiA.post('/Users', { schemas: [USER], userName: 'alice@a.test', externalId: 'alice-ext', emails: [{ value: 'alice@a.test', type: 'work' }] }).expect(201)).body.id;
  groupA = (await apiA.post('/Groups', { schemas: [GROUP], displayName: 'A Team', members: [{ value: aliceA }] }).expect(201)).body.id;
});
afterAll(() => h.close());

/** The same error body with the id replaced, so two answers can be compared. */
const shape = (res: { status: number; headers: Record<string, string>; body: Record<string, string> }, id: string) => ({
  status: res.status,
  type: res.headers['content-type'],
  body: { ...res.body, detail: res.body.detail?.split(id).join('<id>') },
});

describe('authentication', () => {
  it('no token is 401 with a SCIM error body and WWW-Authenticate: Bearer', async () => {
    const res = await h.http.get(`${a.path}/Users`);
    expectScimError(res, 401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
    expect(res.body.Resources).toBeUndefined();
  });

  it.each([
    ['a wrong token', 'Bearer pvs_not-a-real-token'],
    ['an empty bearer', 'Bearer '],
    ['another scheme', 'Basic YWRtaW46YWRtaW4='],
    ['the token without a scheme', () => a.token],
    ['the token twice', () => `Bearer ${a.token} ${a.token}`],
  ])('%s is 401', async (_what, header) => {
    const value = typeof header === 'function' ? header() : header;
    const res = await h.http.get(`${a.path}/Users`).set('Authorization', value);
    expectScimError(res, 401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  });

  it('the scheme is case-insensitive (RFC 7235 §2.1)', async () => {
    for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
      await h.http.get(`${a.path}/Users`).set('Authorization', `${scheme} ${a.token}`).expect(200);
    }
  });

  it('every SCIM endpoint needs the token, also for writes (nothing is created)', async () => {
    for (const res of [
      await h.http.get(`${a.path}/Users/${aliceA}`),
      await h.http.post(`${a.path}/Users`).send({ userName: 'intruder@a.test' }),
      await h.http.put(`${a.path}/Users/${aliceA}`).send({ userName: 'intruder@a.test' }),
      await h.http.delete(`${a.path}/Users/${aliceA}`),
      await h.http.post(`${a.path}/.search`).send({}),
      await h.http.get(`${a.path}/Schemas`),
      await h.http.get(`${a.path}/NoSuchThing`),
    ]) {
      expectScimError(res, 401);
    }
    expect((await apiA.get('/Users').query({ filter: 'userName eq "intruder@a.test"' })).body.totalResults).toBe(0);
    await apiA.get(`/Users/${aliceA}`).expect(200);
  });

  it('tenant A’s token on tenant B’s URL is 401, like an unknown token', async () => {
    const crossed = scim(h, { ...b, token: a.token });
    const res = await crossed.get('/Users');
    expectScimError(res, 401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
    const unknown = await h.http.get(`${b.path}/Users`).set('Authorization', 'Bearer pvs_unknown');
    expect(shape(res, '')).toEqual(shape(unknown, ''));
    expectScimError(await crossed.get(`/Users/${aliceA}`), 401);
    expectScimError(await crossed.post('/Users', { userName: 'x@b.test' }), 401);
    expectScimError(await crossed.get('/ServiceProviderConfig'), 401);
  });

  it('an unknown or malformed tenant id in the URL is 401', async () => {
    expectScimError(await h.http.get(`/scim/v2/${RANDOM}/Users`).set('Authorization', `Bearer ${a.token}`), 401);
    expectScimError(await h.http.get('/scim/v2/not-a-tenant/Users').set('Authorization', `Bearer ${a.token}`), 401);
  });

  it('the tenant id in the URL may be upper case', async () => {
    await h.http.get(`/scim/v2/${a.id.toUpperCase()}/Users`).set('Authorization', `Bearer ${a.token}`).expect(200);
  });
});

describe('another tenant’s objects are 404, exactly like missing ones', () => {
  it('GET, PUT and DELETE of A’s user with B’s token on B’s URL', async () => {
    const pairs = [
      [await apiB.get(`/Users/${aliceA}`), await apiB.get(`/Users/${RANDOM}`)],
      [await apiB.put(`/Users/${aliceA}`, { userName: 'alice@a.test' }), await apiB.put(`/Users/${RANDOM}`, { userName: 'alice@a.test' })],
      [await apiB.delete(`/Users/${aliceA}`), await apiB.delete(`/Users/${RANDOM}`)],
      [await apiB.get(`/Users/${aliceA}`).set('If-None-Match', '*'), await apiB.get(`/Users/${RANDOM}`).set('If-None-Match', '*')],
    ];
    for (const [theirs, missing] of pairs) {
      expectScimError(theirs, 404);
      expect(shape(theirs, aliceA)).toEqual(shape(missing, RANDOM));
    }
    // A's user is untouched.
    const still = await apiA.get(`/Users/${aliceA}`).expect(200);
    expect(still.body).toMatchObject({ userName: 'alice@a.test', meta: { version: 'W/"1"' } });
  });

  it('GET, PUT and DELETE of A’s group with B’s token', async () => {
    for (const [theirs, missing] of [
      [await apiB.get(`/Groups/${groupA}`), await apiB.get(`/Groups/${RANDOM}`)],
      [await apiB.put(`/Groups/${groupA}`, { displayName: 'Stolen', members: [] }), await apiB.put(`/Groups/${RANDOM}`, { displayName: 'Stolen', members: [] })],
      [await apiB.delete(`/Groups/${groupA}`), await apiB.delete(`/Groups/${RANDOM}`)],
    ]) {
      expectScimError(theirs, 404);
      expect(shape(theirs, groupA)).toEqual(shape(missing, RANDOM));
    }
    const g = await apiA.get(`/Groups/${groupA}`).expect(200);
    expect(g.body.displayName).toBe('A Team');
    expect(g.body.members.map((m: { value: string }) => m.value)).toEqual([aliceA]);
  });

  it('A’s user as a member of B’s group is 400 invalidValue, like an unknown id', async () => {
    const theirs = await apiB.post('/Groups', { schemas: [GROUP], displayName: 'B Team', members: [{ value: aliceA }] });
    const missing = await apiB.post('/Groups', { schemas: [GROUP], displayName: 'B Team', members: [{ value: RANDOM }] });
    expectScimError(theirs, 400, 'invalidValue');
    expect(shape(theirs, aliceA)).toEqual(shape(missing, RANDOM));
    expectScimError(await apiB.post('/Groups', { displayName: 'B Nested', members: [{ value: groupA, type: 'Group' }] }), 400, 'invalidValue');
    expect((await apiB.get('/Groups').query({ filter: 'displayName sw "B "' })).body.totalResults).toBe(0);
    // Nor through PUT.
    const own = (await apiB.post('/Groups', { displayName: 'B Own' }).expect(201)).body.id;
    expectScimError(await apiB.put(`/Groups/${own}`, { displayName: 'B Own', members: [{ value: aliceA }] }), 400, 'invalidValue');
    expect((await apiB.get(`/Groups/${own}`)).body.members).toBeUndefined();
  });
});

describe('lists and filters stay inside the tenant', () => {
  it('B’s list shows only B’s users and groups', async () => {
    const users = await apiB.get('/Users').expect(200);
    expect(users.body.Resources.map((u: { userName: string }) => u.userName)).not.toContain('alice@a.test');
    expect(users.body.Resources.map((u: { id: string }) => u.id)).not.toContain(aliceA);
    const groups = await apiB.get('/Groups').expect(200);
    expect(groups.body.Resources?.map((g: { id: string }) => g.id) ?? []).not.toContain(groupA);
    const root = await apiB.post('/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'] }).expect(200);
    expect(root.body.Resources.map((r: { id: string }) => r.id)).not.toEqual(expect.arrayContaining([aliceA]));
    expect(root.body.Resources.map((r: { id: string }) => r.id)).not.toEqual(expect.arrayContaining([groupA]));
  });

  it.each([
    'userName eq "alice@a.test"',
    'userName co "a.test"',
    'externalId eq "alice-ext"',
    'emails[type eq "work"].value eq "alice@a.test"',
    'emails.value sw "alice"',
    'id eq "{alice}"',
    'groups.value eq "{group}"',
    'userName eq "admin@a.test"',
  ])('B filtering on A’s %s finds nothing', async (template) => {
    const filter = template.replace('{alice}', aliceA).replace('{group}', groupA);
    expect((await apiA.get('/Users').query({ filter })).body.totalResults).toBeGreaterThan(0); // the filter does match in A
    const res = await apiB.get('/Users').query({ filter });
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(0);
  });

  it('B filtering groups on A’s member or name finds nothing', async () => {
    for (const filter of [`members.value eq "${aliceA}"`, 'displayName eq "A Team"', `id eq "${groupA}"`]) {
      expect((await apiA.get('/Groups').query({ filter })).body.totalResults).toBe(1);
      expect((await apiB.get('/Groups').query({ filter })).body.totalResults).toBe(0);
    }
  });

  it('a cursor walk in B never reaches A’s rows', async () => {
    const seen: string[] = [];
    let res = await apiB.get('/Users').query({ cursor: '', count: 1 }).expect(200);
    seen.push(...res.body.Resources.map((r: { id: string }) => r.id));
    while (res.body.nextCursor) {
      res = await apiB.get('/Users').query({ cursor: res.body.nextCursor, count: 1 }).expect(200);
      seen.push(...res.body.Resources.map((r: { id: string }) => r.id));
    }
    expect(seen).toContain(b.primaryAdminId);
    expect(seen).not.toContain(aliceA);
    expect(seen).not.toContain(a.primaryAdminId);
    // A cursor issued in A, presented in B, still pages over B's rows only.
    const fromA = await apiA.get('/Users').query({ cursor: '', count: 1 }).expect(200);
    const inB = await apiB.get('/Users').query({ cursor: fromA.body.nextCursor, count: 10 });
    expect(inB.status).toBeLessThan(500);
    for (const r of inB.body.Resources ?? []) expect([aliceA, a.primaryAdminId]).not.toContain(r.id);
  });
});

describe('the same names in two tenants', () => {
  it('a userName that is not an email, and an externalId, may exist in both tenants', async () => {
    await apiA.post('/Users', { schemas: [USER], userName: 'jdoe', externalId: 'shared-ext' }).expect(201);
    const res = await apiB.post('/Users', { schemas: [USER], userName: 'JDOE', externalId: 'shared-ext' });
    expect(res.status).toBe(201);
    // Each tenant sees its own.
    const inA = await apiA.get('/Users').query({ filter: 'userName eq "jdoe"' });
    const inB = await apiB.get('/Users').query({ filter: 'userName eq "jdoe"' });
    expect(inA.body.Resources).toHaveLength(1);
    expect(inB.body.Resources.map((u: { id: string }) => u.id)).toEqual([res.body.id]);
    expect(inA.body.Resources[0].id).not.toBe(res.body.id);
    // And uniqueness is still enforced within a tenant.
    expectScimError(await apiB.post('/Users', { userName: 'jDoe' }), 409, 'uniqueness');
    // Deleting B's does not touch A's.
    await apiB.delete(`/Users/${res.body.id}`).expect(204);
    await apiA.get(`/Users/${inA.body.Resources[0].id}`).expect(200);
  });

  it('a sign-in email belongs to one tenant: 409 with the same words as a conflict inside the tenant', async () => {
    // Issue 4 "One login email, one partner": the detail never names or hints at the other tenant.
    const other = await apiB.post('/Users', { schemas: [USER], userName: 'ALICE@a.test' });
    expectScimError(other, 409, 'uniqueness');
    const inside = await apiA.post('/Users', { schemas: [USER], userName: 'alice@A.test' });
    expectScimError(inside, 409, 'uniqueness');
    expect(other.body.detail).toBe(inside.body.detail);
    for (const hint of [a.id, 'Tenant A', 'tenant', 'partner']) expect(other.body.detail).not.toContain(hint);
    // Also on rename (PATCH and PUT), and a +alias address is the way around it.
    const bob = (await apiB.post('/Users', { userName: 'bob@b.test' }).expect(201)).body.id;
    expectScimError(
      await apiB.patch(`/Users/${bob}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'userName', value: 'alice@a.test' }] }),
      409,
      'uniqueness',
    );
    expectScimError(await apiB.put(`/Users/${bob}`, { userName: 'Alice@a.test' }), 409, 'uniqueness');
    await apiB.post('/Users', { userName: 'alice+b@a.test' }).expect(201);
  });

  it('the same group displayName may exist in both tenants', async () => {
    const res = await apiB.post('/Groups', { displayName: 'A Team' });
    expect(res.status).toBe(201);
    expect((await apiA.get('/Groups').query({ filter: 'displayName eq "A Team"' })).body.Resources.map((g: { id: string }) => g.id)).toEqual([groupA]);
    expect((await apiB.get('/Groups').query({ filter: 'displayName eq "A Team"' })).body.Resources.map((g: { id: string }) => g.id)).toEqual([res.body.id]);
  });
});

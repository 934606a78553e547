// Users over SCIM on a real server and database (RFC 7644 §3.3, §3.4.1, §3.5.1, §3.6).
import { createTenant, ENTERPRISE, expectScimError, Harness, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h);
  api = scim(h, t);
});
afterAll(() => h.close());

describe('create', () => {
  it('creates a user with 201, Location, ETag and meta', async () => {
    const res = await api.post('/Users', { schemas: [USER], userName: 'Alice@Example.com', name: { givenName: 'Alice', familyName: 'Liddell' } });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.userName).toBe('Alice@Example.com');
    expect(res.headers.location).toBe(`${t.base}/Users/${res.body.id}`);
    expect(res.headers.etag).toBe(res.body.meta.version);
    expect(res.body.meta).toMatchObject({ resourceType: 'User', location: res.headers.location });
    expect(Date.parse(res.body.meta.created)).not.toBeNaN();
    expect(res.body.active).toBe(true);
    // Every new user gets the tenant's default permission profile (issue 10; test/api/permission-profiles.test.ts).
    expect(res.body[PROVISIO_USER]).toEqual({ activationState: 'pending', primaryAdmin: false, permissionProfile: 'enterprise' });
  });

  it('rejects a second userName differing only in case with 409 uniqueness', async () => {
    await api.post('/Users', { schemas: [USER], userName: 'bob@example.com' }).expect(201);
    const res = await api.post('/Users', { schemas: [USER], userName: 'BOB@EXAMPLE.COM' });
    expectScimError(res, 409, 'uniqueness');
  });

  it('requires userName', async () => {
    expectScimError(await api.post('/Users', { schemas: [USER], displayName: 'No Name' }), 400, 'invalidValue');
    expectScimError(await api.post('/Users', { schemas: [USER], userName: null }), 400, 'invalidValue');
  });

  it('ignores read-only input and never stores, returns or logs password', async () => {
    const res = await api.post('/Users', {
      schemas: [USER],
      id: 'bulkId:abc',
      meta: { created: '2000-01-01T00:00:00Z' },
      groups: [{ value: 'x' }],
      userName: 'carol@example.com',
      password: 'S3cret-Never-Stored!',
    });
    expect(res.status).toBe(201);
    expect(res.body.id).not.toContain('bulkId');
    expect(res.body.password).toBeUndefined();
    expect(res.body.groups).toBeUndefined();
    expect(res.body.meta.created).not.toBe('2000-01-01T00:00:00Z');
    const stored = await h.owner((db) => db('users').where({ tenant_id: t.id, id: res.body.id }).first());
    expect(JSON.stringify(stored)).not.toContain('S3cret-Never-Stored!');
    expect(h.logs.join('\n')).not.toContain('S3cret-Never-Stored!');
  });

  it('accepts what real clients send: null, "True"/"False", any case, extension without its URN in schemas', async () => {
    const res = await api.post('/Users', {
      SCHEMAS: [USER, 'urn:example:unknown:1.0'],
      USERNAME: 'dave@example.com',
      displayName: null,
      Active: 'False',
      Emails: [{ Value: 'dave@example.com', Type: 'work', Primary: 'True' }],
      'URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER': { employeeNumber: '42', manager: 'mgr-1' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      userName: 'dave@example.com',
      active: false,
      emails: [{ value: 'dave@example.com', type: 'work', primary: true }],
      [ENTERPRISE]: { employeeNumber: '42', manager: { value: 'mgr-1' } },
    });
    expect(res.body.displayName).toBeUndefined();
    // The extensions in the order the database keeps their keys (RFC 7643 §3 gives `schemas` no order).
    expect(res.body.schemas[0]).toBe(USER);
    expect([...res.body.schemas].sort()).toEqual([USER, ENTERPRISE, PROVISIO_USER].sort());
  });

  it('answers 400 invalidValue for a value of the wrong type', async () => {
    expectScimError(await api.post('/Users', { schemas: [USER], userName: 'erin@example.com', active: 'maybe' }), 400, 'invalidValue');
    expectScimError(await api.post('/Users', { schemas: [USER], userName: 'erin@example.com', name: 'Erin' }), 400, 'invalidValue');
  });
});

describe('read, replace, delete', () => {
  it('GET returns the user with ETag; If-None-Match answers 304', async () => {
    const created = await api.post('/Users', { schemas: [USER], userName: 'frank@example.com' }).expect(201);
    const res = await api.get(`/Users/${created.body.id}`).expect(200);
    expect(res.body.id).toBe(created.body.id);
    expect(res.headers.etag).toBe('W/"1"');
    await api.get(`/Users/${created.body.id}`).set('If-None-Match', res.headers.etag).expect(304);
  });

  it('PUT replaces read-write attributes, keeps omitted active, ignores a different id', async () => {
    const created = await api.post('/Users', { schemas: [USER], userName: 'gina@example.com', title: 'Engineer', active: false }).expect(201);
    const id = created.body.id;
    const res = await api.put(`/Users/${id}`, { schemas: [USER], id: 'something-else', userName: 'gina@example.com', displayName: 'Gina' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, displayName: 'Gina', active: false });
    expect(res.body.title).toBeUndefined();
    expect(res.body.meta.version).toBe('W/"2"');
    expect(res.headers.etag).toBe('W/"2"');
  });

  it('PUT with a stale If-Match is 412 and changes nothing', async () => {
    const created = await api.post('/Users', { schemas: [USER], userName: 'hank@example.com' }).expect(201);
    const id = created.body.id;
    await api.put(`/Users/${id}`, { userName: 'hank@example.com', title: 'v2' }).expect(200);
    const res = await api.put(`/Users/${id}`, { userName: 'hank@example.com', title: 'v3' }).set('If-Match', 'W/"1"');
    expectScimError(res, 412);
    expect((await api.get(`/Users/${id}`)).body.title).toBe('v2');
  });

  it('PUT to another user’s userName is 409 and changes nothing', async () => {
    await api.post('/Users', { userName: 'ivy@example.com' }).expect(201);
    const jo = await api.post('/Users', { userName: 'jo@example.com' }).expect(201);
    expectScimError(await api.put(`/Users/${jo.body.id}`, { userName: 'IVY@example.com' }), 409, 'uniqueness');
    expect((await api.get(`/Users/${jo.body.id}`)).body.userName).toBe('jo@example.com');
  });

  it('DELETE then GET is 404; deleting again is 404', async () => {
    const created = await api.post('/Users', { userName: 'kim@example.com' }).expect(201);
    await api.delete(`/Users/${created.body.id}`).expect(204);
    expectScimError(await api.get(`/Users/${created.body.id}`), 404);
    expectScimError(await api.delete(`/Users/${created.body.id}`), 404);
  });

  it('an inactive user is still returned by GET and by filters', async () => {
    const created = await api.post('/Users', { userName: 'lou@example.com', active: false }).expect(201);
    expect((await api.get(`/Users/${created.body.id}`)).body.active).toBe(false);
    const list = await api.get('/Users').query({ filter: 'userName eq "lou@example.com"' });
    expect(list.body.totalResults).toBe(1);
  });

  it('a malformed id is 404, not 400 or 500', async () => {
    expectScimError(await api.get('/Users/not-a-uuid'), 404);
  });
});

describe('errors', () => {
  it('malformed JSON is 400 invalidSyntax', async () => {
    const res = await h.http.post(`${t.path}/Users`).set('Authorization', `Bearer ${t.token}`).set('Content-Type', 'application/scim+json').send('{"userName": ');
    expectScimError(res, 400, 'invalidSyntax');
  });

  it('an oversized body is 413', async () => {
    const big = { userName: 'big@example.com', displayName: 'x'.repeat(2 * 1024 * 1024) };
    expectScimError(await api.post('/Users', big), 413);
  });

  it('a value PostgreSQL cannot store (a NUL character) is 400 invalidValue, not 500', async () => {
    expectScimError(await api.post('/Users', { userName: 'nul@example.com', displayName: 'a\u0000b' }), 400, 'invalidValue');
    expect((await api.get('/Users').query({ filter: 'userName eq "nul@example.com"' })).body.totalResults).toBe(0);
  });

  it('/Me is 501 (RFC 7644 §3.11): requests here are made with tenant tokens', async () => {
    expectScimError(await api.get('/Me'), 501);
  });

  it('POST of a non-JSON body to a read-only endpoint is 405, not a parse error', async () => {
    const res = await h.http.post(`${t.path}/ServiceProviderConfig`).set('Authorization', `Bearer ${t.token}`).set('Content-Type', 'application/scim+json').send('test\r\n\r\n');
    expectScimError(res, 405);
    expect(res.headers.allow).toBe('GET');
  });

  it('unsupported methods are 405 with Allow', async () => {
    const res = await api.delete('/Users');
    expectScimError(res, 405);
    expect(res.headers.allow).toBe('GET, POST');
  });
});

// Discovery endpoints on a real server (RFC 7644 §4; RFC 7643 §5–§7; RFC 9865 §4): what a client
// reads before it provisions — and it must be the truth about this server.
import { createTenant, ENTERPRISE, expectScimError, GROUP, Harness, PROVISIO_GROUP, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

const SPC = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RT = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h);
  api = scim(h, t);
});
afterAll(() => h.close());

const scimJson = (res: { headers: Record<string, string> }) => expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);

describe('/ServiceProviderConfig', () => {
  it('tells what the server does', async () => {
    const res = await api.get('/ServiceProviderConfig');
    expect(res.status).toBe(200);
    scimJson(res);
    const c = res.body;
    expect(c.schemas).toEqual([SPC]);
    expect(c.patch).toEqual({ supported: true });
    expect(c.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 1048576 });
    expect(c.filter).toEqual({ supported: true, maxResults: expect.any(Number) });
    expect(Number.isInteger(c.filter.maxResults) && c.filter.maxResults > 0).toBe(true);
    expect(c.changePassword).toEqual({ supported: false });
    expect(c.sort).toEqual({ supported: true });
    expect(c.etag).toEqual({ supported: true });
    expect(c.pagination).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: expect.any(Number),
      maxPageSize: expect.any(Number),
      cursorTimeout: expect.any(Number),
    });
    expect(c.pagination.defaultPageSize).toBeLessThanOrEqual(c.pagination.maxPageSize);
    expect(c.authenticationSchemes).toEqual([
      expect.objectContaining({ type: 'oauthbearertoken', name: expect.any(String), description: expect.any(String), primary: true }),
    ]);
    expect(c.meta).toEqual({ resourceType: 'ServiceProviderConfig', location: `${t.base}/ServiceProviderConfig` });
  });

  it('securityEvents (RFC 9967 §4): no asynchronous requests, and every provisioning event a stream can carry', async () => {
    const c = (await api.get('/ServiceProviderConfig').expect(200)).body;
    const prov = 'urn:ietf:params:scim:event:prov';
    expect(c.securityEvents.asyncRequest).toBe('none');
    expect([...c.securityEvents.eventUris].sort()).toEqual(
      [
        ...['create', 'put', 'patch'].flatMap((e) => [`${prov}:${e}:full`, `${prov}:${e}:notice`]),
        `${prov}:delete`,
        `${prov}:activate`,
        `${prov}:deactivate`,
      ].sort(),
    );
  });

  it('a count above maxPageSize is accepted and capped in both paging modes', async () => {
    const c = (await api.get('/ServiceProviderConfig')).body;
    for (let i = 0; i < 3; i++) await api.post('/Users', { userName: `page${i}@acme.test` }).expect(201);
    const res = await api.get('/Users').query({ count: c.pagination.maxPageSize + 1 });
    expect(res.status).toBe(200);
    const cursor = await api.get('/Users').query({ cursor: '', count: c.pagination.maxPageSize + 1 });
    expect(cursor.status).toBe(200);
    expect(cursor.body.nextCursor).toBeUndefined();
  });

  it('is what PATCH and Bulk answer: both work', async () => {
    const u = await api.post('/Users', { userName: 'patchme@acme.test' }).expect(201);
    const p = await api.patch(`/Users/${u.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'x' }] });
    expect(p.status).toBe(200);
    const b = await api.post('/Bulk', { schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'], Operations: [] });
    expect(b.status).toBe(200);
    expect(b.body.Operations).toEqual([]);
  });
});

describe('/ResourceTypes', () => {
  it('lists User and Group with their extensions, Agent and AgenticApplication (test/api/agents.test.ts), and the read-only Role and Entitlement (test/api/roles-entitlements.test.ts)', async () => {
    const res = await api.get('/ResourceTypes');
    expect(res.status).toBe(200);
    scimJson(res);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 6, itemsPerPage: 6, startIndex: 1 });
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group', 'Agent', 'AgenticApplication', 'Role', 'Entitlement']);
    const byId = Object.fromEntries(res.body.Resources.map((r: { id: string }) => [r.id, r]));
    expect(byId.User).toEqual({
      schemas: [RT],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: expect.any(String),
      schema: USER,
      schemaExtensions: [
        { schema: ENTERPRISE, required: false },
        { schema: PROVISIO_USER, required: false },
      ],
      meta: { resourceType: 'ResourceType', location: `${t.base}/ResourceTypes/User` },
    });
    expect(byId.Group).toMatchObject({
      schemas: [RT],
      id: 'Group',
      endpoint: '/Groups',
      schema: GROUP,
      schemaExtensions: [{ schema: PROVISIO_GROUP, required: false }],
      meta: { resourceType: 'ResourceType', location: `${t.base}/ResourceTypes/Group` },
    });
  });

  it('/ResourceTypes/User is the same document; an unknown type is 404', async () => {
    const list = (await api.get('/ResourceTypes')).body.Resources;
    const res = await api.get('/ResourceTypes/User');
    expect(res.status).toBe(200);
    scimJson(res);
    expect(res.body).toEqual(list.find((r: { id: string }) => r.id === 'User'));
    expect((await api.get('/ResourceTypes/Group')).body.endpoint).toBe('/Groups');
    expectScimError(await api.get('/ResourceTypes/Device'), 404);
  });

  it('every endpoint a resource type names answers', async () => {
    for (const r of (await api.get('/ResourceTypes')).body.Resources) {
      const res = await api.get(r.endpoint).query({ count: 1 });
      expect(res.status).toBe(200);
    }
  });
});

describe('/Schemas', () => {
  const ALL = [
    USER, GROUP, ENTERPRISE, PROVISIO_USER, PROVISIO_GROUP,
    'urn:ietf:params:scim:schemas:core:2.0:Agent', 'urn:ietf:params:scim:schemas:core:2.0:AgenticApplication',
    'urn:ietf:params:scim:schemas:core:2.0:Role', 'urn:ietf:params:scim:schemas:core:2.0:Entitlement',
  ];
  const TYPES = ['string', 'boolean', 'decimal', 'integer', 'dateTime', 'reference', 'binary', 'complex'];

  interface Attr {
    name: string;
    type: string;
    subAttributes?: Attr[];
    [k: string]: unknown;
  }
  /** RFC 7643 §7: each attribute carries every characteristic. */
  function checkAttribute(a: Attr, where: string, depth: number) {
    const at = `${where}.${a.name}`;
    expect({ at, name: typeof a.name, type: TYPES.includes(a.type) }).toEqual({ at, name: 'string', type: true });
    expect({ at, multiValued: typeof a.multiValued, required: typeof a.required, caseExact: typeof a.caseExact, description: typeof a.description }).toEqual({
      at,
      multiValued: 'boolean',
      required: 'boolean',
      caseExact: 'boolean',
      description: 'string',
    });
    expect({ at, mutability: a.mutability }).toEqual({ at, mutability: expect.stringMatching(/^(readOnly|readWrite|immutable|writeOnly)$/) });
    expect({ at, returned: a.returned }).toEqual({ at, returned: expect.stringMatching(/^(always|never|default|request)$/) });
    expect({ at, uniqueness: a.uniqueness }).toEqual({ at, uniqueness: expect.stringMatching(/^(none|server|global)$/) });
    if (a.type === 'reference') expect({ at, referenceTypes: Array.isArray(a.referenceTypes) && (a.referenceTypes as unknown[]).length > 0 }).toEqual({ at, referenceTypes: true });
    if (a.type === 'complex') {
      expect({ at, depth }).toEqual({ at, depth: 0 }); // RFC 7643 §2.3.8: no complex inside complex
      expect({ at, subAttributes: Array.isArray(a.subAttributes) && a.subAttributes.length > 0 }).toEqual({ at, subAttributes: true });
      for (const s of a.subAttributes!) checkAttribute(s, at, depth + 1);
    } else {
      expect({ at, subAttributes: a.subAttributes }).toEqual({ at, subAttributes: undefined });
    }
  }

  it('lists the nine schemas, each with every attribute characteristic', async () => {
    const res = await api.get('/Schemas');
    expect(res.status).toBe(200);
    scimJson(res);
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 9, itemsPerPage: 9, startIndex: 1 });
    expect(res.body.Resources.map((s: { id: string }) => s.id).sort()).toEqual([...ALL].sort());
    for (const s of res.body.Resources) {
      expect(s).toMatchObject({ schemas: [SCHEMA], id: expect.any(String), name: expect.any(String), meta: { resourceType: 'Schema', location: `${t.base}/Schemas/${s.id}` } });
      expect(s.attributes.length).toBeGreaterThan(0);
      for (const a of s.attributes) checkAttribute(a, s.id, 0);
    }
  });

  it.each(ALL)('/Schemas/%s is the listed document', async (urn) => {
    const list = (await api.get('/Schemas')).body.Resources;
    const res = await api.get(`/Schemas/${urn}`);
    expect(res.status).toBe(200);
    scimJson(res);
    expect(res.body).toEqual(list.find((s: { id: string }) => s.id === urn));
  });

  it('describes what the server enforces', async () => {
    const user = (await api.get(`/Schemas/${USER}`)).body.attributes as Attr[];
    const attr = (list: Attr[], name: string) => list.find((a) => a.name === name)!;
    expect(attr(user, 'userName')).toMatchObject({ required: true, caseExact: false, uniqueness: 'server', mutability: 'readWrite' });
    expect(attr(user, 'password')).toMatchObject({ mutability: 'writeOnly', returned: 'never' });
    expect(attr(user, 'groups')).toMatchObject({ mutability: 'readOnly', multiValued: true });
    expect(attr(attr(user, 'groups').subAttributes!, 'type').canonicalValues).toEqual(['direct', 'indirect']);
    const group = (await api.get(`/Schemas/${GROUP}`)).body.attributes as Attr[];
    expect(attr(group, 'displayName')).toMatchObject({ required: true });
    expect(attr(group, 'members')).toMatchObject({ type: 'complex', multiValued: true });
    const kind = attr((await api.get(`/Schemas/${PROVISIO_GROUP}`)).body.attributes, 'kind');
    expect(kind).toMatchObject({ type: 'string', mutability: 'immutable', canonicalValues: ['group', 'subAccount', 'company'] });
    const pu = (await api.get(`/Schemas/${PROVISIO_USER}`)).body.attributes as Attr[];
    expect(attr(pu, 'activationState')).toMatchObject({ mutability: 'readOnly' });
    expect(attr(pu, 'primaryAdmin')).toMatchObject({ mutability: 'readOnly', type: 'boolean' });
  });

  it('an unknown schema is 404', async () => {
    expectScimError(await api.get('/Schemas/urn:example:unknown:1.0:User'), 404);
    expectScimError(await api.get('/Schemas/User'), 404);
  });
});

describe('discovery is read-only and unfiltered', () => {
  const paths = ['/ServiceProviderConfig', '/ResourceTypes', '/ResourceTypes/User', '/Schemas', `/Schemas/${USER}`];

  it.each(paths)('POST, PUT, PATCH and DELETE on %s are 405 with Allow: GET', async (path) => {
    for (const res of [await api.post(path, {}), await api.put(path, {}), await api.patch(path, {}), await api.delete(path)]) {
      expectScimError(res, 405);
      expect(res.headers.allow).toBe('GET');
    }
  });

  it.each(paths)('a filter on %s is 403 (RFC 7644 §4)', async (path) => {
    expectScimError(await api.get(path).query({ filter: 'id eq "User"' }), 403);
    expectScimError(await api.get(path).query({ FILTER: 'id pr' }), 403);
  });

  it('needs the tenant’s token like every SCIM endpoint', async () => {
    for (const path of paths) {
      const res = await h.http.get(t.path + path);
      expectScimError(res, 401);
    }
  });
});

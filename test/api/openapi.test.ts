// The route descriptions of the admin and operator APIs (server/openapi/) on a real server and
// database: every registered route under /api/v1 and /operator/v1 is described and every
// description has its route (walked from the express app's router stack), every documented
// example validates against its schema, GET /api/v1/openapi.json is an OpenAPI 3.1 document
// anyone may read, and bad bodies get per-field errors (field, JSON Pointer path, code) and
// change nothing.
import type { Express } from 'express';
import type { DescribedRoute } from '../../server/openapi/describe';
import { adminApi, createTenant, ERROR, Harness, OPERATOR_TOKEN, startHarness, TestTenant } from '../support/harness';

let h: Harness;
let t: TestTenant;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme');
});
afterAll(() => h.close());

const admin = () => adminApi(h, t);

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

/** Every route the app registered, as "METHOD /full/path" (express 5's router: layers, mounted routers' rawPath). */
function registeredRoutes(app: Express): string[] {
  const out = new Set<string>();
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          // router.all(path, …) method guards answer 405; they are no operation of their own.
          if (on && method !== '_all') out.add(`${method.toUpperCase()} ${prefix}${layer.route.path === '/' ? '' : layer.route.path}`);
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        walk(layer.handle.stack, prefix + mount);
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '');
  return [...out];
}

const described = () => h.deps.api.all();
const key = (r: DescribedRoute) => `${r.method.toUpperCase()} ${r.section.prefix}${r.path === '/' ? '' : r.path}`;

describe('the route descriptions', () => {
  it('describe every admin and operator route, and only routes that exist', () => {
    const routes = registeredRoutes(h.app).filter((r) => / \/(api|operator)\/v1(\/|$)/.test(r));
    // The walk sees the routers (it can fail): the admin API's and the operator API's.
    expect(routes).toEqual(expect.arrayContaining(['POST /api/v1/price-lists', 'GET /api/v1/me', 'POST /operator/v1/tenants']));
    const descriptions = described().map(key);
    expect(routes.filter((r) => !descriptions.includes(r)).sort()).toEqual([]);
    expect(descriptions.filter((d) => !routes.includes(d)).sort()).toEqual([]);
  });

  it('each has a summary and responses, and every route with a body at least one example that its schema accepts', () => {
    const bad: string[] = [];
    for (const r of described()) {
      if (!r.summary.trim() || !Object.keys(r.responses).length) bad.push(`${key(r)}: no summary or responses`);
      if (!r.body) continue;
      const validate = h.deps.api.validator(r)!;
      if (!r.body.examples.length) bad.push(`${key(r)}: no example`);
      for (const example of r.body.examples) if (!validate(example)) bad.push(`${key(r)}: ${JSON.stringify(example)} → ${JSON.stringify(validate.errors)}`);
    }
    expect(bad).toEqual([]);
    // Every POST, PUT and PATCH of the admin API takes a body but these, which act on the path alone.
    const noBody = described().filter((r) => ['post', 'put', 'patch'].includes(r.method) && !r.body).map(key).sort();
    expect(noBody).toEqual([
      'POST /api/v1/sso-connections/:id/domains/:domain/verify',
      'POST /api/v1/users/:id/activation',
      'POST /api/v1/users/:id/force-logout',
      'POST /api/v1/users/:id/reset-password',
      'POST /operator/v1/signing-keys/rotate',
    ]);
  });
});

describe('GET /api/v1/openapi.json', () => {
  it('answers the OpenAPI 3.1 document without a credential', async () => {
    const res = await h.http.get('/api/v1/openapi.json').expect(200).expect('Content-Type', /application\/json/);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.any(String) }));
    expect(Object.keys(doc.paths).length).toBeGreaterThan(40);
    const ops: [string, string, Record<string, unknown>][] = Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>).flatMap(([path, item]) =>
      Object.entries(item).map(([method, op]) => [path, method, op] as [string, string, Record<string, unknown>]),
    );
    const ids = new Set<string>();
    for (const [path, method, op] of ops) {
      expect(['get', 'post', 'put', 'patch', 'delete']).toContain(method);
      expect(path).toMatch(/^\/(api|operator)\/v1(\/|$)/);
      expect(Object.keys(op.responses as object).length).toBeGreaterThan(0);
      for (const status of Object.keys(op.responses as object)) expect(status).toMatch(/^[1-5]\d\d$/);
      // Path templates and path parameters agree (OpenAPI 3.1 §4.8.12.1: a template's parameter is required).
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const params = ((op.parameters as { name: string; in: string; required: boolean }[] | undefined) ?? []).filter((p) => p.in === 'path');
      expect(params.map((p) => p.name).sort()).toEqual(names);
      expect(params.every((p) => p.required)).toBe(true);
      expect(ids.has(op.operationId as string)).toBe(false);
      ids.add(op.operationId as string);
      for (const s of op.security as Record<string, string[]>[]) for (const name of Object.keys(s)) expect(Object.keys(doc.components.securitySchemes)).toContain(name);
    }
    expect(doc.paths['/api/v1/price-lists'].post.requestBody.content['application/json'].examples.example1.value).toEqual({ name: 'Partners 2027' });
    expect(doc.paths['/api/v1/price-lists'].post.security).toEqual([{ adminToken: [] }, { session: [], csrf: [] }]);
    expect(doc.paths['/api/v1/price-lists'].get.security).toEqual([{ adminToken: [] }, { session: [] }]);
    expect(doc.paths['/operator/v1/tenants'].post.security).toEqual([{ operatorToken: [] }]);
    expect(doc.paths['/api/v1/openapi.json'].get.security).toEqual([]);
    expect(doc.components.securitySchemes.session).toEqual(expect.objectContaining({ type: 'apiKey', in: 'cookie', name: h.deps.frontDoor.stack.cookieName }));
    expect(doc.components.securitySchemes.csrf).toEqual(expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-CSRF-Token' }));
  });
});

describe('a bad body', () => {
  const fieldsOf = (body: { errors?: { field: string; path: string; code: string }[] }) => (body.errors ?? []).map((e) => `${e.field} ${e.path} ${e.code}`).sort();

  it('is 400 invalidValue naming each field at fault, with its path and code, and creates nothing', async () => {
    const before = (await admin().get('/price-lists').expect(200)).body.priceLists.length;
    const res = await admin().post('/price-lists', { name: 'z'.repeat(201), colour: 'red' }).expect(400);
    expect(res.body).toEqual({
      schemas: [ERROR],
      status: '400',
      scimType: 'invalidValue',
      detail: '2 fields are not right: colour, name',
      errors: [
        { field: 'colour', path: '/colour', code: 'unknown', detail: 'is not a field here; the fields are name' },
        { field: 'name', path: '/name', code: 'maxLength', detail: 'must be at most 200 characters', params: { limit: 200 } },
      ],
    });
    expect((await admin().get('/price-lists').expect(200)).body.priceLists).toHaveLength(before);
  });

  it.each([
    ['a price list without a name', 'post', '/price-lists', {}, ['name /name required']],
    ['a price list named in spaces', 'post', '/price-lists', { name: '   ' }, ['name /name required']],
    ['a service with a bad key', 'post', '/services', { key: '.x', name: 'X' }, ['key /key pattern']],
    ['a token with an unknown scope and a date', 'post', '/tokens', { name: 'T', scopes: ['scim', 'root'], expiresAt: '2030-02-30T00:00:00Z' }, ['expiresAt /expiresAt format', 'scopes /scopes/1 enum']],
    ['a sub-account with a negative limit and a bad member id', 'post', '/sub-accounts', { name: 'S', dailyLimit: -1, members: ['nope'] }, ['dailyLimit /dailyLimit minimum', 'members /members/0 pattern']],
    ['an event stream pushing nowhere', 'post', '/event-streams', { name: 'E', delivery: 'push', events: [], form: 'full' }, ['endpointUrl /endpointUrl required', 'events /events minItems']],
    ['a user with a role that is none', 'post', '/users', { givenName: 'A', familyName: 'B', email: 'a@b.example', role: 'root' }, ['role /role enum']],
    ['settings in another language', 'patch', '/settings', { language: 'de', groupKindRules: [{ kind: 'company' }] }, ['groupKindRules /groupKindRules/0 minProperties', 'language /language enum']],
    ['a company renamed to a number', 'post', '/companies', { name: 7 }, ['name /name type']],
    ['an SCIM issuer with half a claim', 'put', '/scim-issuer', { issuer: 'https://idp.example', jwksUrl: 'https://idp.example/jwks', audience: 'a', claim: { name: 'tid' } }, ['claim /claim/value required']],
    ['nothing to change', 'patch', '/settings', {}, ['(body)  empty']],
    ['no JSON object', 'post', '/companies', ['x'], ['(body)  type']],
  ] as [string, 'post' | 'put' | 'patch', string, unknown, string[]][])('%s: each field with its path and code, and nothing changes', async (_what, method, path, body, fields) => {
    // Every change of the admin API is audited in its own transaction: no new entry, no change.
    const audited = async () => (await admin().get('/audit?limit=500').expect(200)).body.entries.length;
    const before = await audited();
    const res = await admin()[method](path, body).expect(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(fieldsOf(res.body)).toEqual(fields);
    expect(await audited()).toBe(before);
  });

  it('a business rule a schema cannot say keeps its own code: a taken name is 409 on the field (taken), a past expiry 400 (notFuture)', async () => {
    await admin().post('/price-lists', { name: 'Initech' }).expect(201);
    const taken = await admin().post('/price-lists', { name: 'initech' }).expect(409);
    expect(fieldsOf(taken.body)).toEqual(['name /name taken']);
    const past = await admin().post('/tokens', { name: 'Old', scopes: ['scim'], expiresAt: '2001-01-01T00:00:00Z' }).expect(400);
    expect(past.body.errors).toEqual([{ field: 'expiresAt', path: '/expiresAt', code: 'notFuture', detail: 'must be in the future' }]);
  });

  it('to the operator API gets field errors too, and makes no tenant', async () => {
    const before = (await h.http.get('/operator/v1/tenants').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200)).body.tenants.length;
    const res = await h.http.post('/operator/v1/tenants').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).send({ adminEmail: 5 }).expect(400);
    expect(fieldsOf(res.body)).toEqual(['adminEmail /adminEmail type', 'name /name required']);
    expect((await h.http.get('/operator/v1/tenants').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200)).body.tenants).toHaveLength(before);
  });
});

// The route description registry and the OpenAPI document (server/openapi/): ajv's errors turned
// into field errors (field, JSON Pointer path, code, detail), a body validated before its handler,
// and the document's essentials — without a server.
import express from 'express';
import request from 'supertest';
import { createValidator, EMAIL_ADDRESS_FORMAT } from '../../server/openapi/validator';
import { ApiDescriptions, fieldErrors } from '../../server/openapi/describe';
import { openApiDocument } from '../../server/openapi/document';
import { object, patch, text } from '../../server/openapi/schema-kit';
import { jsonErrorHandler } from '../../server/http/error-handler';
import pino from 'pino';

const newAjv = createValidator;

describe('fieldErrors', () => {
  const ajv = newAjv();
  const validate = ajv.compile(
    object({ name: text(5), 'a/b': { type: 'integer', maximum: 3 }, tags: { type: 'array', items: { enum: ['x', 'y'] } }, when: { type: 'string', format: 'date-time' } }, ['name']),
  );
  const errorsOf = (body: unknown) => (validate(body) ? [] : fieldErrors(validate.errors!));

  it('names the member, its JSON Pointer and a stable code per fault', () => {
    expect(errorsOf({ 'a/b': 4, tags: ['x', 'z'], when: 'yesterday', extra: 1 })).toEqual([
      { field: 'name', path: '/name', code: 'required', detail: 'is required' },
      { field: 'extra', path: '/extra', code: 'unknown', detail: 'is not a field here; the fields are name, a/b, tags, when' },
      { field: 'a/b', path: '/a~1b', code: 'maximum', detail: 'must be at most 3', params: { limit: 3 } },
      { field: 'tags', path: '/tags/1', code: 'enum', detail: 'must be one of "x", "y"', params: { allowed: ['x', 'y'] } },
      { field: 'when', path: '/when', code: 'format', detail: expect.stringMatching(/date and time/) },
    ]);
  });

  it('says required for text of spaces or none, maxLength with its limit, and (body) for no object', () => {
    expect(errorsOf({ name: '  ' })).toEqual([{ field: 'name', path: '/name', code: 'required', detail: 'is required' }]);
    expect(errorsOf({ name: '' })).toEqual([{ field: 'name', path: '/name', code: 'required', detail: 'is required' }]);
    expect(errorsOf({ name: 'abcdef' })).toEqual([{ field: 'name', path: '/name', code: 'maxLength', detail: 'must be at most 5 characters', params: { limit: 5 } }]);
    expect(errorsOf([1])).toEqual([{ field: '(body)', path: '', code: 'type', detail: 'must be an object' }]);
  });

  it('says address for an email address mail cannot go to (the one address rule)', () => {
    const v = ajv.compile(object({ email: { type: 'string', format: EMAIL_ADDRESS_FORMAT, description: 'an email address mail can go to' } }));
    expect(v({ email: 'ada@example.com' })).toBe(true);
    expect(v({ email: 'ada at example' })).toBe(false);
    expect(fieldErrors(v.errors!)).toEqual([{ field: 'email', path: '/email', code: 'address', detail: 'must be an email address mail can go to' }]);
  });

  it('says empty for a PATCH with nothing in it', () => {
    const v = ajv.compile(patch({ name: text(5) }));
    expect(v({})).toBe(false);
    expect(fieldErrors(v.errors!)).toEqual([{ field: '(body)', path: '', code: 'empty', detail: 'has nothing to change: send at least one field' }]);
  });
});

describe('ApiDescriptions', () => {
  function app() {
    const registry = new ApiDescriptions(newAjv());
    const api = registry.section({ prefix: '/api/v1', security: ['adminToken', 'session'] });
    const router = express.Router();
    router.use(express.json());
    let handled = 0;
    api.describe(router, { method: 'post', path: '/things/:id', summary: 'Make a thing', body: { schema: object({ name: text(10) }, ['name']), examples: [{ name: 'x' }] }, responses: { 201: { description: 'Made' } } });
    router.post('/things/:id', (_req, res) => {
      handled++;
      res.status(201).json({});
    });
    router.use(jsonErrorHandler(pino({ level: 'silent' })));
    const a = express();
    a.use('/api/v1', router);
    return { registry, a, handled: () => handled };
  }

  it('validates a body before the handler runs: a bad one never reaches it', async () => {
    const { a, handled } = app();
    const res = await request(a).post('/api/v1/things/1').send({ name: 5 }).expect(400);
    expect(res.body).toEqual(expect.objectContaining({ scimType: 'invalidValue', detail: 'name must be text', errors: [{ field: 'name', path: '/name', code: 'type', detail: 'must be text' }] }));
    expect(handled()).toBe(0);
    await request(a).post('/api/v1/things/1').send({ name: 'ok' }).expect(201);
    expect(handled()).toBe(1);
  });

  it('refuses a route described twice, and a body without an example', () => {
    const registry = new ApiDescriptions(newAjv());
    const api = registry.section({ prefix: '/x', security: [] });
    const router = express.Router();
    api.describe(router, { method: 'get', path: '/a', summary: 'A', responses: { 200: { description: 'ok' } } });
    expect(() => api.describe(router, { method: 'get', path: '/a', summary: 'A', responses: { 200: { description: 'ok' } } })).toThrow(/described twice/);
    expect(() => api.describe(router, { method: 'post', path: '/b', summary: 'B', body: { schema: { type: 'object' }, examples: [] }, responses: { 200: { description: 'ok' } } })).toThrow(/example/);
  });

  it('builds an OpenAPI 3.1 document: templated paths with their parameters, the body and its examples, 400/401/403, security', () => {
    const { registry } = app();
    const doc = openApiDocument(registry.all(), { version: '1', serverUrl: 'http://127.0.0.1', sessionCookie: 'provisio.sid' }) as Record<string, any>;
    expect(doc.openapi).toBe('3.1.1');
    const op = doc.paths['/api/v1/things/{id}'].post;
    expect(op.parameters).toEqual([{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }]);
    expect(op.requestBody.content['application/json'].examples).toEqual({ example1: { value: { name: 'x' } } });
    expect(Object.keys(op.responses).sort()).toEqual(['201', '400', '401', '403']);
    expect(op.responses['400'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(op.security).toEqual([{ adminToken: [] }, { session: [], csrf: [] }]);
    expect(doc.components.securitySchemes.session.name).toBe('provisio.sid');
  });
});

// The OpenAPI 3.1 document of the admin and operator APIs, built from the route descriptions
// (openapi/describe.ts) and served at GET /api/v1/openapi.json. The security schemes say how the
// APIs really authenticate (admin/admin-router.ts, operator/operator-router.ts): a bearer API
// token with the `admin` scope, or the console's session cookie plus X-CSRF-Token on every change;
// the operator token on /operator/v1. Pure; test/unit/openapi.test.ts.
import type { DescribedRoute, JsonSchema } from './describe';

export const securitySchemes = (sessionCookie: string) => ({
  adminToken: { type: 'http', scheme: 'bearer', description: 'An API token with the "admin" scope (POST /api/v1/tokens), sent as Authorization: Bearer <token>.' },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: sessionCookie,
    description: "The console's session cookie of a signed-in admin. Every change (POST, PUT, PATCH, DELETE) made with it also needs the csrf header scheme.",
  },
  csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token', description: 'The csrfToken of GET /api/v1/me, sent with every change made with a session.' },
  operatorToken: { type: 'http', scheme: 'bearer', description: 'The OPERATOR_TOKEN of the server (docs/configuration.md).' },
});

/** The RFC 7644 §3.12 error body, with the field errors of a 400 (docs/admin-api.md, "Field errors"). */
export const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  required: ['schemas', 'status', 'detail'],
  properties: {
    schemas: { type: 'array', items: { const: 'urn:ietf:params:scim:api:messages:2.0:Error' } },
    status: { type: 'string', description: 'The HTTP status, as a string (RFC 7644 §3.12).' },
    scimType: { type: 'string', description: 'invalidValue for a body a field of which is at fault; uniqueness for a 409 clash.' },
    detail: { type: 'string' },
    errors: {
      type: 'array',
      description: 'Each field at fault: the top-level member, a JSON Pointer into the body, a stable code, the English detail.',
      items: {
        type: 'object',
        required: ['field', 'detail'],
        properties: {
          field: { type: 'string' },
          path: { type: 'string', description: 'JSON Pointer (RFC 6901) into the request body' },
          code: { type: 'string', description: 'required, type, format, enum, minLength, maxLength, pattern, minimum, maximum, minItems, maxItems, uniqueItems, unknown, empty, notAllowed, address, taken, notFuture, immutable, invalid, …' },
          detail: { type: 'string' },
          params: { type: 'object', description: 'What a translated message interpolates: limit, allowed.' },
        },
      },
    },
  },
};

const STATUS_TEXT: Record<number, string> = {
  400: 'The request is not right (bad body: `errors` names each field at fault)',
  401: 'No valid credential',
  403: 'The credential may not do this',
  404: 'Not found (another tenant’s object is not found either)',
  405: 'Method not allowed here',
  409: 'Conflict with the current state, or a uniqueness clash',
  413: 'The body is larger than MAX_BODY_BYTES',
};

const pathParams = (expressPath: string) => [...expressPath.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]);

function operation(r: DescribedRoute): Record<string, unknown> {
  const parameters = [
    ...pathParams(r.path).map((name) => ({
      name,
      in: 'path',
      required: true,
      description: r.params?.[name]?.description,
      schema: r.params?.[name]?.schema ?? { type: 'string' },
    })),
    ...Object.entries(r.query ?? {}).map(([name, q]) => ({ name, in: 'query', required: q.required ?? false, description: q.description, schema: q.schema ?? { type: 'string' } })),
  ];
  const responses: Record<string, unknown> = {};
  const statuses = new Set([...Object.keys(r.responses).map(Number), ...(r.public ? [] : [401, 403]), ...(r.body ? [400] : [])]);
  for (const status of [...statuses].sort()) {
    const d = r.responses[status];
    const schema = d?.schema ?? (status >= 400 ? { $ref: '#/components/schemas/Error' } : undefined);
    responses[String(status)] = { description: d?.description ?? STATUS_TEXT[status] ?? 'See the description', ...(schema ? { content: { 'application/json': { schema } } } : {}) };
  }
  const tag = r.tag ?? r.path.split('/')[1] ?? 'api';
  return {
    operationId: `${r.method}${r.openApiPath.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    tags: [tag],
    ...(parameters.length ? { parameters } : {}),
    ...(r.body
      ? {
          requestBody: {
            required: true,
            ...(r.body.description ? { description: r.body.description } : {}),
            content: { 'application/json': { schema: r.body.schema, examples: Object.fromEntries(r.body.examples.map((value, i) => [`example${i + 1}`, { value }])) } },
          },
        }
      : {}),
    responses,
    // A session's changes also need the X-CSRF-Token header (admin/admin-router.ts); its reads do not.
    security: r.public ? [] : r.section.security.map((name) => (name === 'session' && r.method !== 'get' ? { session: [], csrf: [] } : { [name]: [] })),
  };
}

export interface DocumentInfo {
  /** The APIs' version ('1': /api/v1, /operator/v1). */
  version: string;
  serverUrl: string;
  /** The session cookie's name (front-door/sessions.ts: __Host- prefixed behind https). */
  sessionCookie: string;
}

/** The OpenAPI 3.1 document of the described routes, paths in registration order. */
export function openApiDocument(routes: readonly DescribedRoute[], info: DocumentInfo): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) (paths[r.openApiPath] ??= {})[r.method] = operation(r);
  return {
    openapi: '3.1.1',
    info: {
      title: 'Provisio admin and operator APIs',
      version: info.version,
      description:
        'The admin API (/api/v1) a partner portal and the console call, and the operator API (/operator/v1). SCIM 2.0 itself (/scim/v2/{tenantId}) is described by its own /Schemas and /ResourceTypes (RFC 7644 §4). Every request body is validated against the JSON Schema shown here before anything else; a 400 lists each field at fault in `errors`.',
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    servers: [{ url: info.serverUrl }],
    paths,
    components: { schemas: { Error: ERROR_SCHEMA }, securitySchemes: securitySchemes(info.sessionCookie) },
  };
}

// The route description registry of the admin and operator APIs (docs/admin-api.md, "OpenAPI
// description" and "Field errors"). Each route declares, where it is registered, what it is:
//
//   api.describe(router, { method: 'post', path: '/companies', summary: 'Create a company',
//     body: { schema: {...}, examples: [{ name: 'Acme' }] }, responses: { 201: {...}, 409: {...} } });
//   router.post('/companies', handle(...));
//
// describe() records the description (for GET /api/v1/openapi.json, openapi/document.ts) and,
// when the route takes a body, mounts the body's validator on the same method and path just
// before the handler, so a handler only ever sees a body its JSON Schema accepts; what it still
// checks are the rules a schema cannot say (uniqueness, "in the future", authority). One Ajv
// instance (made in the composition root, deps.ts) compiles every schema once, at start.
// test/unit/openapi.test.ts, test/api/openapi.test.ts.
import type { NextFunction, Request, Response, Router } from 'express';
import type { ErrorObject, ValidateFunction } from 'ajv';
import type Ajv2020 from 'ajv/dist/2020';
import { FieldError, invalidFields } from '../errors';

export type JsonSchema = Record<string, unknown>;
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ParameterDescription {
  description: string;
  schema?: JsonSchema;
  required?: boolean;
}

export interface ResponseDescription {
  description: string;
  /** The JSON answered, where practical (none for 204). */
  schema?: JsonSchema;
}

/** What one route of the admin or operator API is (the shape the lead uses for new routes). */
export interface RouteDescription {
  method: HttpMethod;
  /** The express path as the router registers it, e.g. '/companies/:id'. */
  path: string;
  summary: string;
  description?: string;
  /** The OpenAPI tag (a part of the API: "Companies"); by default the first path segment. */
  tag?: string;
  /** Path parameters (':id'): each is documented; a missing entry gets a plain string. */
  params?: Record<string, ParameterDescription>;
  /** Query parameters (documented; the handler reads them). */
  query?: Record<string, ParameterDescription>;
  /** The JSON body: validated before the handler runs; every example must validate (the tests check). */
  body?: { schema: JsonSchema; examples: unknown[]; description?: string };
  /** By status. 401/403 of the API's authentication are added for every route. */
  responses: Record<number, ResponseDescription>;
  /** A route anyone may call (no credential), such as the description itself. */
  public?: boolean;
}

export interface ApiSectionInfo {
  /** Where the section's router is mounted: '/api/v1', '/operator/v1'. */
  prefix: string;
  /** The names of the security schemes any one of which authenticates a request here. */
  security: string[];
}

export interface DescribedRoute extends RouteDescription {
  section: ApiSectionInfo;
  /** The full path in OpenAPI form: '/api/v1/companies/{id}'. */
  openApiPath: string;
}

/** Text made only of spaces (a name must say something): its ajv `pattern` maps to the code `required`. */
export const NOT_BLANK = '\\S';

/**
 * The codes of a field error: ajv's keyword in our vocabulary, and the codes the handlers' own
 * rules use (docs/admin-api.md, "Field errors"). The console translates by code
 * (locales/<lang>/api-errors.json).
 */
const CODE_OF_KEYWORD: Record<string, string> = {
  required: 'required',
  type: 'type',
  format: 'format',
  enum: 'enum',
  const: 'enum',
  minLength: 'minLength',
  maxLength: 'maxLength',
  pattern: 'pattern',
  minimum: 'minimum',
  maximum: 'maximum',
  exclusiveMinimum: 'minimum',
  exclusiveMaximum: 'maximum',
  minItems: 'minItems',
  maxItems: 'maxItems',
  uniqueItems: 'uniqueItems',
  additionalProperties: 'unknown',
  minProperties: 'minProperties',
  maxProperties: 'maxProperties',
  multipleOf: 'type',
  // A member a schema allows only in some cases (`endpointUrl` of a push stream): `{"properties": {"x": false}}`.
  'false schema': 'notAllowed',
};

/** A JSON Pointer segment (RFC 6901 §4). */
const pointer = (name: string) => `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
const unpointer = (seg: string) => seg.replace(/~1/g, '/').replace(/~0/g, '~');

/** The English detail of one error, by code (the console's fallback when it has no message). */
function detailOf(code: string, e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  // A pattern or format is said in the words of the schema's own description (ajv's `verbose` keeps the schema).
  const said = (e.parentSchema as { description?: unknown } | undefined)?.description;
  switch (code) {
    case 'required':
      return 'is required';
    case 'type':
      return e.keyword === 'multipleOf' ? 'must be a whole number' : `must be ${TYPE_WORDS[String(p.type)] ?? p.type}`;
    case 'format':
      if (typeof said === 'string') return `must be ${said}`;
      return p.format === 'date-time' ? 'must be a date and time (RFC 3339, such as 2027-01-31T00:00:00Z)' : p.format === 'uuid' ? 'must be an id (UUID)' : p.format === 'uri' ? 'must be an absolute URL' : `must be a valid ${p.format}`;
    case 'pattern':
      return typeof said === 'string' ? `must be ${said}` : `is not in the expected form (${p.pattern})`;
    case 'enum':
      return `must be one of ${((p.allowedValues as unknown[] | undefined) ?? [p.allowedValue]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${p.limit} characters`;
    case 'maxLength':
      return `must be at most ${p.limit} characters`;
    case 'address':
      return typeof said === 'string' ? `must be ${said}` : 'must be an email address mail can go to';
    case 'minimum':
      return `must be at least ${p.limit}${e.keyword === 'exclusiveMinimum' ? ' (exclusive)' : ''}`;
    case 'maximum':
      return `must be at most ${p.limit}${e.keyword === 'exclusiveMaximum' ? ' (exclusive)' : ''}`;
    case 'minItems':
      return `must hold at least ${p.limit} ${p.limit === 1 ? 'item' : 'items'}`;
    case 'maxItems':
      return `must hold at most ${p.limit} items`;
    case 'uniqueItems':
      return 'must not repeat an item';
    case 'unknown': {
      const known = Object.keys(((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object);
      return known.length ? `is not a field here; the fields are ${known.join(', ')}` : 'is not a field here';
    }
    case 'notAllowed':
      return 'is not allowed here';
    case 'empty':
      return 'has nothing to change: send at least one field';
    case 'minProperties':
      return `must have at least ${p.limit} members`;
    case 'maxProperties':
      return `must have at most ${p.limit} members`;
    default:
      return e.message ?? 'is not valid';
  }
}

const TYPE_WORDS: Record<string, string> = {
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  string: 'text',
  'string,null': 'text or null',
  'integer,null': 'a whole number or null',
  'array,null': 'a list or null',
  'boolean,null': 'true, false or null',
};

/** ajv's errors → our field errors: one per field and path, the first problem each (the rest follow from it). */
export function fieldErrors(errors: ErrorObject[]): FieldError[] {
  const out: FieldError[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    // Whatever is the matter under a oneOf/anyOf shows as its own errors; the combinator adds nothing a form can use.
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'if') continue;
    let path = e.instancePath;
    if (e.keyword === 'required') path += pointer(String((e.params as { missingProperty: string }).missingProperty));
    if (e.keyword === 'additionalProperties') path += pointer(String((e.params as { additionalProperty: string }).additionalProperty));
    let code = CODE_OF_KEYWORD[e.keyword] ?? e.keyword;
    // Text of only spaces, or empty, where text is needed, is what a form calls a missing field.
    if (e.keyword === 'pattern' && (e.params as { pattern: string }).pattern === NOT_BLANK) code = 'required';
    if (e.keyword === 'minLength' && (e.params as { limit: number }).limit === 1) code = 'required';
    // A PATCH body with nothing in it (schema-kit.ts patch: minProperties 1 at the top).
    if (e.keyword === 'minProperties' && e.instancePath === '' && (e.params as { limit: number }).limit === 1) code = 'empty';
    if (e.keyword === 'format' && (e.params as { format: string }).format === 'email-address') code = 'address';
    const first = path.split('/')[1];
    const field = first === undefined ? '(body)' : unpointer(first);
    if (seen.has(path)) continue;
    seen.add(path);
    const params = e.params as Record<string, unknown>;
    const extra = ['minLength', 'maxLength', 'minimum', 'maximum', 'minItems', 'maxItems'].includes(code) && typeof params.limit === 'number' ? { limit: params.limit } : code === 'enum' ? { allowed: (params.allowedValues as unknown[] | undefined) ?? [params.allowedValue] } : undefined;
    out.push({ field, path, code, detail: detailOf(code, e), ...(extra ? { params: extra } : {}) });
  }
  return out;
}

/** The registry: every described route of every section, with its compiled body validator. */
export class ApiDescriptions {
  private readonly routes: DescribedRoute[] = [];
  private readonly validators = new Map<DescribedRoute, ValidateFunction>();

  constructor(readonly ajv: Ajv2020) {}

  /** The describer for the routes of one router (the admin API at /api/v1, the operator API at /operator/v1). */
  section(info: ApiSectionInfo): ApiSection {
    return new ApiSection(this, info);
  }

  /** @internal ApiSection.describe */
  add(route: DescribedRoute): ValidateFunction | undefined {
    if (this.routes.some((r) => r.openApiPath === route.openApiPath && r.method === route.method)) {
      throw new Error(`${route.method.toUpperCase()} ${route.openApiPath} is described twice`);
    }
    this.routes.push(route);
    if (!route.body) return undefined;
    if (!route.body.examples.length) throw new Error(`${route.method.toUpperCase()} ${route.openApiPath}: a body needs at least one example`);
    const validate = this.ajv.compile(route.body.schema);
    this.validators.set(route, validate);
    return validate;
  }

  all(): readonly DescribedRoute[] {
    return this.routes;
  }

  /** The compiled body validator of a route (the tests run each example through it). */
  validator(route: DescribedRoute): ValidateFunction | undefined {
    return this.validators.get(route);
  }
}

/** express '/companies/:id' → OpenAPI '/companies/{id}'. */
export const openApiPath = (expressPath: string) => expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export class ApiSection {
  constructor(
    private readonly registry: ApiDescriptions,
    readonly info: ApiSectionInfo,
  ) {}

  /**
   * Records what a route is and, for a route with a body, mounts the body's validation on the
   * router — call it just before the route's own router.<method>(path, …), so it runs first.
   */
  describe(router: Router, d: RouteDescription): void {
    const route: DescribedRoute = { ...d, section: this.info, openApiPath: this.info.prefix + (d.path === '/' ? '' : openApiPath(d.path)) };
    const validate = this.registry.add(route);
    if (!validate) return;
    router[d.method](d.path, (req: Request, _res: Response, next: NextFunction) => {
      // No body at all (express.json leaves req.body undefined) is validated as no object.
      if (validate(req.body)) return next();
      next(invalidFields(fieldErrors(validate.errors ?? [])));
    });
  }
}

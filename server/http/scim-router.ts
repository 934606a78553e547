// The SCIM HTTP surface of one tenant: {PUBLIC_URL}/scim/v2/{tenantId}/… (RFC 7644 §3).
// One generic handler per verb serves every resource type; discovery is served from schemas/.
// Authentication: a bearer token of that tenant with the `scim` scope, else 401: an API token, a
// SCIM client's access token (OAuth client credentials), or a token of the tenant's external
// issuer (tenancy/authenticator.ts).
import express, { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { forbidden, invalidValue, methodNotAllowed, notFound, notImplemented, unauthorized } from '../errors';
import { Tagged } from '../logger';
import { Capabilities, listResponse, resourceTypeDocument, schemaDocument, serviceProviderConfig } from '../scim/discovery';
import { parseListQuery, parseSearchRequest, PagingLimits } from '../scim/list-query';
import { splitAttributeList, Projection } from '../scim/projection';
import { ResourceTypeDef, SchemaDef } from '../scim/schema';
import { isUuid } from '../scim/members';
import { ResourceKind } from '../resources/kinds';
import { BulkService } from '../resources/bulk';
import { AssignableValues } from '../resources/assignable-values';
import { BULK_RESPONSE_URN } from '../scim/urns';
import { etagMatches, etagOf, ResourceService, Scope } from '../resources/service';
import { Authenticator, Credential } from '../tenancy/authenticator';
import { bearerToken } from '../secrets';
import { scimErrorHandler, toScimError } from './error-handler';
import { handle } from './handle';
import { errorBody, SCIM_CONTENT_TYPE, sendScim, sendScimError } from './respond';
import { once } from 'node:events';
import { Json, JsonObject } from '../scim/normalize';
import type { Logger } from 'pino';

export interface ScimRouterDeps {
  publicUrl: string;
  service: ResourceService;
  bulk: BulkService;
  assignable: AssignableValues;
  authenticator: Authenticator;
  kinds: ResourceKind[];
  resourceTypes: ResourceTypeDef[];
  schemas: SchemaDef[];
  capabilities: Capabilities;
  limits: PagingLimits;
  maxBodyBytes: number;
  logger: Logger;
}

type ScimRequest = Request & Tagged & { scope?: Scope; credential?: Credential };

export const scimBaseUrl = (publicUrl: string, tenantId: string) => `${publicUrl}/scim/v2/${tenantId}`;

const h = (fn: (req: ScimRequest, res: Response) => unknown) => handle<ScimRequest>(fn);

async function authenticate(authenticator: Authenticator, publicUrl: string, req: ScimRequest): Promise<void> {
  const tenantId = String(req.params.tenantId ?? '').toLowerCase();
  const token = bearerToken(req.headers.authorization);
  if (!token) throw unauthorized();
  const cred = await authenticator.authenticate(token, { api: 'scim', tenantId });
  // A token of tenant A on tenant B's URL is 401, exactly like an unknown token.
  if (!cred || !isUuid(tenantId) || cred.tenantId !== tenantId) throw unauthorized('The bearer token is not valid for this tenant');
  if (!cred.scopes.includes('scim')) throw forbidden('This token does not have the "scim" scope');
  req.tenantId = cred.tenantId;
  req.credential = cred;
  req.scope = { tenantId: cred.tenantId, baseUrl: scimBaseUrl(publicUrl, cred.tenantId), actor: { type: cred.kind, id: cred.tokenId, subAccountId: cred.subAccountId, admin: cred.scopes.includes('admin') } };
}

function projectionOf(req: Request): Projection {
  const q: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(req.query)) q[k.toLowerCase()] = v;
  const p = { attributes: splitAttributeList(q.attributes), excludedAttributes: splitAttributeList(q.excludedattributes) };
  if (p.attributes && p.excludedAttributes) throw invalidValue('Use either attributes or excludedAttributes, not both');
  return p;
}

/**
 * Writes a resource whose `members` arrive in batches, batch by batch with back-pressure, so a
 * 500k-member group never sits in memory whole. The status is sent before the first batch: a
 * database failure mid-way can only cut the response short (the client sees invalid JSON).
 */
async function sendWithMembers(res: Response, head: JsonObject, members: AsyncIterable<Json[]>, etag: string, logger: Logger): Promise<void> {
  const iterator = members[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) {
    sendScim(res, 200, head, { ETag: etag });
    return;
  }
  res.status(200).setHeader('Content-Type', SCIM_CONTENT_TYPE);
  res.setHeader('ETag', etag);
  // A client that goes away mid-stream must not leave this handler waiting for 'drain' forever.
  let gone = false;
  const closed = new Promise<void>((resolve) => res.once('close', () => { gone = true; resolve(); }));
  const write = async (chunk: string) => {
    if (!res.write(chunk)) await Promise.race([once(res, 'drain'), closed]);
  };
  try {
    const json = JSON.stringify(head);
    await write(json.slice(0, -1) + (json === '{}' ? '' : ',') + '"members":[');
    let batch: IteratorResult<Json[]> = first;
    let firstBatch = true;
    while (!batch.done && !gone) {
      // One stringify per batch, not per member: the array's text without its brackets.
      await write((firstBatch ? '' : ',') + JSON.stringify(batch.value).slice(1, -1));
      firstBatch = false;
      batch = gone ? batch : await iterator.next();
    }
    if (gone) await iterator.return?.(undefined);
    else res.end(']}');
  } catch (err) {
    // The status line is already sent: all we can do is cut the response short and say why.
    logger.warn({ err: { message: (err as Error)?.message } }, 'group members stream failed; response cut short');
    await iterator.return?.(undefined).catch(() => undefined);
    res.destroy(err as Error);
  }
}

export function createScimRouter(deps: ScimRouterDeps): Router {
  const router = express.Router({ mergeParams: true, caseSensitive: false });

  router.use((req: Request, _res: Response, next: NextFunction) => {
    authenticate(deps.authenticator, deps.publicUrl, req as ScimRequest).then(() => next(), next);
  });

  // Any content type is read as JSON: clients send application/scim+json, application/json, or
  // nothing at all; RFC 7644 §3.1 requires servers to accept application/scim+json.
  const json = express.json({ type: () => true, limit: deps.maxBodyBytes, strict: true });

  // One layer per path (router.route), its verbs inside it, then 405 with Allow for any other
  // method: a request is matched against each path once. Before, a separate method-guard router
  // matched every path a second time (express's routing was 10 % of a lookup's CPU;
  // docs/performance.md "Cheaper reads (issue 12)"). The method is checked before the body is
  // read, so a POST of anything to a read-only endpoint is 405 rather than a JSON parse error
  // (Okta's spec test posts a non-JSON body to discovery; test/fixtures/okta/01-spec-test.json).
  // HEAD is served by GET (express). The first path that matches decides, so "/Users/.search"
  // is not judged again by "/Users/:id". test/api/discovery.test.ts, test/api/query.test.ts.
  const routes = new Map<string, { route: ReturnType<Router['route']>; methods: string[] }>();
  const at = (path: string, method: 'get' | 'post' | 'put' | 'patch' | 'delete', handler: RequestHandler) => {
    let r = routes.get(path);
    if (!r) routes.set(path, (r = { route: router.route(path), methods: [] }));
    r.methods.push(method.toUpperCase());
    r.route[method](json, handler);
  };

  const scope = (req: ScimRequest) => req.scope!;
  const noFilter = (req: Request) => {
    // RFC 7644 §4: a filter on a discovery endpoint is refused so clients do not assume it applied;
    // also on one resource type or schema, where it could not apply either (test/api/discovery.test.ts).
    if (Object.keys(req.query).some((k) => k.toLowerCase() === 'filter')) throw forbidden('Filtering is not supported on discovery endpoints');
  };

  // ---- Discovery (RFC 7644 §4) ----
  at('/ServiceProviderConfig', 'get',
    h((req, res) => {
      noFilter(req);
      sendScim(res, 200, serviceProviderConfig(scope(req).baseUrl, deps.capabilities));
    }),
  );
  at('/ResourceTypes', 'get',
    h((req, res) => {
      noFilter(req);
      sendScim(res, 200, listResponse(deps.resourceTypes.map((rt) => resourceTypeDocument(scope(req).baseUrl, rt))));
    }),
  );
  at('/ResourceTypes/:name', 'get',
    h((req, res) => {
      noFilter(req);
      const rt = deps.resourceTypes.find((r) => r.id.toLowerCase() === String(req.params.name).toLowerCase());
      if (!rt) throw notFound(`Resource type ${req.params.name} not found`);
      sendScim(res, 200, resourceTypeDocument(scope(req).baseUrl, rt));
    }),
  );
  at('/Schemas', 'get',
    h((req, res) => {
      noFilter(req);
      sendScim(res, 200, listResponse(deps.schemas.map((s) => schemaDocument(scope(req).baseUrl, s))));
    }),
  );
  at('/Schemas/:urn', 'get',
    h((req, res) => {
      noFilter(req);
      const s = deps.schemas.find((x) => x.id.toLowerCase() === String(req.params.urn).toLowerCase());
      if (!s) throw notFound(`Schema ${req.params.urn} not found`);
      sendScim(res, 200, schemaDocument(scope(req).baseUrl, s));
    }),
  );

  // ---- Roles and entitlements a tenant accepts (draft-ietf-scim-roles-entitlements-01) ----
  // Read-only lists with the same query parameters as /Users (filter, sortBy, attributes, index
  // and cursor paging). Writes are 405: roles are fixed, services are managed in the admin API.
  // test/api/roles-entitlements.test.ts
  at('/Roles', 'get',
    h((req, res) => sendScim(res, 200, deps.assignable.listRoles(scope(req), parseListQuery(req.query as Record<string, unknown>, deps.limits)))),
  );
  at('/Roles/.search', 'post',
    h((req, res) => sendScim(res, 200, deps.assignable.listRoles(scope(req), parseSearchRequest(req.body, deps.limits)))),
  );
  at('/Roles/:id', 'get',
    h((req, res) => sendScim(res, 200, deps.assignable.role(scope(req), String(req.params.id), projectionOf(req)))),
  );
  at('/Entitlements', 'get',
    h(async (req, res) =>
      sendScim(res, 200, await deps.assignable.listEntitlements(scope(req), parseListQuery(req.query as Record<string, unknown>, deps.limits))),
    ),
  );
  at('/Entitlements/.search', 'post',
    h(async (req, res) => sendScim(res, 200, await deps.assignable.listEntitlements(scope(req), parseSearchRequest(req.body, deps.limits)))),
  );
  at('/Entitlements/:id', 'get',
    h(async (req, res) => sendScim(res, 200, await deps.assignable.entitlement(scope(req), String(req.params.id), projectionOf(req)))),
  );

  // ---- Root search and Bulk ----
  at('/.search', 'post',
    h(async (req, res) => {
      const q = parseSearchRequest(req.body, deps.limits);
      sendScim(res, 200, await deps.service.searchAll(scope(req), deps.kinds, q));
    }),
  );
  at('/Bulk', 'post',
    h(async (req, res) => {
      const results = await deps.bulk.run(scope(req), req.body, deps.capabilities.bulk.maxOperations, (err) => toScimError(err, deps.logger));
      sendScim(res, 200, {
        schemas: [BULK_RESPONSE_URN],
        Operations: results.map((r) => ({
          method: r.method,
          ...(r.bulkId ? { bulkId: r.bulkId } : {}),
          ...(r.version ? { version: r.version } : {}),
          ...(r.location ? { location: r.location } : {}),
          // RFC 7644 §3.7.3: status is a string; an error carries its §3.12 body as "response".
          status: String(r.status),
          ...(r.error ? { response: errorBody(r.error) } : {}),
        })),
      });
    }),
  );

  // ---- Resources: one handler per verb for every type (RFC 7644 §3.3–§3.6) ----
  for (const kind of deps.kinds) {
    const base = `/${kind.endpoint}`;
    at(`${base}/.search`, 'post',
      h(async (req, res) => {
        const q = parseSearchRequest(req.body, deps.limits);
        sendScim(res, 200, await deps.service.query(scope(req), kind, q));
      }),
    );
    at(base, 'get',
      h(async (req, res) => {
        const q = parseListQuery(req.query as Record<string, unknown>, deps.limits);
        sendScim(res, 200, await deps.service.query(scope(req), kind, q));
      }),
    );
    at(base, 'post',
      h(async (req, res) => {
        const out = await deps.service.create(scope(req), kind, req.body, projectionOf(req));
        const location = deps.service.location(scope(req), kind, out.resource.id as string);
        sendScim(res, 201, out.resource, { Location: location, ETag: etagOf(out.version) });
      }),
    );
    at(`${base}/:id`, 'get',
      h(async (req, res) => {
        const out = await deps.service.getStreaming(scope(req), kind, String(req.params.id), projectionOf(req));
        // RFC 7644 §3.14: If-None-Match with the current version → 304 Not Modified.
        if (etagMatches(req.headers['if-none-match'], out.version)) {
          res.status(304).setHeader('ETag', etagOf(out.version));
          res.end();
          return;
        }
        if (out.members) await sendWithMembers(res, out.resource, out.members, etagOf(out.version), deps.logger);
        else sendScim(res, 200, out.resource, { ETag: etagOf(out.version) });
      }),
    );
    at(`${base}/:id`, 'put',
      h(async (req, res) => {
        const out = await deps.service.replace(scope(req), kind, String(req.params.id), req.body, req.headers['if-match'], projectionOf(req));
        sendScim(res, 200, out.resource, { ETag: etagOf(out.version) });
      }),
    );
    at(`${base}/:id`, 'patch',
      h(async (req, res) => {
        // RFC 7644 §3.5.2: the kind decides (kinds.ts patchAnswersWithResource); asking for
        // attributes always gets the resource.
        const asked = Object.keys(req.query).some((k) => /^(attributes|excludedattributes)$/i.test(k));
        const withBody = kind.patchAnswersWithResource || asked;
        const out = await deps.service.patch(scope(req), kind, String(req.params.id), req.body, req.headers['if-match'], withBody ? projectionOf(req) : undefined);
        if (!withBody) {
          res.status(204).setHeader('ETag', etagOf(out.version));
          res.end();
          return;
        }
        sendScim(res, 200, out.resource, { ETag: etagOf(out.version) });
      }),
    );
    at(`${base}/:id`, 'delete',
      h(async (req, res) => {
        await deps.service.delete(scope(req), kind, String(req.params.id), req.headers['if-match']);
        res.status(204).end();
      }),
    );
  }

  for (const { route, methods } of routes.values()) route.all((_req: Request, _res: Response, next: NextFunction) => next(methodNotAllowed(methods)));

  // RFC 7644 §3.11: a service provider that does not support /Me answers 501.
  router.all('/Me', (_req, _res, next) => next(notImplemented('/Me is not supported: SCIM requests here are made with tenant API tokens, not as a user')));
  router.all('/Me/{*rest}', (_req, _res, next) => next(notImplemented('/Me is not supported')));

  router.use((req, res) => sendScimError(res, notFound(`No SCIM endpoint at ${req.path}`)));
  router.use(scimErrorHandler(deps.logger));
  return router;
}

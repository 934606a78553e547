// The admin API (/api/v1, JSON) for what partner portals do: price lists, API tokens,
// permissions, audit, access. Authenticated by an API token with the `admin` scope, or — for the
// console — by a signed-in admin's session cookie plus the X-CSRF-Token header on every change
// (front-door/sign-in.ts adminActor: the primary admin is tenant-wide, a sub-account admin is
// bound to the sub-account they work in, under the same rules as a bound token).
// Errors use the one error family and renderer (http/error-handler.ts), as application/json.
import express, { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { Logger } from 'pino';
import { forbidden, unauthorized, notFound } from '../errors';
import { jsonErrorHandler } from '../http/error-handler';
import { handle as handleAsync } from '../http/handle';
import type { Actor, Scope } from '../resources/actor';
import { Authenticator } from '../tenancy/authenticator';
import { bearerToken } from '../secrets';
import type { ApiSection } from '../openapi/describe';

export type AdminRequest = Request & { tenantId?: string; scope?: Scope };

export interface AdminRouterDeps {
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
  scimBaseUrl: (tenantId: string) => string;
  /** Feature routers mounted under /api/v1 after authentication (price lists, tokens, …). */
  routes: ((router: Router, api: ApiSection) => void)[];
  /** Where each route describes itself (openapi/describe.ts): its body is validated before its handler. */
  api: ApiSection;
  /** Session sign-in for requests without a bearer token (the console). */
  session?: {
    middleware: RequestHandler[];
    /** Whether the request carries a valid CSRF token (header X-CSRF-Token). */
    csrfValid(req: Request): boolean;
    /** The admin actor of the signed-in person, 'forbidden' for someone who is not an admin, undefined without a session. */
    actor(req: Request): Promise<{ tenantId: string; actor: Actor } | 'forbidden' | undefined>;
  };
}

const SAFE_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/** The admin API's async handlers (http/handle.ts), with the request as authentication left it. */
export const handle = (fn: (req: AdminRequest, res: Response) => unknown) => handleAsync<AdminRequest>(fn);

async function authenticate(deps: AdminRouterDeps, req: AdminRequest): Promise<void> {
  const token = bearerToken(req.headers.authorization);
  if (!token && !req.headers.authorization && deps.session) {
    const who = await deps.session.actor(req);
    if (who === 'forbidden') throw forbidden('The admin API is for admins: your account is not an admin of the account you are working in');
    if (who) {
      // A cookie rides along with any cross-site request: changes need the CSRF token too.
      if (!SAFE_METHODS.includes(req.method) && !deps.session.csrfValid(req)) throw forbidden('Send the X-CSRF-Token header (from GET /api/v1/me) with every change made with a session');
      req.tenantId = who.tenantId;
      req.scope = { tenantId: who.tenantId, baseUrl: deps.scimBaseUrl(who.tenantId), actor: who.actor };
      return;
    }
  }
  if (!token) throw unauthorized();
  const cred = await deps.authenticator.authenticate(token, { api: 'admin' });
  if (!cred) throw unauthorized('The bearer token is not valid');
  if (!cred.scopes.includes('admin')) throw forbidden('This token does not have the "admin" scope');
  req.tenantId = cred.tenantId;
  req.scope = {
    tenantId: cred.tenantId,
    baseUrl: deps.scimBaseUrl(cred.tenantId),
    actor: { type: cred.kind, id: cred.tokenId, subAccountId: cred.subAccountId, admin: true },
  };
}

/**
 * Parts of the admin API that answer for the whole tenant refuse credentials bound to a
 * sub-account (403) until those parts can be limited to the sub-account's subtree (issue 4).
 */
export function requireTenantWide(req: AdminRequest): void {
  if (req.scope?.actor.subAccountId) throw forbidden('This part of the admin API needs a tenant-wide credential; this one is bound to a sub-account');
}

/** Mounts requireTenantWide in front of every route under `path`. */
export function tenantWideOnly(router: Router, path: string): void {
  router.use(path, (req, _res, next) => {
    try {
      requireTenantWide(req as AdminRequest);
      next();
    } catch (err) {
      next(err);
    }
  });
}

export function createAdminRouter(deps: AdminRouterDeps): Router {
  const router = express.Router();
  // The session is read only for requests without an Authorization header. Nothing here reads
  // the body: the CSRF token of a session comes in the X-CSRF-Token header.
  const session = deps.session?.middleware ?? [];
  router.use((req: Request, res: Response, next: NextFunction) => {
    if (req.headers.authorization || !session.length) return next();
    const run = (i: number) => (err?: unknown) => (err || i === session.length ? next(err) : session[i](req, res, run(i + 1)));
    run(0)();
  });
  router.use((req: Request, _res: Response, next: NextFunction) => {
    authenticate(deps, req as AdminRequest).then(() => next(), next);
  });
  // The body is read only once the caller is known (issue 9, point 13): an anonymous request
  // costs no parsing of up to MAX_BODY_BYTES and learns nothing from 400/413 answers
  // (test/api/tokens.test.ts, "authenticates before it reads the body").
  router.use(express.json({ type: () => true, limit: deps.maxBodyBytes }));
  for (const mount of deps.routes) mount(router, deps.api);
  router.use((req, _res, next) => next(notFound(`No admin API endpoint at ${req.method} ${req.path}`)));
  router.use(jsonErrorHandler(deps.logger));
  return router;
}

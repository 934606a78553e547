// The admin API (/api/v1, JSON) for what partner portals do: price lists, API tokens,
// permissions, audit. Authenticated by an API token with the `admin` scope (the console's
// session comes with the front-door issue, under the same rules). The tenant is the token's.
// Errors use the one error family and renderer (http/error-handler.ts), as application/json.
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { forbidden, unauthorized, notFound } from '../errors';
import { jsonErrorHandler } from '../http/error-handler';
import { Scope } from '../resources/service';
import { Authenticator } from '../tenancy/authenticator';
import { bearerToken } from '../tenancy/tokens';

export type AdminRequest = Request & { tenantId?: string; scope?: Scope };

export interface AdminRouterDeps {
  authenticator: Authenticator;
  logger: Logger;
  maxBodyBytes: number;
  scimBaseUrl: (tenantId: string) => string;
  /** Feature routers mounted under /api/v1 after authentication (price lists, tokens, …). */
  routes: ((router: Router) => void)[];
}

/** Wraps an async handler so a rejection reaches the error handler. */
export const handle =
  (fn: (req: AdminRequest, res: Response) => Promise<void> | void) =>
  (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve()
      .then(() => fn(req as AdminRequest, res))
      .catch(next);
  };

async function authenticate(deps: AdminRouterDeps, req: AdminRequest): Promise<void> {
  const token = bearerToken(req.headers.authorization);
  if (!token) throw unauthorized();
  const cred = await deps.authenticator.authenticate(token);
  if (!cred) throw unauthorized('The bearer token is not valid');
  if (!cred.scopes.includes('admin')) throw forbidden('This token does not have the "admin" scope');
  req.tenantId = cred.tenantId;
  req.scope = {
    tenantId: cred.tenantId,
    baseUrl: deps.scimBaseUrl(cred.tenantId),
    actor: { type: 'token', id: cred.tokenId, subAccountId: cred.subAccountId },
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
  router.use(express.json({ type: () => true, limit: deps.maxBodyBytes }));
  router.use((req: Request, _res: Response, next: NextFunction) => {
    authenticate(deps, req as AdminRequest).then(() => next(), next);
  });
  for (const mount of deps.routes) mount(router);
  router.use((req, _res, next) => next(notFound(`No admin API endpoint at ${req.method} ${req.path}`)));
  router.use(jsonErrorHandler(deps.logger));
  return router;
}

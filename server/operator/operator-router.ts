// Operator API (/operator/v1): create and list tenants. Enabled only when OPERATOR_TOKEN is set;
// the token is compared in constant time.
import { timingSafeEqual, createHash } from 'node:crypto';
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { methodNotAllowed, notFound, unauthorized } from '../errors';
import { jsonErrorHandler } from '../http/error-handler';
import { bearerToken } from '../tenancy/tokens';
import { parseNewTenant, TenantService } from '../tenancy/tenant-service';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function createOperatorRouter(deps: { operatorToken: string; tenants: TenantService; logger: Logger; maxBodyBytes: number }): Router {
  const router = express.Router();
  const expected = digest(deps.operatorToken);
  router.use(express.json({ type: () => true, limit: deps.maxBodyBytes }));
  router.use((req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req.headers.authorization);
    if (!token || !timingSafeEqual(digest(token), expected)) return next(unauthorized('A valid operator token is required'));
    next();
  });
  router.all('/tenants', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
  router.post('/tenants', (req, res, next) => {
    Promise.resolve()
      .then(async () => {
        const created = await deps.tenants.create(parseNewTenant(req.body));
        res.status(201).setHeader('Location', `/operator/v1/tenants/${created.id}`);
        res.setHeader('Cache-Control', 'no-store');
        res.json(created);
      })
      .catch(next);
  });
  router.get('/tenants', (_req, res, next) => {
    deps.tenants
      .list()
      .then((tenants) => res.json({ tenants }))
      .catch(next);
  });
  router.get('/tenants/:id', (req, res, next) => {
    const id = String(req.params.id);
    const valid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
    (valid ? deps.tenants.get(id.toLowerCase()) : Promise.resolve(undefined))
      .then((t) => (t ? res.json(t) : next(notFound(`Tenant ${id} not found`))))
      .catch(next);
  });
  router.use((req, _res, next) => next(notFound(`No operator endpoint at ${req.path}`)));
  router.use(jsonErrorHandler(deps.logger));
  return router;
}

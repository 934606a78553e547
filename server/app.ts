// createApp(deps): mounts health, the operator API and the SCIM service on one express app.
import express, { Express } from 'express';
import { Deps } from './deps';
import { jsonErrorHandler } from './http/error-handler';
import { createScimRouter, scimBaseUrl } from './http/scim-router';
import { createAdminRouter } from './admin/admin-router';
import { requestLogger } from './logger';
import { createOperatorRouter } from './operator/operator-router';
import { notFound } from './errors';

export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLogger(deps.logger));

  // Liveness: the process serves. Readiness: the database answers too.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref());
    Promise.race([deps.db.knex.raw('SELECT 1'), timeout])
      .then(() => res.json({ status: 'ready', database: deps.db.kind }))
      .catch(() => res.status(503).json({ status: 'unavailable', database: deps.db.kind }));
  });

  if (deps.config.operatorToken) {
    app.use(
      '/operator/v1',
      createOperatorRouter({
        operatorToken: deps.config.operatorToken,
        tenants: deps.tenants,
        logger: deps.logger,
        maxBodyBytes: deps.config.maxBodyBytes,
        mail: { list: (filter) => deps.mail.outbox.listForOperator(deps.db.knex, filter) },
      }),
    );
  }

  app.use(
    '/scim/v2/:tenantId',
    createScimRouter({
      publicUrl: deps.config.publicUrl,
      service: deps.service,
      bulk: deps.bulk,
      authenticator: deps.authenticator,
      kinds: deps.catalog.kinds,
      resourceTypes: deps.catalog.resourceTypes,
      schemas: deps.catalog.schemas,
      capabilities: deps.capabilities,
      limits: deps.limits,
      maxBodyBytes: deps.config.maxBodyBytes,
      logger: deps.logger,
    }),
  );

  app.use(
    '/api/v1',
    createAdminRouter({
      authenticator: deps.authenticator,
      logger: deps.logger,
      maxBodyBytes: deps.config.maxBodyBytes,
      scimBaseUrl: (id) => scimBaseUrl(deps.config.publicUrl, id),
      routes: deps.adminRoutes,
    }),
  );

  app.use((req, _res, next) => next(notFound(`Nothing at ${req.method} ${req.path}`)));
  app.use(jsonErrorHandler(deps.logger));
  return app;
}

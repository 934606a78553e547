// createApp(deps): mounts health, the operator API and the SCIM service on one express app.
import express, { Express } from 'express';
import { Deps } from './deps';
import { jsonErrorHandler } from './http/error-handler';
import { createScimRouter, scimBaseUrl } from './http/scim-router';
import { createAdminRouter } from './admin/admin-router';
import { requestLogger } from './logger';
import { createOperatorRouter } from './operator/operator-router';
import { notFound } from './errors';
import helmet from 'helmet';
import { createFrontDoorRouter, FRONT_DOOR_PATHS, meRouter } from './front-door/router';
import { oidcRoutes } from './front-door/oidc-routes';
import { ping } from './store/db';
import { identityRoutes } from './front-door/identity-routes';
import { createOAuthRouter } from './http/oauth-router';
import { createAuthorizeRouter } from './http/oauth-authorize';
import { createEventsRouter } from './http/events-router';
import { createMetricsRouter } from './operator/metrics-router';
import path from 'node:path';
import { createConsoleRouter } from './console/console-router';
import { languageRoutes } from './web/language-routes';
import { openApiRouter } from './openapi/openapi-router';


/** Answers whose pages load our own scripts from /assets: the console and the front door. */
const ownScripts = (path: string) => path === '/console' || path.startsWith('/console/') || FRONT_DOOR_PATHS.test(path) || path === '/oauth/authorize';

export function createApp(deps: Deps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Whose X-Forwarded-For/-Proto to believe (TRUST_PROXY, default: private networks only).
  app.set('trust proxy', deps.config.trustProxy);
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(requestLogger(deps.logger));
  // Every answer counted and timed under its route template (metrics/metrics.ts).
  const metrics = deps.metrics;
  app.use(metrics.middleware());
  const https = deps.config.publicUrl.startsWith('https:');
  // Security headers on every answer (issue 5, "Sessions"). The pages run no scripts at all.
  // form-action is left out: the sign-in form's answer redirects to the tenant's IdP, whose origin
  // no static policy can list (Chrome applies form-action to redirects).
  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        // The console and the front door's pages may load their own small scripts (issue 11:
        // progressive enhancement, never inline — the front door's fills in the suggested
        // password, public/front-door.js); every other answer runs none.
        directives: {
          'script-src': [(req) => (ownScripts((req as express.Request).path ?? '') ? "'self'" : "'none'")],
          'form-action': null,
          'upgrade-insecure-requests': https ? [] : null,
        },
      },
      strictTransportSecurity: https,
    }),
  );

  // Browsers ask for it on every page; no icon is not an error.
  app.get('/favicon.ico', (_req, res) => {
    res.status(204).end();
  });
  // Liveness: the process serves. Readiness: the database answers too.
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref());
    Promise.race([ping(deps.db.knex), timeout])
      .then(() => res.json({ status: 'ready', database: deps.db.kind }))
      .catch(() => res.status(503).json({ status: 'unavailable', database: deps.db.kind }));
  });

  // GET /metrics behind the operator token, unless METRICS_PORT serves it apart (main.ts).
  if (deps.config.operatorToken && deps.config.metricsPort === undefined) {
    app.use(createMetricsRouter({ metrics, logger: deps.logger, operatorToken: deps.config.operatorToken }));
  }

  // The route descriptions (openapi/): each section's routes describe themselves as they are
  // registered; their bodies are validated by the one ajv instance of deps.ts.
  const adminApi = deps.api.section({ prefix: '/api/v1', security: ['adminToken', 'session'] });
  const operatorApi = deps.api.section({ prefix: '/operator/v1', security: ['operatorToken'] });

  if (deps.config.operatorToken) {
    app.use('/operator/v1', metrics.base('/operator/v1'));
    app.use(
      '/operator/v1',
      createOperatorRouter({
        operatorToken: deps.config.operatorToken,
        tenants: deps.tenants,
        logger: deps.logger,
        maxBodyBytes: deps.config.maxBodyBytes,
        mail: { list: (filter) => deps.mail.outbox.listForOperator(deps.db.knex, filter) },
        signingKeys: deps.oauth.keys,
        permissions: deps.config.permissions,
        api: operatorApi,
      }),
    );
  }

  // OAuth 2.0 client credentials for SCIM clients, the signing keys and the metadata (issue 13).
  app.use(
    createOAuthRouter({
      publicUrl: deps.config.publicUrl,
      clients: deps.oauth.clients,
      grants: deps.oauth.grants,
      keys: deps.oauth.keys,
      limiter: deps.oauth.limiter,
      logger: deps.logger,
      onRefused: () => metrics.rateLimited('oauth_client'),
    }),
  );

  // SCIM events: a tenant's poll endpoints (RFC 8936, http/events-router.ts).
  app.use('/events/v1/:tenantId', metrics.base('/events/v1/:tenantId'));
  app.use('/events/v1/:tenantId', createEventsRouter({ authenticator: deps.authenticator, poll: deps.events.poll, logger: deps.logger, maxBodyBytes: deps.config.maxBodyBytes }));

  app.use('/scim/v2/:tenantId', metrics.base('/scim/v2/:tenantId'));
  app.use(
    '/scim/v2/:tenantId',
    createScimRouter({
      publicUrl: deps.config.publicUrl,
      service: deps.service,
      bulk: deps.bulk,
      assignable: deps.assignable,
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

  // The pages' stylesheet and scripts (public/), and the language switch of every page's footer.
  app.use('/assets', express.static(path.join(deps.web.root, 'public'), { index: false, maxAge: '1h', fallthrough: true }));
  const fd = deps.frontDoor;
  app.use(languageRoutes({ stack: fd.stack, secure: https }));
  // The authorization endpoint of the authorization code grant (Okta's OAuth 2 option): a page of
  // the front door's kind, on its sessions (http/oauth-authorize.ts).
  app.use(
    createAuthorizeRouter({
      publicUrl: deps.config.publicUrl,
      grants: deps.oauth.grants,
      stack: fd.stack,
      pages: fd.pages,
      people: deps.accounts.people,
      resume: deps.oauth.resume,
      landing: (req) => fd.signIn.landing(req),
      logger: deps.logger,
    }),
  );

  // The admin API's router: mounted at /api/v1 below, and the console's way to it (in-process).
  const adminRouter = createAdminRouter({
    authenticator: deps.authenticator,
    logger: deps.logger,
    maxBodyBytes: deps.config.maxBodyBytes,
    scimBaseUrl: (id) => scimBaseUrl(deps.config.publicUrl, id),
    routes: deps.adminRoutes,
    api: adminApi,
    // The console calls the admin API with its session (and X-CSRF-Token on changes).
    session: { middleware: fd.stack.session, csrfValid: fd.stack.csrfValid, actor: (req) => fd.signIn.adminActor(req) },
  });

  // The partner console (console/), on the admin API.
  deps.consoleAdmin.attach(adminRouter);
  app.use('/console', metrics.base('/console'));
  app.use(
    '/console',
    createConsoleRouter({
      people: deps.accounts.people,
      stack: fd.stack,
      views: deps.web.views,
      i18n: deps.web.i18n,
      admin: deps.consoleAdmin,
      logger: deps.logger,
      pages: deps.consolePages,
      landing: (req) => fd.signIn.landing(req),
      keptOut: (req, res, kept) => fd.pages.keptOut(req, res, kept),
      rememberAccount: (tenantId, userId, accountId) => deps.accounts.people.rememberAccount(tenantId, userId, accountId),
    }),
  );

  // The front door: /login and the pages around it, sessions in the database (front-door/).
  app.use(
    createFrontDoorRouter({
      people: deps.accounts.people,
      self: deps.accounts.self,
      signIn: fd.signIn,
      limiter: fd.limiter,
      devices: fd.devices,
      passwords: deps.accounts.passwords,
      stack: fd.stack,
      later: deps.later,
      logger: deps.logger,
      pages: fd.pages,
      ownPrivacyUrl: `${deps.config.publicUrl.replace(/\/+$/, '')}/privacy`,
      ssoForEmail: async (email) => (await deps.sso.forEmail(email))?.connectionId,
      metrics,
      // OIDC sign-in, and the person's own links to their IdP account (issue 9 point 5).
      extraRoutes: [
        oidcRoutes({ sso: deps.sso, flows: deps.ssoFlows, secure: https, signIn: fd.signIn, pages: fd.pages, links: deps.ssoLinks, logger: deps.logger, clock: deps.clock, metrics }),
        identityRoutes({
          sso: deps.sso,
          flows: deps.ssoFlows,
          secure: https,
          links: deps.ssoLinks,
          pages: fd.pages,
          mayEnter: (tenantId, userId) => deps.accounts.people.mayEnter(tenantId, userId),
          isAdmin: async (tenantId, userId) => (await deps.accounts.people.accounts(tenantId, userId)).some((a) => a.admin),
          logger: deps.logger,
        }),
      ],
    }),
  );
  // The signed-in person, by session cookie: before the admin API, which wants a bearer token.
  app.use('/api/v1/me', metrics.base('/api/v1/me'));
  app.use('/api/v1/me', meRouter({ stack: fd.stack, people: deps.accounts.people, logger: deps.logger, api: deps.api.section({ prefix: '/api/v1/me', security: ['session'] }) }));

  app.use('/api/v1', metrics.base('/api/v1'));
  // Public, before the admin API's authentication (openapi/openapi-router.ts says why).
  app.use(
    '/api/v1',
    openApiRouter({
      registry: deps.api,
      section: adminApi,
      info: { version: '1', serverUrl: deps.config.publicUrl.replace(/\/+$/, ''), sessionCookie: fd.stack.cookieName },
    }),
  );
  app.use('/api/v1', adminRouter);

  app.use((req, _res, next) => next(notFound(`Nothing at ${req.method} ${req.path}`)));
  app.use(jsonErrorHandler(deps.logger));
  return app;
}

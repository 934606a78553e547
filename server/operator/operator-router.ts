// Operator API (/operator/v1): create and list tenants; read the mail outbox (docs/emails.md);
// read the platform's permission catalogue (PERMISSIONS_FILE, docs/configuration.md).
// Enabled only when OPERATOR_TOKEN is set; the token is compared in constant time.
import { timingSafeEqual, createHash } from 'node:crypto';
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { invalidValue, methodNotAllowed, notFound, unauthorized } from '../errors';
import { jsonErrorHandler } from '../http/error-handler';
import { handle } from '../http/handle';
import { bearerToken } from '../secrets';
import { parseNewTenant, TenantService } from '../tenancy/tenant-service';
import type { OperatorMail, OperatorMailFilter } from '../mail/outbox';
import type { SigningKeys } from '../oauth/signing-keys';
import type { Permission } from '../permission-catalogue';
import { ApiSection, NOT_BLANK } from '../openapi/describe';
import { EMAIL_ADDRESS_FORMAT } from '../openapi/validator';

const digest = (s: string) => createHash('sha256').update(s).digest();

export const MAIL_PAGE = { defaultLimit: 50, maxLimit: 500 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lets through only requests with the operator token, compared in constant time (also GET /metrics). */
export function operatorTokenCheck(operatorToken: string) {
  const expected = digest(operatorToken);
  return (req: Request, _res: Response, next: NextFunction) => {
    const token = bearerToken(req.headers.authorization);
    if (!token || !timingSafeEqual(digest(token), expected)) return next(unauthorized('A valid operator token is required'));
    next();
  };
}

export function createOperatorRouter(deps: {
  operatorToken: string;
  tenants: TenantService;
  logger: Logger;
  maxBodyBytes: number;
  /** The outbox, for GET /mail (mail/outbox.ts listForOperator). */
  mail?: { list(filter: OperatorMailFilter): Promise<OperatorMail[]> };
  /** The OAuth signing keys (oauth/signing-keys.ts), for GET /signing-keys and POST /signing-keys/rotate. */
  signingKeys?: Pick<SigningKeys, 'describe' | 'rotate'>;
  /** The permission catalogue the server started with (issue 10). */
  permissions?: readonly Permission[];
  /** Where each route describes itself (openapi/describe.ts): its body is validated before its handler. */
  api: ApiSection;
}): Router {
  const router = express.Router();
  router.use(operatorTokenCheck(deps.operatorToken));
  // The body is read only after the token checked out (issue 9, point 13;
  // test/api/operator.test.ts, "authenticates before it reads the body").
  router.use(express.json({ type: () => true, limit: deps.maxBodyBytes }));
  router.all('/tenants', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
  const api = deps.api;
  api.describe(router, {
    method: 'post',
    path: '/tenants',
    summary: 'Create a tenant, its primary admin and a first admin token',
    body: {
      schema: {
        type: 'object',
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 200, pattern: NOT_BLANK },
          adminEmail: { type: 'string', minLength: 1, maxLength: 254, format: EMAIL_ADDRESS_FORMAT, description: "an email address mail can go to (the primary admin's sign-in)" },
          adminName: { type: ['object', 'null'], properties: { givenName: { type: 'string' }, familyName: { type: 'string' } } },
        },
        required: ['name', 'adminEmail'],
      },
      examples: [{ name: 'Acme', adminEmail: 'it@acme.example', adminName: { givenName: 'Ada', familyName: 'Lovelace' } }],
    },
    responses: { 201: { description: 'The tenant, with its first admin token (shown once)', schema: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' } } } } },
  });
  router.post(
    '/tenants',
    handle(async (req, res) => {
      const created = await deps.tenants.create(parseNewTenant(req.body));
      res.status(201).setHeader('Location', `/operator/v1/tenants/${created.id}`);
      res.setHeader('Cache-Control', 'no-store');
      res.json(created);
    }),
  );
  api.describe(router, { method: 'get', path: '/tenants', summary: 'List the tenants', responses: { 200: { description: 'The tenants', schema: { type: 'object', properties: { tenants: { type: 'array', items: { type: 'object' } } } } } } });
  router.get(
    '/tenants',
    handle(async (_req, res) => {
      res.json({ tenants: await deps.tenants.list() });
    }),
  );
  api.describe(router, { method: 'get', path: '/tenants/:id', summary: 'Read a tenant', responses: { 200: { description: 'The tenant', schema: { type: 'object' } }, 404: { description: 'No such tenant' } } });
  router.get(
    '/tenants/:id',
    handle(async (req, res) => {
      const id = String(req.params.id);
      const t = UUID.test(id) ? await deps.tenants.get(id.toLowerCase()) : undefined;
      if (!t) throw notFound(`Tenant ${id} not found`);
      res.json(t);
    }),
  );
  // The permissions profiles are made of, as the server read them at start (issue 10):
  // changing them is changing PERMISSIONS_FILE and restarting. test/api/permission-profiles.test.ts
  const permissions = deps.permissions;
  if (permissions) {
    router.all('/permissions', (req, _res, next) => next(req.method === 'GET' ? undefined : methodNotAllowed(['GET'])));
    api.describe(router, { method: 'get', path: '/permissions', summary: 'The permission catalogue the server started with (PERMISSIONS_FILE)', responses: { 200: { description: 'The permissions', schema: { type: 'object', properties: { permissions: { type: 'array', items: { type: 'object' } } } } } } });
    router.get('/permissions', (_req, res) => {
      res.json({ permissions });
    });
  }
  // The outbox across tenants, newest first; text and html only while the sealed content is kept
  // (no SMTP_URL, or not sent yet).
  // Bodies hold links and passwords: never cached (test/api/mail.test.ts, "kept mail").
  const mail = deps.mail;
  if (mail) {
    api.describe(router, {
      method: 'get',
      path: '/mail',
      summary: 'The mail outbox across tenants, newest first (bodies while kept)',
      query: {
        to: { description: 'messages to this address' },
        tenantId: { description: 'messages of this tenant (UUID)', schema: { type: 'string', format: 'uuid' } },
        limit: { description: `at most this many, 1 to ${MAIL_PAGE.maxLimit} (default ${MAIL_PAGE.defaultLimit})`, schema: { type: 'integer', minimum: 1 } },
      },
      responses: { 200: { description: 'The messages', schema: { type: 'object', properties: { messages: { type: 'array', items: { type: 'object' } } } } }, 400: { description: 'A query parameter is not right' } },
    });
    router.get(
      '/mail',
      handle(async (req, res) => {
        const q = req.query as Record<string, unknown>;
        const text = (name: string) => (typeof q[name] === 'string' && (q[name] as string).trim() !== '' ? (q[name] as string).trim() : undefined);
        const to = text('to');
        const tenantId = text('tenantId');
        const limitText = text('limit');
        if (tenantId !== undefined && !UUID.test(tenantId)) throw invalidValue('tenantId must be a tenant id (UUID)');
        if (limitText !== undefined && !/^\d{1,6}$/.test(limitText)) throw invalidValue('limit must be a whole number');
        const limit = limitText === undefined ? MAIL_PAGE.defaultLimit : Math.min(Number(limitText), MAIL_PAGE.maxLimit);
        if (limit < 1) throw invalidValue('limit must be at least 1');
        const messages = await mail.list({ to, tenantId: tenantId?.toLowerCase(), limit });
        res.setHeader('Cache-Control', 'no-store');
        res.json({ messages });
      }),
    );
  }
  // The server's OAuth signing keys (docs/operations.md, "OAuth signing keys"): the published
  // ones, and a rotation now — the new key signs at once, the old one stays published until every
  // token it signed has expired.
  const keys = deps.signingKeys;
  if (keys) {
    router.all('/signing-keys/rotate', (req, _res, next) => next(req.method === 'POST' ? undefined : methodNotAllowed(['POST'])));
    api.describe(router, { method: 'get', path: '/signing-keys', summary: "The server's OAuth signing keys", responses: { 200: { description: 'The keys', schema: { type: 'object', properties: { keys: { type: 'array', items: { type: 'object' } } } } } } });
    router.get(
      '/signing-keys',
      handle(async (_req, res) => {
        res.json({ keys: await keys.describe() });
      }),
    );
    api.describe(router, { method: 'post', path: '/signing-keys/rotate', summary: 'Rotate the OAuth signing key now (the old one stays published until its tokens expire)', responses: { 200: { description: 'The new kid and the keys', schema: { type: 'object', properties: { kid: { type: 'string' }, retired: { type: ['string', 'null'] } } } } } });
    router.post(
      '/signing-keys/rotate',
      handle(async (_req, res) => {
        const r = await keys.rotate();
        res.json({ kid: r.kid, retired: r.retired ?? null, retiredPublishedUntil: r.publishUntil?.toISOString() ?? null, keys: await keys.describe() });
      }),
    );
  }
  router.use((req, _res, next) => next(notFound(`No operator endpoint at ${req.path}`)));
  router.use(jsonErrorHandler(deps.logger));
  return router;
}

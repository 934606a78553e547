// Admin API: SCIM clients that authenticate with OAuth 2.0 client credentials (issue 13) —
// /api/v1/scim-clients.
//
//   POST   /scim-clients       {"name", "scopes", "subAccount"?, "tokenLifetimeMinutes"?} → 201 with clientSecret, shown once
//   GET    /scim-clients                                                      → {"scimClients": [...]}
//   GET    /scim-clients/{id}                                                 → one client (no secret)
//   DELETE /scim-clients/{id}                                                 → 204, revoked with its tokens
//
// The client id is the client's id; the secret is 256 random bits of which only the SHA-256 is
// stored. The client gets access tokens at {PUBLIC_URL}/oauth/token (http/oauth-router.ts). Its
// scopes and sub-account binding follow API tokens exactly, with the same rules (admin/tokens.ts):
// a bound credential sees, creates and revokes only clients bound to its own sub-account; a
// client cannot revoke itself. Revocation stops every token of the client at once on this
// instance (the cached lookup is forgotten) and within 5 seconds on the others.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { fieldRule, forbidden, methodNotAllowed, notFound } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { isUuid } from '../scim/members';
import type { AuditRepo } from '../store/audit-repo';
import * as repo from '../store/oauth-repo';
import * as tenancy from '../store/tenancy-repo';
import { inTenant, Tx } from '../store/scope';
import { CLIENT_SCOPES, CLIENT_SECRET_PREFIX, MAX_TOKEN_MINUTES, MIN_TOKEN_MINUTES, ScimClients } from '../oauth/clients';
import { generateToken, hashToken, TOKEN_PREFIX } from '../secrets';
import { AdminRequest, handle } from './admin-router';
import { credentialSchema, parseCredentialBody } from './tokens';

export interface ScimClientRoutesDeps {
  knex: Knex;
  clients: ScimClients;
  clock: () => Date;
  publicUrl: string;
  audit?: Pick<AuditRepo, 'record'>;
}

const FIELDS = ['name', 'scopes', 'subAccount', 'tokenLifetimeMinutes'];
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function scimClientJson(row: repo.ScimClientRow, publicUrl: string) {
  return {
    id: row.id,
    clientId: row.id,
    name: row.name,
    scopes: row.scopes,
    subAccount: row.sub_account_id,
    tokenLifetimeMinutes: row.token_minutes,
    tokenEndpoint: `${publicUrl}/oauth/token`,
    createdAt: iso(row.created_at),
    lastTokenAt: iso(row.last_issued_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    createdBy: row.created_by_user_id ? { type: 'user', id: row.created_by_user_id } : null,
  };
}

export interface NewScimClient {
  name: string;
  scopes: string[];
  subAccountId?: string;
  tokenMinutes: number;
}

/** The creation body (validated before the handler, openapi/describe.ts). */
const SCIM_CLIENT_SCHEMA = credentialSchema(CLIENT_SCOPES, {
  tokenLifetimeMinutes: { type: ['integer', 'null'], minimum: MIN_TOKEN_MINUTES, maximum: MAX_TOKEN_MINUTES, description: 'minutes an access token lives' },
});
const SCIM_CLIENT = { type: 'object', properties: { id: { type: 'string' }, clientId: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'array' }, tokenEndpoint: { type: 'string' } } };

/** A creation body its schema accepted → the client to make. */
export function parseNewScimClient(raw: unknown): NewScimClient {
  const { body, name, scopes, subAccountId } = parseCredentialBody(raw, FIELDS, CLIENT_SCOPES);
  const tokenMinutes = typeof body.tokenLifetimeMinutes === 'number' ? body.tokenLifetimeMinutes : MIN_TOKEN_MINUTES;
  return { name, scopes, subAccountId, tokenMinutes };
}

/** A client secret: like an API token's, with its own prefix so the two are never confused. */
const newSecret = () => CLIENT_SECRET_PREFIX + generateToken().slice(TOKEN_PREFIX.length);

export function scimClientRoutes(deps: ScimClientRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, clients, clock, publicUrl } = deps;
  const audit = async (trx: Tx, req: AdminRequest, at: Date, action: string, targetId: string, changes: Record<string, unknown>) => {
    if (!deps.audit) return;
    const actor = req.scope!.actor;
    await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action, targetType: 'ScimClient', targetId, changes });
  };
  const boundTo = (req: AdminRequest) => req.scope?.actor.subAccountId ?? null;
  const notFoundClient = (id: string) => notFound(`SCIM client ${id} not found`);

  return (router, api) => {
    router.all('/scim-clients', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/scim-clients/:id', (req, _res, next) => next(['GET', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'DELETE'])));

    api.describe(router, {
      method: 'post',
      path: '/scim-clients',
      summary: 'Create a SCIM OAuth client (its secret is answered once)',
      body: { schema: SCIM_CLIENT_SCHEMA, examples: [{ name: 'Okta', scopes: ['scim'], tokenLifetimeMinutes: 60 }] },
      responses: { 201: { description: 'Created, with clientSecret (shown once)', schema: SCIM_CLIENT } },
    });
    router.post(
      '/scim-clients',
      handle(async (req, res) => {
        const now = clock();
        const input = parseNewScimClient(req.body);
        const bound = boundTo(req);
        // As for tokens: checked before the sub-account is looked up, so a bound credential
        // never learns whether a group outside its sub-account exists.
        if (bound && input.subAccountId !== bound.toLowerCase()) {
          throw forbidden(`This credential is bound to sub-account ${bound}: the SCIM clients it creates must have "subAccount": "${bound}"`);
        }
        const secret = newSecret();
        const id = uuidv7();
        const row = await inTenant(knex, req.tenantId!, async (trx) => {
          if (input.subAccountId && (await tenancy.groupKind(trx, req.tenantId!, input.subAccountId)) !== 'subAccount') {
            throw fieldRule('subAccount', 'notFound', 'must be the id of a sub-account group of this tenant');
          }
          const createdByUserId = req.scope!.actor.type === 'user' ? req.scope!.actor.id : undefined;
          await repo.insertClient(trx, req.tenantId!, { id, name: input.name, secretHash: hashToken(secret), scopes: input.scopes, subAccountId: input.subAccountId, tokenMinutes: input.tokenMinutes, createdByUserId, now });
          await audit(trx, req, now, 'scimClient.create', id, {
            set: { name: input.name, scopes: input.scopes, subAccount: input.subAccountId ?? null, tokenLifetimeMinutes: input.tokenMinutes },
          });
          return (await repo.getClient(trx, req.tenantId!, id))!;
        });
        res.status(201).setHeader('Location', `/api/v1/scim-clients/${id}`);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ ...scimClientJson(row, publicUrl), clientSecret: secret });
      }),
    );

    api.describe(router, { method: 'get', path: '/scim-clients', summary: 'List the SCIM OAuth clients (no secrets)', responses: { 200: { description: 'The clients', schema: { type: 'object', properties: { scimClients: { type: 'array', items: SCIM_CLIENT } } } } } });
    router.get(
      '/scim-clients',
      handle(async (req, res) => {
        const rows = await inTenant(knex, req.tenantId!, (trx) => repo.listClients(trx, req.tenantId!, boundTo(req)));
        res.json({ scimClients: rows.map((r) => scimClientJson(r, publicUrl)) });
      }),
    );

    api.describe(router, { method: 'get', path: '/scim-clients/:id', summary: 'Read a SCIM OAuth client', responses: { 200: { description: 'The client', schema: SCIM_CLIENT }, 404: { description: 'No such client' } } });
    router.get(
      '/scim-clients/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const row = isUuid(id) ? await inTenant(knex, req.tenantId!, (trx) => repo.getClient(trx, req.tenantId!, id.toLowerCase(), boundTo(req))) : undefined;
        if (!row) throw notFoundClient(id);
        res.json(scimClientJson(row, publicUrl));
      }),
    );

    api.describe(router, { method: 'delete', path: '/scim-clients/:id', summary: 'Revoke a SCIM OAuth client (not the one calling)', responses: { 204: { description: 'Revoked' }, 404: { description: 'No such client' } } });
    router.delete(
      '/scim-clients/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        if (!isUuid(id)) throw notFoundClient(id);
        const actor = req.scope!.actor;
        if (actor.type === 'scimClient' && actor.id === id.toLowerCase()) throw forbidden('A SCIM client cannot revoke itself: revoke it with another admin credential');
        const at = clock();
        const revoked = await inTenant(knex, req.tenantId!, async (trx) => {
          const r = await repo.revokeClient(trx, req.tenantId!, id.toLowerCase(), at, boundTo(req));
          if (r?.revokedNow) await audit(trx, req, at, 'scimClient.revoke', id.toLowerCase(), {});
          return r;
        });
        if (!revoked) throw notFoundClient(id);
        // After the commit: its tokens are refused from the next request on.
        clients.forget(id.toLowerCase());
        res.status(204).end();
      }),
    );
  };
}

/** The tokens list's other credential kinds (GET /tokens): SCIM clients, and the external issuer for tenant-wide callers. */
export async function otherCredentials(knex: Knex, req: AdminRequest, publicUrl: string): Promise<Record<string, unknown>> {
  const bound = req.scope?.actor.subAccountId ?? null;
  return inTenant(knex, req.tenantId!, async (trx) => {
    const clients = await repo.listClients(trx, req.tenantId!, bound);
    const issuer = bound ? undefined : await repo.getIssuer(trx, req.tenantId!);
    return {
      scimClients: clients.map((r) => scimClientJson(r, publicUrl)),
      ...(bound ? {} : { scimIssuer: issuer ? { kind: issuer.kind, issuer: issuer.issuer, createdAt: iso(issuer.created_at), lastUsedAt: iso(issuer.last_used_at) } : null }),
    };
  });
}

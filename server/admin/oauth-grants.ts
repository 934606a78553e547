// Admin API: authorization grants of SCIM clients (the authorization code grant, oauth/grants.ts)
// — /api/v1/oauth-grants.
//
//   GET    /oauth-grants        → {"oauthGrants": [...]}  newest first, revoked ones included
//   GET    /oauth-grants/{id}   → one grant
//   DELETE /oauth-grants/{id}   → 204; the grant's refresh tokens are deleted and its access
//                                 tokens refused from the next request on (this instance at once,
//                                 others within the 5-second cache)
//
// Grants belong to tenant-wide clients and were consented by tenant admins: a credential bound
// to a sub-account sees none (an empty list, 404 for one), like another tenant's.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { methodNotAllowed, notFound } from '../errors';
import type { OAuthGrants } from '../oauth/grants';
import { isUuid } from '../scim/members';
import * as repo from '../store/oauth-grants-repo';
import { inTenant } from '../store/scope';
import { AdminRequest, handle } from './admin-router';
import type { ApiSection } from '../openapi/describe';
import { list, S, shape } from '../openapi/schema-kit';

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function grantJson(g: repo.GrantListRow) {
  const revokedAt = g.revoked_at ?? g.client_revoked_at;
  return {
    id: g.id,
    client: { id: g.client_id, name: g.client_name },
    // Who consented: the person whose authority the grant carries.
    consentedBy: { type: 'user', id: g.user_id, name: g.user_name },
    scopes: g.scopes,
    createdAt: iso(g.created_at),
    lastUsedAt: iso(g.last_used_at),
    lastRefreshedAt: iso(g.last_refreshed_at),
    // A grant of a revoked client is dead with it.
    revokedAt: iso(revokedAt),
    revokedReason: g.revoked_reason ?? (g.client_revoked_at ? 'client revoked' : null),
  };
}

const GRANT = shape({ id: S, client: { type: 'object' }, consentedBy: { type: 'object' }, scopes: { type: 'array', items: S }, createdAt: S, lastUsedAt: { type: ['string', 'null'] }, lastRefreshedAt: { type: ['string', 'null'] }, revokedAt: { type: ['string', 'null'] }, revokedReason: { type: ['string', 'null'] } });

export function oauthGrantRoutes(deps: { knex: Knex; grants: OAuthGrants }): (router: Router, api: ApiSection) => void {
  const { knex, grants } = deps;
  const bound = (req: AdminRequest) => !!req.scope?.actor.subAccountId;
  const missing = (id: string) => notFound(`OAuth grant ${id} not found`);
  return (router, api) => {
    router.all('/oauth-grants', (req, _res, next) => next(req.method === 'GET' ? undefined : methodNotAllowed(['GET'])));
    router.all('/oauth-grants/:id', (req, _res, next) => next(['GET', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'DELETE'])));

    api.describe(router, { method: 'get', path: '/oauth-grants', summary: 'List the authorization grants of SCIM clients (authorization code), newest first, revoked ones included', responses: { 200: { description: 'The grants', schema: list('oauthGrants', GRANT) } } });
    router.get(
      '/oauth-grants',
      handle(async (req, res) => {
        const rows = bound(req) ? [] : await inTenant(knex, req.tenantId!, (trx) => repo.listGrants(trx, req.tenantId!));
        res.json({ oauthGrants: rows.map(grantJson) });
      }),
    );

    api.describe(router, { method: 'get', path: '/oauth-grants/:id', summary: 'Read one authorization grant', responses: { 200: { description: 'The grant', schema: GRANT }, 404: { description: 'No such grant' } } });
    router.get(
      '/oauth-grants/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const row = isUuid(id) && !bound(req) ? await inTenant(knex, req.tenantId!, (trx) => repo.getGrantListed(trx, req.tenantId!, id.toLowerCase())) : undefined;
        if (!row) throw missing(id);
        res.json(grantJson(row));
      }),
    );

    api.describe(router, { method: 'delete', path: '/oauth-grants/:id', summary: 'Revoke an authorization grant: its refresh tokens go, its access tokens are refused at once', responses: { 204: { description: 'Revoked' }, 404: { description: 'No such grant' } } });
    router.delete(
      '/oauth-grants/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        if (!isUuid(id) || bound(req)) throw missing(id);
        const actor = req.scope!.actor;
        const done = await grants.revoke(req.tenantId!, id.toLowerCase(), { type: actor.type, id: actor.id }, 'revoked by an administrator');
        if (done === undefined) throw missing(id);
        res.status(204).end();
      }),
    );
  };
}

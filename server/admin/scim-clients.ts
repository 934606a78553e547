// Admin API: SCIM clients that authenticate with OAuth 2.0 client credentials (issue 13) —
// /api/v1/scim-clients.
//
//   POST   /scim-clients       {"name", "scopes", "subAccount"?, "tokenLifetimeMinutes"?,
//                                "grantType"?, "redirectUris"?, "requirePkce"?}  → 201 with clientSecret, shown once
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
//
// grantType "authorization_code" (migration 0022; Okta's OAuth 2 option, oauth/grants.ts): the
// client gets tokens only through a tenant admin's consent at {PUBLIC_URL}/oauth/authorize, at one
// of its exact redirectUris (https; plain http only to a loopback host under
// SSO_ALLOW_INSECURE_ISSUERS, the development setting of SSO issuers, sso/oidc.ts parseIssuer).
// Such a client is tenant-wide and only a tenant-wide credential registers one: its grants
// answer to the tenant's admins.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { forbidden, invalidValue, methodNotAllowed, notFound } from '../errors';
import { isUuid } from '../scim/members';
import { isLoopbackHost } from '../sso/network';
import type { AuditRepo } from '../store/audit-repo';
import * as repo from '../store/oauth-repo';
import * as grantsRepo from '../store/oauth-grants-repo';
import { grantJson } from './oauth-grants';
import * as tenancy from '../store/tenancy-repo';
import { inTenant, Tx } from '../store/scope';
import { CLIENT_SCOPES, CLIENT_SECRET_PREFIX, MAX_TOKEN_MINUTES, MIN_TOKEN_MINUTES, ScimClients } from '../oauth/clients';
import { generateToken, hashToken, TOKEN_PREFIX } from '../secrets';
import { AdminRequest, handle } from './admin-router';
import { parseCredentialBody } from './tokens';

export interface ScimClientRoutesDeps {
  knex: Knex;
  clients: ScimClients;
  clock: () => Date;
  publicUrl: string;
  audit?: Pick<AuditRepo, 'record'>;
  /** SSO_ALLOW_INSECURE_ISSUERS: plain-http redirect URIs to a loopback host (development). */
  allowInsecureRedirects?: boolean;
}

const FIELDS = ['name', 'scopes', 'subAccount', 'tokenLifetimeMinutes', 'grantType', 'redirectUris', 'requirePkce'];
const GRANT_TYPES = ['client_credentials', 'authorization_code'] as const;
const MAX_REDIRECT_URIS = 10;
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
    grantType: row.grant_type,
    ...(row.grant_type === 'authorization_code' ? { authorizationEndpoint: `${publicUrl}/oauth/authorize`, redirectUris: row.redirect_uris, requirePkce: row.require_pkce } : {}),
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
  grantType: (typeof GRANT_TYPES)[number];
  redirectUris: string[];
  requirePkce: boolean;
}

/**
 * One redirect URI (RFC 6749 §3.1.2): absolute, no fragment, https — plain http only to a
 * loopback host when the operator allows it for development, the rule of SSO issuers.
 * Compared later as exact strings, so it is kept as given.
 */
function parseRedirectUri(raw: unknown, allowInsecure: boolean): string {
  if (typeof raw !== 'string' || !raw.trim() || raw.length > 1000) throw invalidValue('redirectUris: each must be an absolute https URL of at most 1000 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidValue(`redirectUris: "${raw}" is not an absolute URL`);
  }
  if (raw !== raw.trim()) throw invalidValue('redirectUris: no spaces around a URI');
  if (url.hash || raw.includes('#')) throw invalidValue('redirectUris: a redirect URI must not have a fragment (RFC 6749 §3.1.2)');
  if (url.username || url.password) throw invalidValue('redirectUris: a redirect URI must not carry credentials');
  if (url.protocol === 'https:') return raw;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) {
    if (allowInsecure) return raw;
    throw invalidValue('redirectUris: must use https (plain http is accepted only for a loopback host, and only when the operator enables SSO_ALLOW_INSECURE_ISSUERS for development)');
  }
  throw invalidValue('redirectUris: must use https');
}

/** Validates a creation body; throws invalidValue naming the field at fault. */
export function parseNewScimClient(raw: unknown, opts: { allowInsecureRedirects?: boolean } = {}): NewScimClient {
  const { body, name, scopes, subAccountId } = parseCredentialBody(raw, FIELDS, CLIENT_SCOPES);
  let tokenMinutes = MIN_TOKEN_MINUTES;
  if (body.tokenLifetimeMinutes !== undefined && body.tokenLifetimeMinutes !== null) {
    const m = body.tokenLifetimeMinutes;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < MIN_TOKEN_MINUTES || m > MAX_TOKEN_MINUTES) {
      throw invalidValue(`tokenLifetimeMinutes must be a whole number of minutes from ${MIN_TOKEN_MINUTES} to ${MAX_TOKEN_MINUTES}`);
    }
    tokenMinutes = m;
  }
  const grantType = body.grantType ?? 'client_credentials';
  if (typeof grantType !== 'string' || !(GRANT_TYPES as readonly string[]).includes(grantType)) throw invalidValue(`grantType must be ${GRANT_TYPES.map((g) => `"${g}"`).join(' or ')}`);
  let redirectUris: string[] = [];
  let requirePkce = false;
  if (grantType === 'authorization_code') {
    if (subAccountId) throw invalidValue('subAccount: a client for the authorization code grant is tenant-wide (its grants are consented by the tenant\'s admins)');
    const given = body.redirectUris;
    if (!Array.isArray(given) || !given.length || given.length > MAX_REDIRECT_URIS) throw invalidValue(`redirectUris is required for the authorization code grant: 1 to ${MAX_REDIRECT_URIS} exact URIs`);
    redirectUris = [...new Set(given.map((u) => parseRedirectUri(u, !!opts.allowInsecureRedirects)))];
    if (body.requirePkce !== undefined && typeof body.requirePkce !== 'boolean') throw invalidValue('requirePkce must be true or false');
    requirePkce = body.requirePkce === true;
  } else if (body.redirectUris !== undefined || body.requirePkce !== undefined) {
    throw invalidValue('redirectUris and requirePkce go with "grantType": "authorization_code" only');
  }
  return { name, scopes, subAccountId, tokenMinutes, grantType: grantType as NewScimClient['grantType'], redirectUris, requirePkce };
}

/** A client secret: like an API token's, with its own prefix so the two are never confused. */
const newSecret = () => CLIENT_SECRET_PREFIX + generateToken().slice(TOKEN_PREFIX.length);

export function scimClientRoutes(deps: ScimClientRoutesDeps): (router: Router) => void {
  const { knex, clients, clock, publicUrl } = deps;
  const audit = async (trx: Tx, req: AdminRequest, at: Date, action: string, targetId: string, changes: Record<string, unknown>) => {
    if (!deps.audit) return;
    const actor = req.scope!.actor;
    await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action, targetType: 'ScimClient', targetId, changes });
  };
  const boundTo = (req: AdminRequest) => req.scope?.actor.subAccountId ?? null;
  const notFoundClient = (id: string) => notFound(`SCIM client ${id} not found`);

  return (router) => {
    router.all('/scim-clients', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/scim-clients/:id', (req, _res, next) => next(['GET', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'DELETE'])));

    router.post(
      '/scim-clients',
      handle(async (req, res) => {
        const now = clock();
        const input = parseNewScimClient(req.body, { allowInsecureRedirects: deps.allowInsecureRedirects });
        const bound = boundTo(req);
        if (bound && input.grantType === 'authorization_code') throw forbidden('Only a tenant-wide credential registers a client for the authorization code grant');
        // As for tokens: checked before the sub-account is looked up, so a bound credential
        // never learns whether a group outside its sub-account exists.
        if (bound && input.subAccountId !== bound.toLowerCase()) {
          throw forbidden(`This credential is bound to sub-account ${bound}: the SCIM clients it creates must have "subAccount": "${bound}"`);
        }
        const secret = newSecret();
        const id = uuidv7();
        const row = await inTenant(knex, req.tenantId!, async (trx) => {
          if (input.subAccountId && (await tenancy.groupKind(trx, req.tenantId!, input.subAccountId)) !== 'subAccount') {
            throw invalidValue('subAccount must be the id of a sub-account group of this tenant');
          }
          const createdByUserId = req.scope!.actor.type === 'user' ? req.scope!.actor.id : undefined;
          await repo.insertClient(trx, req.tenantId!, {
            id,
            name: input.name,
            secretHash: hashToken(secret),
            scopes: input.scopes,
            subAccountId: input.subAccountId,
            tokenMinutes: input.tokenMinutes,
            createdByUserId,
            now,
            grantType: input.grantType,
            redirectUris: input.redirectUris,
            requirePkce: input.requirePkce,
          });
          await audit(trx, req, now, 'scimClient.create', id, {
            set: {
              name: input.name,
              scopes: input.scopes,
              subAccount: input.subAccountId ?? null,
              tokenLifetimeMinutes: input.tokenMinutes,
              ...(input.grantType === 'authorization_code' ? { grantType: input.grantType, redirectUris: input.redirectUris, requirePkce: input.requirePkce } : {}),
            },
          });
          return (await repo.getClient(trx, req.tenantId!, id))!;
        });
        res.status(201).setHeader('Location', `/api/v1/scim-clients/${id}`);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ ...scimClientJson(row, publicUrl), clientSecret: secret });
      }),
    );

    router.get(
      '/scim-clients',
      handle(async (req, res) => {
        const rows = await inTenant(knex, req.tenantId!, (trx) => repo.listClients(trx, req.tenantId!, boundTo(req)));
        res.json({ scimClients: rows.map((r) => scimClientJson(r, publicUrl)) });
      }),
    );

    router.get(
      '/scim-clients/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const row = isUuid(id) ? await inTenant(knex, req.tenantId!, (trx) => repo.getClient(trx, req.tenantId!, id.toLowerCase(), boundTo(req))) : undefined;
        if (!row) throw notFoundClient(id);
        res.json(scimClientJson(row, publicUrl));
      }),
    );

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
    // Grants are of tenant-wide clients: a credential bound to a sub-account sees none.
    const grants = bound ? [] : await grantsRepo.listGrants(trx, req.tenantId!);
    return {
      scimClients: clients.map((r) => scimClientJson(r, publicUrl)),
      oauthGrants: grants.map(grantJson),
      ...(bound ? {} : { scimIssuer: issuer ? { kind: issuer.kind, issuer: issuer.issuer, createdAt: iso(issuer.created_at), lastUsedAt: iso(issuer.last_used_at) } : null }),
    };
  });
}

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
import { fieldRule, forbidden, methodNotAllowed, notFound } from '../errors';
import type { ApiSection } from '../openapi/describe';
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
import { credentialSchema, parseCredentialBody } from './tokens';

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
  if (typeof raw !== 'string' || !raw.trim() || raw.length > 1000) throw fieldRule('redirectUris', 'format', 'each must be an absolute https URL of at most 1000 characters');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw fieldRule('redirectUris', 'format', `"${raw}" is not an absolute URL`);
  }
  if (raw !== raw.trim()) throw fieldRule('redirectUris', 'format', 'no spaces around a URI');
  if (url.hash || raw.includes('#')) throw fieldRule('redirectUris', 'format', 'a redirect URI must not have a fragment (RFC 6749 §3.1.2)');
  if (url.username || url.password) throw fieldRule('redirectUris', 'format', 'a redirect URI must not carry credentials');
  if (url.protocol === 'https:') return raw;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) {
    if (allowInsecure) return raw;
    throw fieldRule('redirectUris', 'notAllowedUrl', 'must use https (plain http is accepted only for a loopback host, and only when the operator enables SSO_ALLOW_INSECURE_ISSUERS for development)');
  }
  throw fieldRule('redirectUris', 'notAllowedUrl', 'must use https');
}

/** The creation body (validated before the handler, openapi/describe.ts). */
const SCIM_CLIENT_SCHEMA = credentialSchema(CLIENT_SCOPES, {
  tokenLifetimeMinutes: { type: ['integer', 'null'], minimum: MIN_TOKEN_MINUTES, maximum: MAX_TOKEN_MINUTES, description: 'minutes an access token lives' },
  grantType: { enum: [...GRANT_TYPES], description: 'client_credentials (the default) or authorization_code (Okta\'s OAuth 2 option)' },
  redirectUris: { type: 'array', minItems: 1, maxItems: MAX_REDIRECT_URIS, items: { type: 'string', minLength: 1, maxLength: 1000 }, description: 'authorization_code only: the exact redirect URIs (https)' },
  requirePkce: { type: 'boolean', description: 'authorization_code only: refuse an authorization request without PKCE S256' },
});
const SCIM_CLIENT = { type: 'object', properties: { id: { type: 'string' }, clientId: { type: 'string' }, name: { type: 'string' }, scopes: { type: 'array' }, tokenEndpoint: { type: 'string' }, grantType: { type: 'string' } } };

/**
 * A creation body its schema accepted → the client to make, with the rules across fields a
 * schema does not say: redirect URIs and PKCE go with the authorization code grant, which is
 * tenant-wide (its grants are consented by the tenant's admins).
 */
export function parseNewScimClient(raw: unknown, opts: { allowInsecureRedirects?: boolean } = {}): NewScimClient {
  const { body, name, scopes, subAccountId } = parseCredentialBody(raw, FIELDS, CLIENT_SCOPES);
  const tokenMinutes = typeof body.tokenLifetimeMinutes === 'number' ? body.tokenLifetimeMinutes : MIN_TOKEN_MINUTES;
  const grantType = (body.grantType ?? 'client_credentials') as NewScimClient['grantType'];
  let redirectUris: string[] = [];
  let requirePkce = false;
  if (grantType === 'authorization_code') {
    if (subAccountId) throw fieldRule('subAccount', 'notAllowed', 'is not allowed with the authorization code grant: such a client is tenant-wide (its grants are consented by the tenant\'s admins)');
    if (!Array.isArray(body.redirectUris)) throw fieldRule('redirectUris', 'required', `is required for the authorization code grant: 1 to ${MAX_REDIRECT_URIS} exact URIs`);
    redirectUris = [...new Set((body.redirectUris as string[]).map((u) => parseRedirectUri(u, !!opts.allowInsecureRedirects)))];
    requirePkce = body.requirePkce === true;
  } else {
    for (const f of ['redirectUris', 'requirePkce']) if (body[f] !== undefined) throw fieldRule(f, 'notAllowed', 'goes with "grantType": "authorization_code" only');
  }
  return { name, scopes, subAccountId, tokenMinutes, grantType, redirectUris, requirePkce };
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
      body: { schema: SCIM_CLIENT_SCHEMA, examples: [{ name: 'Okta', scopes: ['scim'], tokenLifetimeMinutes: 60 }, { name: 'Okta (OAuth 2)', scopes: ['scim'], grantType: 'authorization_code', redirectUris: ['https://system-admin.okta.com/admin/app/cpc/provisio/oauth/callback'], requirePkce: true }] },
      responses: { 201: { description: 'Created, with clientSecret (shown once)', schema: SCIM_CLIENT } },
    });
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
            throw fieldRule('subAccount', 'notFound', 'must be the id of a sub-account group of this tenant');
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
    // Grants are of tenant-wide clients: a credential bound to a sub-account sees none.
    const grants = bound ? [] : await grantsRepo.listGrants(trx, req.tenantId!);
    return {
      scimClients: clients.map((r) => scimClientJson(r, publicUrl)),
      oauthGrants: grants.map(grantJson),
      ...(bound ? {} : { scimIssuer: issuer ? { kind: issuer.kind, issuer: issuer.issuer, createdAt: iso(issuer.created_at), lastUsedAt: iso(issuer.last_used_at) } : null }),
    };
  });
}

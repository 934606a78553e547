// Admin API: API tokens (issue 4, "Credentials and scopes") — /api/v1/tokens.
//
//   POST   /tokens       {"name", "scopes", "subAccount"?, "expiresAt"?} → 201 with `token`, shown once
//   GET    /tokens                                                     → {"tokens": [...]} (no secrets)
//   GET    /tokens/{id}                                                → one token (no secret)
//   DELETE /tokens/{id}                                                → 204, revoked
//
// A token is 256 random bits; only its SHA-256 is stored (secrets.ts). The creation
// response carries `Cache-Control: no-store`. Revocation sets revoked_at (the row stays, listed
// with revokedAt, for the record) and evicts the token from this instance's authentication cache
// at once; other instances stop accepting it within the cache TTL (tenancy/authenticator.ts).
//
// Rules for who may do what, kept deliberately simple:
// - A credential bound to a sub-account sees, creates and revokes only tokens bound to exactly
//   that sub-account. Creating a token with another binding, or none (tenant-wide), is 403: a
//   delegated credential can never mint one with more reach than its own. Tokens outside its
//   sub-account are 404 to it, as if they did not exist (listing never shows them).
// - A token cannot revoke itself (403). Revoking is done with another admin credential. So the
//   admin API can never leave a tenant without a working admin credential (recovering one would
//   need the operator), and a script cannot lock itself out by mistake; a leaked token is revoked
//   with any other admin token.
// - Any admin-scoped credential may create tokens with either scope: the `admin` scope is what
//   manages credentials.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { fieldRule, forbidden, methodNotAllowed, notFound } from '../errors';
import { isUuid } from '../scim/members';
import type { ApiSection, JsonSchema } from '../openapi/describe';
import { DATE, DATEN, list, object, S, shape, SN, text, uuid } from '../openapi/schema-kit';
import type { AuditRepo } from '../store/audit-repo';
import * as tenancy from '../store/tenancy-repo';
import { inTenant, Tx } from '../store/scope';
import { TokenInfo, TokensRepo } from '../store/tenants-repo';
import { Authenticator } from '../tenancy/authenticator';
import { generateToken, hashToken } from '../secrets';
import { AdminRequest, handle } from './admin-router';

export interface TokenRoutesDeps {
  knex: Knex;
  tokens: TokensRepo;
  authenticator: Authenticator;
  clock: () => Date;
  /** Where changes are recorded, in the transaction that makes them. */
  audit?: Pick<AuditRepo, 'record'>;
  /** The other credential kinds GET /tokens lists beside the tokens (admin/scim-clients.ts otherCredentials). */
  others?: (req: AdminRequest) => Promise<Record<string, unknown>>;
}

/** `events`: polls the tenant's SCIM event streams (http/events-router.ts, docs/events.md). */
export const TOKEN_SCOPES = ['scim', 'admin', 'events'] as const;
export const MAX_TOKEN_NAME = 200;
const FIELDS = ['name', 'scopes', 'subAccount', 'expiresAt'];
export interface NewToken {
  name: string;
  scopes: string[];
  subAccountId?: string;
  expiresAt?: Date;
}

const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export function tokenJson(row: TokenInfo) {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    subAccount: row.sub_account_id,
    expiresAt: iso(row.expires_at),
    createdAt: iso(row.created_at),
    lastUsedAt: iso(row.last_used_at),
    revokedAt: iso(row.revoked_at),
    createdBy: row.created_by_user_id ? { type: 'user', id: row.created_by_user_id } : null,
  };
}

/**
 * The body schema every credential's creation has (API tokens here, SCIM OAuth clients in
 * scim-clients.ts): only these members, a non-empty `name`, `scopes` from `allowed`, an optional
 * `subAccount` id, and the kind's own members (`more`).
 */
export function credentialSchema(allowed: readonly string[], more: Record<string, JsonSchema>): JsonSchema {
  return object(
    {
      name: text(MAX_TOKEN_NAME, 'trimmed'),
      scopes: { type: 'array', items: { enum: [...allowed] }, minItems: 1 },
      subAccount: { ...uuid('the id of a sub-account group of this tenant'), type: ['string', 'null'] },
      ...more,
    },
    ['name', 'scopes'],
  );
}

/** A creation body its schema (credentialSchema) accepted, as stored: name trimmed, `scopes` in `allowed`'s order, the sub-account id lower-cased. */
export function parseCredentialBody<S extends string>(
  raw: unknown,
  _fields: readonly string[],
  allowed: readonly S[],
): { body: Record<string, unknown>; name: string; scopes: S[]; subAccountId?: string } {
  const body = raw as Record<string, unknown>;
  const given = body.scopes as unknown[];
  const subAccountId = typeof body.subAccount === 'string' ? body.subAccount.toLowerCase() : undefined;
  return { body, name: String(body.name).trim(), scopes: allowed.filter((s) => given.includes(s)), subAccountId };
}

export const TOKEN_SCHEMA = credentialSchema(TOKEN_SCOPES, {
  expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'a date-time with its offset, such as "2030-01-31T00:00:00Z" (RFC 3339), in the future' },
});

/** A creation body its schema accepted → the token to make; "in the future" is the rule a schema cannot say. */
export function parseNewToken(raw: unknown, now: Date): NewToken {
  const { body, name, scopes, subAccountId } = parseCredentialBody(raw, FIELDS, TOKEN_SCOPES);
  let expiresAt: Date | undefined;
  if (typeof body.expiresAt === 'string') {
    const t = Date.parse(body.expiresAt);
    if (t <= now.getTime()) throw fieldRule('expiresAt', 'notFuture', 'must be in the future');
    expiresAt = new Date(t);
  }
  return { name, scopes, subAccountId, expiresAt };
}

const TOKEN = shape({ id: S, name: S, scopes: { type: 'array', items: S }, subAccount: SN, expiresAt: DATEN, createdAt: DATE, lastUsedAt: DATEN, revokedAt: DATEN, createdBy: { type: ['object', 'null'] } });

export function tokenRoutes(deps: TokenRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, tokens, authenticator, clock } = deps;

  const audit = async (trx: Tx, req: AdminRequest, at: Date, action: string, targetId: string, changes: Record<string, unknown>) => {
    if (!deps.audit) return;
    const actor = req.scope!.actor;
    await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action, targetType: 'Token', targetId, changes });
  };
  /** The sub-account the caller is bound to, if any: what it may see of the tokens. */
  const boundTo = (req: AdminRequest) => req.scope?.actor.subAccountId ?? null;
  const notFoundToken = (id: string) => notFound(`Token ${id} not found`);

  return (router, api) => {
    router.all('/tokens', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/tokens/:id', (req, _res, next) => next(['GET', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'DELETE'])));

    api.describe(router, {
      method: 'post',
      path: '/tokens',
      summary: 'Create an API token (its secret is answered once)',
      description: 'A credential bound to a sub-account creates only tokens bound to it (403 otherwise).',
      body: { schema: TOKEN_SCHEMA, examples: [{ name: 'HR sync', scopes: ['scim'] }, { name: 'Portal', scopes: ['admin', 'scim'], expiresAt: '2030-01-31T00:00:00Z' }] },
      responses: { 201: { description: 'Created, with `token` (shown once; Cache-Control: no-store)', schema: { ...TOKEN, properties: { ...(TOKEN.properties as object), token: S } } } },
    });
    router.post(
      '/tokens',
      handle(async (req, res) => {
        const now = clock();
        const input = parseNewToken(req.body, now);
        const bound = boundTo(req);
        // Checked before the sub-account is looked up, so the answer never tells a bound
        // credential whether a group outside its sub-account exists.
        if (bound && input.subAccountId !== bound.toLowerCase()) {
          throw forbidden(`This credential is bound to sub-account ${bound}: the tokens it creates must have "subAccount": "${bound}"`);
        }
        const token = generateToken();
        const id = uuidv7();
        const row = await inTenant(knex, req.tenantId!, async (trx) => {
          if (input.subAccountId) {
            if ((await tenancy.groupKind(trx, req.tenantId!, input.subAccountId)) !== 'subAccount') throw fieldRule('subAccount', 'notFound', 'must be the id of a sub-account group of this tenant');
          }
          // A person's token lives on their rights (resources/authority.ts tokenStillEmpowered).
          const createdByUserId = req.scope!.actor.type === 'user' ? req.scope!.actor.id : undefined;
          await tokens.insert(trx, req.tenantId!, { id, name: input.name, tokenHash: hashToken(token), scopes: input.scopes, subAccountId: input.subAccountId, expiresAt: input.expiresAt, createdByUserId });
          await audit(trx, req, now, 'token.create', id, {
            set: { name: input.name, scopes: input.scopes, subAccount: input.subAccountId ?? null, expiresAt: input.expiresAt?.toISOString() ?? null },
          });
          return (await tokens.get(trx, req.tenantId!, id))!;
        });
        res.status(201).setHeader('Location', `/api/v1/tokens/${id}`);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ ...tokenJson(row), token });
      }),
    );

    api.describe(router, { method: 'get', path: '/tokens', summary: 'List the API tokens (no secrets), with the SCIM clients and the external issuer', responses: { 200: { description: 'The tokens', schema: list('tokens', TOKEN) } } });
    router.get(
      '/tokens',
      handle(async (req, res) => {
        const rows = await inTenant(knex, req.tenantId!, (trx) => tokens.list(trx, req.tenantId!, boundTo(req)));
        res.json({ tokens: rows.map(tokenJson), ...(deps.others ? await deps.others(req) : {}) });
      }),
    );

    api.describe(router, { method: 'get', path: '/tokens/:id', summary: 'Read an API token (no secret)', responses: { 200: { description: 'The token', schema: TOKEN }, 404: { description: 'No such token' } } });
    router.get(
      '/tokens/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const row = isUuid(id) ? await inTenant(knex, req.tenantId!, (trx) => tokens.get(trx, req.tenantId!, id.toLowerCase(), boundTo(req))) : undefined;
        if (!row) throw notFoundToken(id);
        res.json(tokenJson(row));
      }),
    );

    api.describe(router, { method: 'delete', path: '/tokens/:id', summary: 'Revoke an API token (not the one calling)', responses: { 204: { description: 'Revoked' }, 404: { description: 'No such token' } } });
    router.delete(
      '/tokens/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        if (!isUuid(id)) throw notFoundToken(id);
        const actor = req.scope!.actor;
        if (actor.type === 'token' && actor.id === id.toLowerCase()) {
          throw forbidden('A token cannot revoke itself: revoke it with another admin credential');
        }
        const at = clock();
        const revoked = await inTenant(knex, req.tenantId!, async (trx) => {
          const r = await tokens.revoke(trx, req.tenantId!, id.toLowerCase(), at, boundTo(req));
          if (r?.revokedNow) await audit(trx, req, at, 'token.revoke', id.toLowerCase(), {});
          return r;
        });
        if (!revoked) throw notFoundToken(id);
        // After the commit: a lookup from now on reads the revocation; one in flight is not cached.
        authenticator.forget(revoked.tokenHash);
        res.status(204).end();
      }),
    );
  };
}

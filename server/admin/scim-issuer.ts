// Admin API: the one external issuer whose tokens a tenant's SCIM API accepts (issue 13,
// "Entra-issued tokens") — /api/v1/scim-issuer, tenant-wide credentials only.
//
//   GET    /scim-issuer   → the issuer, or 404 when none is trusted
//   PUT    /scim-issuer   {"entraTenantId", "audience"?}                              → 200, Microsoft Entra ID
//                         {"issuer", "jwksUrl", "audience", "claim": {"name", "value"}} → 200, any issuer
//   DELETE /scim-issuer   → 204; its tokens stop at once on this instance, within 5 s on others
//
// Both URLs must keep to the outbound rules of sso/network.ts (https; public addresses; plain
// http and loopback only with the development settings), checked here and again at every fetch.
// The JWKS is fetched when a token first needs it (oauth/external.ts), not here. Changes are
// audited (scimIssuer.set, scimIssuer.clear).
import type { Knex } from 'knex';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { fieldRule, methodNotAllowed, notFound } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { object, text, URL_WITHOUT_CREDENTIALS, uuid } from '../openapi/schema-kit';
import type { AuditRepo } from '../store/audit-repo';
import * as repo from '../store/oauth-repo';
import { inTenant } from '../store/scope';
import { ENTRA_SCIM_AUDIENCE, entraIssuer, entraJwksUrl, ExternalIssuers } from '../oauth/external';
import { checkScheme, egressDetail, EgressRules, pickAddress } from '../sso/network';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';

export interface ScimIssuerRoutesDeps {
  knex: Knex;
  issuers: ExternalIssuers;
  egress: EgressRules;
  clock: () => Date;
  logger: Logger;
  audit?: Pick<AuditRepo, 'record'>;
}

const MAX_TEXT = 400;
const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);

export interface IssuerInput {
  kind: 'entra' | 'custom';
  issuer: string;
  jwksUrl: string;
  audience: string;
  claimName: string;
  claimValue: string;
}

export function issuerJson(row: repo.IssuerRow) {
  return {
    kind: row.kind,
    ...(row.kind === 'entra' ? { entraTenantId: row.claim_value } : {}),
    issuer: row.issuer,
    jwksUrl: row.jwks_url,
    audience: row.audience,
    claim: { name: row.claim_name, value: row.claim_value },
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    lastUsedAt: iso(row.last_used_at),
  };
}

const TEXT = text(MAX_TEXT);
const URL_SCHEMA = { type: 'string', format: 'uri', maxLength: MAX_TEXT, pattern: URL_WITHOUT_CREDENTIALS, description: 'an absolute URL without credentials or a fragment' };
/**
 * The PUT body (openapi/describe.ts validates it before the handler): Microsoft Entra ID by its
 * tenant id, or any issuer with the claim that names this tenant's own tenancy there — without
 * one, any customer of a multi-tenant issuer could get a token for this audience and provision here.
 */
export const ISSUER_SCHEMA = {
  type: 'object',
  if: { required: ['entraTenantId'] },
  then: object({ entraTenantId: uuid('the Entra tenant (directory) id, a UUID'), audience: TEXT }, ['entraTenantId']),
  else: object({ issuer: URL_SCHEMA, jwksUrl: URL_SCHEMA, audience: TEXT, claim: object({ name: TEXT, value: TEXT }, ['name', 'value']) }, ['issuer', 'jwksUrl', 'audience', 'claim']),
};

/** A PUT body its schema accepted → the issuer to trust (the URLs' addresses are checked by the route). */
export function parseIssuer(raw: unknown): IssuerInput {
  const body = raw as Record<string, unknown>;
  const audience = typeof body.audience === 'string' ? body.audience.trim() : undefined;
  if (typeof body.entraTenantId === 'string') {
    const tid = body.entraTenantId.toLowerCase();
    return { kind: 'entra', issuer: entraIssuer(tid), jwksUrl: entraJwksUrl(tid), audience: audience ?? ENTRA_SCIM_AUDIENCE, claimName: 'tid', claimValue: tid };
  }
  const claim = body.claim as Record<string, string>;
  return { kind: 'custom', issuer: String(body.issuer), jwksUrl: String(body.jwksUrl), audience: audience!, claimName: claim.name.trim(), claimValue: claim.value.trim() };
}

const ISSUER = { type: 'object', properties: { kind: { enum: ['entra', 'custom'] }, entraTenantId: { type: 'string' }, issuer: { type: 'string' }, jwksUrl: { type: 'string' }, audience: { type: 'string' }, claim: { type: 'object' } } };

export function scimIssuerRoutes(deps: ScimIssuerRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, issuers, clock } = deps;

  /** The outbound rules, with a message that names no address or port (sso/network.ts explains why). */
  const checkUrls = async (input: IssuerInput) => {
    for (const [field, raw] of [['issuer', input.issuer], ['jwksUrl', input.jwksUrl]] as const) {
      const u = new URL(raw);
      try {
        checkScheme(u, deps.egress.allowInsecure);
        if (field === 'jwksUrl') await pickAddress(u.hostname, deps.egress);
      } catch (err) {
        deps.logger.info({ field, detail: egressDetail(err) }, 'external issuer URL refused');
        throw fieldRule(field, 'notAllowedUrl', `is not a URL this server may use: https, on a public address (docs/entra.md, "Network rules")`);
      }
    }
  };

  return (router, api) => {
    tenantWideOnly(router, '/scim-issuer');
    router.all('/scim-issuer', (req, _res, next) => next(['GET', 'PUT', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PUT', 'DELETE'])));

    api.describe(router, { method: 'get', path: '/scim-issuer', summary: "The external issuer whose tokens this tenant's SCIM API accepts", responses: { 200: { description: 'The issuer', schema: ISSUER }, 404: { description: 'None is trusted' } } });
    router.get(
      '/scim-issuer',
      handle(async (req, res) => {
        const row = await inTenant(knex, req.tenantId!, (trx) => repo.getIssuer(trx, req.tenantId!));
        if (!row) throw notFound('This tenant trusts no external issuer for SCIM');
        res.json(issuerJson(row));
      }),
    );

    api.describe(router, {
      method: 'put',
      path: '/scim-issuer',
      summary: 'Trust an external issuer for SCIM (Microsoft Entra ID, or any)',
      body: {
        schema: ISSUER_SCHEMA,
        examples: [
          { entraTenantId: '6f1f7c2e-3b4a-4d5e-8f90-0a1b2c3d4e5f' },
          { issuer: 'https://idp.example.com', jwksUrl: 'https://idp.example.com/jwks', audience: 'provisio', claim: { name: 'tid', value: 'acme' } },
        ],
      },
      responses: { 200: { description: 'The issuer', schema: ISSUER } },
    });
    router.put(
      '/scim-issuer',
      handle(async (req: AdminRequest, res) => {
        const input = parseIssuer(req.body);
        if (input.kind === 'custom') await checkUrls(input);
        const now = clock();
        const row = await inTenant(knex, req.tenantId!, async (trx) => {
          const saved = await repo.putIssuer(trx, req.tenantId!, { ...input, now });
          const actor = req.scope!.actor;
          await deps.audit?.record(trx, req.tenantId!, now, {
            actorType: actor.type,
            actorId: actor.id,
            action: 'scimIssuer.set',
            targetType: 'Tenant',
            targetId: req.tenantId!,
            changes: { set: { kind: input.kind, issuer: input.issuer, jwksUrl: input.jwksUrl, audience: input.audience, claim: { name: input.claimName, value: input.claimValue } } },
          });
          return saved;
        });
        issuers.forget(req.tenantId!);
        res.json(issuerJson(row));
      }),
    );

    api.describe(router, { method: 'delete', path: '/scim-issuer', summary: 'Stop trusting the external issuer', responses: { 204: { description: 'Removed' }, 404: { description: 'None is trusted' } } });
    router.delete(
      '/scim-issuer',
      handle(async (req: AdminRequest, res) => {
        const now = clock();
        const removed = await inTenant(knex, req.tenantId!, async (trx) => {
          const r = await repo.deleteIssuer(trx, req.tenantId!);
          const actor = req.scope!.actor;
          if (r) await deps.audit?.record(trx, req.tenantId!, now, { actorType: actor.type, actorId: actor.id, action: 'scimIssuer.clear', targetType: 'Tenant', targetId: req.tenantId!, changes: { issuer: r.issuer } });
          return r;
        });
        if (!removed) throw notFound('This tenant trusts no external issuer for SCIM');
        issuers.forget(req.tenantId!);
        res.status(204).end();
      }),
    );
  };
}

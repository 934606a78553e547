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
import { invalidValue, methodNotAllowed, notFound } from '../errors';
import { isUuid } from '../scim/members';
import { isObject } from '../scim/normalize';
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

const text = (body: Record<string, unknown>, name: string, required: boolean): string | undefined => {
  const v = body[name];
  if (v === undefined || v === null) {
    if (required) throw invalidValue(`${name} is required`);
    return undefined;
  }
  if (typeof v !== 'string' || !v.trim()) throw invalidValue(`${name} must be a non-empty string`);
  if (v.length > MAX_TEXT) throw invalidValue(`${name} must be at most ${MAX_TEXT} characters`);
  return v.trim();
};

/** Validates a PUT body (pure; the URLs' addresses are checked by the route). */
export function parseIssuer(body: unknown): IssuerInput {
  if (!isObject(body)) throw invalidValue('The body must be a JSON object: {"entraTenantId"} or {"issuer", "jwksUrl", "audience", "claim"}');
  if (body.entraTenantId !== undefined) {
    const unknown = Object.keys(body).filter((k) => !['entraTenantId', 'audience'].includes(k));
    if (unknown.length) throw invalidValue(`With entraTenantId, only audience may be given; not ${unknown.map((k) => `"${k}"`).join(', ')}`);
    if (!isUuid(body.entraTenantId)) throw invalidValue('entraTenantId must be the Entra tenant (directory) id, a UUID');
    const tid = body.entraTenantId.toLowerCase();
    return { kind: 'entra', issuer: entraIssuer(tid), jwksUrl: entraJwksUrl(tid), audience: text(body, 'audience', false) ?? ENTRA_SCIM_AUDIENCE, claimName: 'tid', claimValue: tid };
  }
  const unknown = Object.keys(body).filter((k) => !['issuer', 'jwksUrl', 'audience', 'claim'].includes(k));
  if (unknown.length) throw invalidValue(`Unknown attribute ${unknown.map((k) => `"${k}"`).join(', ')}; accepted: entraTenantId and audience, or issuer, jwksUrl, audience and claim`);
  const issuer = text(body, 'issuer', true)!;
  const jwksUrl = text(body, 'jwksUrl', true)!;
  const audience = text(body, 'audience', true)!;
  // Without a claim that names the tenant's own tenancy at the issuer, any customer of a
  // multi-tenant issuer could get a token for this audience and provision here.
  if (!isObject(body.claim)) throw invalidValue('claim is required: {"name": "<claim>", "value": "<the value it must have>"}, e.g. {"name": "tid", "value": "<your IdP tenant id>"}');
  const claim = body.claim as Record<string, unknown>;
  const extra = Object.keys(claim).filter((k) => !['name', 'value'].includes(k));
  if (extra.length) throw invalidValue('claim has only name and value');
  const claimName = text(claim, 'name', true)!;
  const claimValue = text(claim, 'value', true)!;
  for (const [field, raw] of [['issuer', issuer], ['jwksUrl', jwksUrl]]) {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw invalidValue(`${field} must be an absolute URL`);
    }
    if (u.username || u.password || u.hash) throw invalidValue(`${field} must not carry credentials or a fragment`);
  }
  return { kind: 'custom', issuer, jwksUrl, audience, claimName, claimValue };
}

export function scimIssuerRoutes(deps: ScimIssuerRoutesDeps): (router: Router) => void {
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
        throw invalidValue(`${field} is not a URL this server may use: https, on a public address (docs/entra.md, "Network rules")`);
      }
    }
  };

  return (router) => {
    tenantWideOnly(router, '/scim-issuer');
    router.all('/scim-issuer', (req, _res, next) => next(['GET', 'PUT', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PUT', 'DELETE'])));

    router.get(
      '/scim-issuer',
      handle(async (req, res) => {
        const row = await inTenant(knex, req.tenantId!, (trx) => repo.getIssuer(trx, req.tenantId!));
        if (!row) throw notFound('This tenant trusts no external issuer for SCIM');
        res.json(issuerJson(row));
      }),
    );

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

// Admin API: SSO connections (issue 5, "OIDC with the tenant's IdP") — /api/v1/sso-connections.
//
//   POST   /sso-connections       {"issuer","clientId","clientSecret","emailDomains":[…],"trustEmail"?} → 201 the connection
//   GET    /sso-connections                                 → {"ssoConnections": [...]}
//   GET    /sso-connections/{id}                            → the connection
//   PATCH  /sso-connections/{id}  any of the fields above (clientSecret: replaced) → 200 the connection
//   DELETE /sso-connections/{id}                            → 204 (its domains and linked identities go too)
//
// A connection answers {id, issuer, clientId, emailDomains, trustEmail, redirectUri, createdAt,
// updatedAt}; the client secret is sealed with the server key (security/keys.ts) and never
// returned, logged or audited. The issuer must answer discovery for itself before it is stored
// (400 with the reason otherwise). An email domain belongs to one connection across all tenants:
// a taken domain is 409 in words that never say whose it is. Tenant-wide credentials only.
// Another tenant's connection is 404 like a missing one. docs/sso.md; test/api/sso.test.ts.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { domainToASCII } from 'node:url';
import { invalidValue, methodNotAllowed, notFound, uniqueness } from '../errors';
import { isObject } from '../scim/normalize';
import { isUniqueViolation } from '../store/db';
import type { AuditRepo } from '../store/audit-repo';
import { inTenant, Tx } from '../store/scope';
import type { SsoConnectionRow } from '../sso/connections-repo';
import { IssuerError, OidcConnections, parseIssuer } from '../sso/oidc';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';

export interface SsoConnectionRoutesDeps {
  knex: Knex;
  sso: OidcConnections;
  clock: () => Date;
  audit?: Pick<AuditRepo, 'record'>;
}

const FIELDS = ['issuer', 'clientId', 'clientSecret', 'emailDomains', 'trustEmail'];
const MAX_DOMAINS = 100;
const MAX_TEXT = 1000;
// RFC 1035 §2.3.1 labels (letters, digits, inner hyphens, ≤ 63), at least two of them, ≤ 253 in
// all; internationalized names are taken in their A-label form (punycode).
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function ssoConnectionJson(row: SsoConnectionRow, sso: OidcConnections) {
  return {
    id: row.id,
    issuer: row.issuer,
    clientId: row.client_id,
    emailDomains: row.email_domains,
    trustEmail: row.trust_email === true,
    redirectUri: sso.redirectUri(row.id),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function parseBody(body: unknown): Record<string, unknown> {
  if (!isObject(body)) throw invalidValue(`The body must be a JSON object with ${FIELDS.join(', ')}`);
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw invalidValue(`Unknown attribute ${unknown.map((k) => `"${k}"`).join(', ')}; accepted: ${FIELDS.join(', ')}`);
  return body;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || !value.trim()) throw invalidValue(`${name} is required and must be a non-empty string`);
  if (value.length > MAX_TEXT) throw invalidValue(`${name} must be at most ${MAX_TEXT} characters`);
  return value.trim();
}

function issuerOf(value: unknown): string {
  try {
    return parseIssuer(typeof value === 'string' && value.length > MAX_TEXT ? '' : value).href;
  } catch (err) {
    if (err instanceof IssuerError) throw invalidValue(err.message);
    throw err;
  }
}

/** A domain name as stored: lower case, A-labels, no trailing dot. Exported for the unit of the rule. */
export function parseDomain(value: unknown): string {
  if (typeof value !== 'string' || !value.trim()) throw invalidValue('emailDomains must contain domain names such as "acme.com"');
  const raw = value.trim().toLowerCase().replace(/\.$/, '');
  if (raw.includes('@') || raw.includes('/') || raw.includes(':')) throw invalidValue(`"${value}" is not a domain name (write "acme.com", not an address or URL)`);
  const ascii = domainToASCII(raw);
  const labels = ascii.split('.');
  if (!ascii || ascii.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l)) || /^\d+$/.test(labels[labels.length - 1])) {
    throw invalidValue(`"${value}" is not a valid domain name`);
  }
  return ascii;
}

function domainsOf(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) throw invalidValue('emailDomains must be a non-empty array of domain names, such as ["acme.com"]');
  if (value.length > MAX_DOMAINS) throw invalidValue(`emailDomains may list at most ${MAX_DOMAINS} domains`);
  return [...new Set(value.map(parseDomain))];
}

function flag(value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidValue('trustEmail must be true or false');
  return value;
}

const notFoundConnection = (id: string) => notFound(`SSO connection ${id} not found`);
/** Generic on purpose: the domain may belong to another tenant, which must not be named. */
const domainTaken = (domains: string[]) =>
  uniqueness(`The email domain${domains.length > 1 ? 's' : ''} ${domains.map((d) => `"${d}"`).join(', ')} ${domains.length > 1 ? 'are' : 'is'} already used by another SSO connection`);

export function ssoConnectionRoutes(deps: SsoConnectionRoutesDeps): (router: Router) => void {
  const { knex, sso, clock } = deps;
  const repo = sso.repo;

  const audit = async (trx: Tx, req: AdminRequest, at: Date, action: string, targetId: string, changes: Record<string, unknown>) => {
    if (!deps.audit) return;
    const actor = req.scope!.actor;
    await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action, targetType: 'SsoConnection', targetId, changes });
  };

  /** The IdP must answer discovery for this issuer; its spelling of the issuer is what we keep. */
  const probe = async (c: { issuer: string; clientId: string; clientSecret: string }): Promise<string> => {
    try {
      return await sso.probe(c);
    } catch (err) {
      if (err instanceof IssuerError) throw invalidValue(err.message);
      throw err;
    }
  };

  /** Refuses domains another connection holds (checked first for a clear answer; the unique key decides races). */
  const checkDomains = async (domains: string[] | undefined, connectionId?: string) => {
    if (!domains) return;
    const taken = await repo.claimedDomains(knex, domains, connectionId);
    if (taken.length) throw domainTaken(taken);
  };

  const write = async <T>(req: AdminRequest, domains: string[] | undefined, fn: (trx: Tx) => Promise<T>): Promise<T> => {
    try {
      return await inTenant(knex, req.tenantId!, fn);
    } catch (err) {
      if (domains && isUniqueViolation(err, 'sso_domains_pkey')) throw domainTaken(domains);
      throw err;
    }
  };

  return (router) => {
    tenantWideOnly(router, '/sso-connections');
    router.all('/sso-connections', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/sso-connections/:id', (req, _res, next) =>
      next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])),
    );

    router.get(
      '/sso-connections',
      handle(async (req, res) => {
        const rows = await inTenant(knex, req.tenantId!, (trx) => repo.list(trx, req.tenantId!));
        res.json({ ssoConnections: rows.map((r) => ssoConnectionJson(r, sso)) });
      }),
    );

    router.post(
      '/sso-connections',
      handle(async (req, res) => {
        const body = parseBody(req.body);
        const issuer = issuerOf(body.issuer);
        const clientId = text(body.clientId, 'clientId');
        const clientSecret = text(body.clientSecret, 'clientSecret');
        const emailDomains = domainsOf(body.emailDomains);
        const trustEmail = body.trustEmail === undefined ? false : flag(body.trustEmail);
        await checkDomains(emailDomains);
        const canonical = await probe({ issuer, clientId, clientSecret });
        const at = clock();
        const row = await write(req, emailDomains, async (trx) => {
          const created = await repo.insert(trx, req.tenantId!, {
            id: uuidv7(),
            issuer: canonical,
            clientId,
            clientSecretSealed: sso.sealSecret(clientSecret),
            emailDomains,
            trustEmail,
            at,
          });
          await audit(trx, req, at, 'ssoConnection.create', created.id, { set: { issuer: canonical, clientId, emailDomains, trustEmail } });
          return created;
        });
        res.status(201).setHeader('Location', `/api/v1/sso-connections/${row.id}`);
        res.json(ssoConnectionJson(row, sso));
      }),
    );

    router.get(
      '/sso-connections/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const row = await inTenant(knex, req.tenantId!, (trx) => repo.get(trx, req.tenantId!, id));
        if (!row) throw notFoundConnection(id);
        res.json(ssoConnectionJson(row, sso));
      }),
    );

    router.patch(
      '/sso-connections/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const body = parseBody(req.body);
        if (!Object.keys(body).length) throw invalidValue(`Nothing to change: send any of ${FIELDS.join(', ')}`);
        const issuer = body.issuer !== undefined ? issuerOf(body.issuer) : undefined;
        const clientId = body.clientId !== undefined ? text(body.clientId, 'clientId') : undefined;
        const clientSecret = body.clientSecret !== undefined ? text(body.clientSecret, 'clientSecret') : undefined;
        const emailDomains = body.emailDomains !== undefined ? domainsOf(body.emailDomains) : undefined;
        const trustEmail = body.trustEmail !== undefined ? flag(body.trustEmail) : undefined;

        const current = await inTenant(knex, req.tenantId!, (trx) => repo.get(trx, req.tenantId!, id));
        if (!current) throw notFoundConnection(id);
        await checkDomains(emailDomains, current.id);
        // A new issuer, client or secret must work before it replaces one that does.
        let canonical: string | undefined;
        if (issuer !== undefined || clientId !== undefined || clientSecret !== undefined) {
          const opened = sso.open(current);
          canonical = await probe({ issuer: issuer ?? opened.issuer, clientId: clientId ?? opened.clientId, clientSecret: clientSecret ?? opened.clientSecret });
        }
        const at = clock();
        const row = await write(req, emailDomains, async (trx) => {
          const existing = await repo.get(trx, req.tenantId!, id, true);
          if (!existing) throw notFoundConnection(id);
          const set: Record<string, unknown> = {};
          const changes: Parameters<typeof repo.update>[3] = {};
          if (canonical !== undefined && canonical !== existing.issuer) changes.issuer = set.issuer = canonical;
          if (clientId !== undefined && clientId !== existing.client_id) changes.clientId = set.clientId = clientId;
          if (clientSecret !== undefined) {
            changes.clientSecretSealed = sso.sealSecret(clientSecret);
            set.clientSecret = '(replaced)';
          }
          if (emailDomains !== undefined && emailDomains.join('\n') !== existing.email_domains.join('\n')) changes.emailDomains = set.emailDomains = emailDomains;
          if (trustEmail !== undefined && trustEmail !== existing.trust_email) changes.trustEmail = set.trustEmail = trustEmail;
          if (!Object.keys(changes).length) return existing;
          const updated = await repo.update(trx, req.tenantId!, existing.id, changes, at);
          // OIDC Core §2: `sub` is unique only within its issuer; links made with the old one
          // could name someone else at the new one.
          let unlinked = 0;
          if (changes.issuer !== undefined) unlinked = await repo.unlinkAll(trx, req.tenantId!, existing.id);
          await audit(trx, req, at, 'ssoConnection.update', existing.id, { set, ...(unlinked ? { identitiesUnlinked: unlinked } : {}) });
          return updated;
        });
        sso.invalidate(row.id);
        res.json(ssoConnectionJson(row, sso));
      }),
    );

    router.delete(
      '/sso-connections/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const at = clock();
        await inTenant(knex, req.tenantId!, async (trx) => {
          const existing = await repo.get(trx, req.tenantId!, id, true);
          if (!existing) throw notFoundConnection(id);
          await repo.delete(trx, req.tenantId!, existing.id);
          await audit(trx, req, at, 'ssoConnection.delete', existing.id, { issuer: existing.issuer, emailDomains: existing.email_domains });
        });
        sso.invalidate(id.toLowerCase());
        res.status(204).end();
      }),
    );
  };
}

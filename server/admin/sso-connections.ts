// Admin API: SSO connections (issue 5, "OIDC with the tenant's IdP") — /api/v1/sso-connections.
//
//   POST   /sso-connections       {"issuer","clientId","clientSecret","emailDomains":[…],"trustEmail"?,"requireSso"?} → 201 the connection
//   GET    /sso-connections                                 → {"ssoConnections": [...]}
//   GET    /sso-connections/{id}                            → the connection
//   PATCH  /sso-connections/{id}  any of the fields above (clientSecret: replaced) → 200 the connection
//   DELETE /sso-connections/{id}                            → 204 (its domains and linked identities go too)
//   POST   /sso-connections/{id}/domains/{domain}/verify    → 200 the domain's state, or 400 with why not
//
// A connection answers {id, issuer, clientId, emailDomains, domains, trustEmail, requireSso,
// redirectUri, createdAt, updatedAt}; `domains` gives each domain's proof state and the DNS TXT
// record that proves it (sso/domains.ts, issue 9 point 7). The client secret is sealed with the
// server key (security/keys.ts) and never returned, logged or audited. The issuer must answer
// discovery for itself, over the network rules of sso/network.ts, before it is stored (400 with
// a reason that names no network detail otherwise). A domain another tenant has proven, or that
// another connection of this tenant holds, is 409 in words that never say whose it is; an
// unproven claim elsewhere blocks nobody. Public mail domains are 400. Tenant-wide credentials
// only. Another tenant's connection is 404 like a missing one. docs/sso.md; test/api/sso.test.ts,
// test/api/sso-domains.test.ts.
import type { Knex } from 'knex';
import type { Router } from 'express';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { domainToASCII } from 'node:url';
import { fieldRule, invalidValue, methodNotAllowed, notFound, onField, ScimError, uniqueness } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { bool, DATE, DATEN, list, object, patch, S, shape, text } from '../openapi/schema-kit';
import type { Actor } from '../resources/service';
import { isUniqueViolation } from '../store/db';
import type { AuditRepo } from '../store/audit-repo';
import { inTenant, Tx } from '../store/scope';
import type { SsoConnectionRow, SsoDomainRow } from '../store/sso-repo';
import { checkProof, isPublicMailDomain, newChallenge, proofRecord } from '../sso/domains';
import type { IdentityLinks } from '../sso/identities';
import type { NameResolver } from '../sso/network';
import { IssuerError, OidcConnections, parseIssuer } from '../sso/oidc';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';

export interface SsoConnectionRoutesDeps {
  knex: Knex;
  sso: OidcConnections;
  clock: () => Date;
  audit?: Pick<AuditRepo, 'record'>;
  /** Every link removed with a connection or an issuer change is audited per person. */
  links: IdentityLinks;
  /** The operator's DNS (DNS_SERVERS), where domain proofs are read. */
  resolver: NameResolver;
  logger?: Logger;
}

const MAX_DOMAINS = 100;
const MAX_TEXT = 1000;
// RFC 1035 §2.3.1 labels (letters, digits, inner hyphens, ≤ 63), at least two of them, ≤ 253 in
// all; internationalized names are taken in their A-label form (punycode).
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A claimed domain's state: proven or not, and the record that proves it. */
export function domainJson(d: SsoDomainRow) {
  return { domain: d.domain, verified: d.verified_at !== null, verifiedAt: d.verified_at ? new Date(d.verified_at).toISOString() : null, record: proofRecord(d.domain, d.challenge) };
}

export function ssoConnectionJson(row: SsoConnectionRow, domains: SsoDomainRow[], sso: OidcConnections) {
  const byName = new Map(domains.filter((d) => d.connection_id === row.id).map((d) => [d.domain, d]));
  return {
    id: row.id,
    issuer: row.issuer,
    clientId: row.client_id,
    emailDomains: row.email_domains,
    domains: row.email_domains.filter((d) => byName.has(d)).map((d) => domainJson(byName.get(d)!)),
    trustEmail: row.trust_email === true,
    requireSso: row.require_sso === true,
    redirectUri: sso.redirectUri(row.id),
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

/** The bodies (openapi/describe.ts validates them before the handlers); the issuer and domains are then read by their own rules. */
const CONNECTION_FIELDS = {
  issuer: { type: 'string', minLength: 1, maxLength: MAX_TEXT, description: "the IdP's issuer URL (https), answering OIDC discovery" },
  clientId: text(MAX_TEXT),
  clientSecret: { ...text(MAX_TEXT), description: 'sealed, never returned' },
  emailDomains: { type: 'array', minItems: 1, maxItems: MAX_DOMAINS, items: { type: 'string', minLength: 1, maxLength: 253 }, description: 'the email domains whose people sign in here, such as ["acme.com"]' },
  trustEmail: bool(),
  requireSso: bool('people of these domains may only sign in with SSO'),
};
const NEW_CONNECTION = object(CONNECTION_FIELDS, ['issuer', 'clientId', 'clientSecret', 'emailDomains']);
const CONNECTION_PATCH = patch(CONNECTION_FIELDS);
const CONNECTION = shape({ id: S, issuer: S, clientId: S, emailDomains: { type: 'array', items: S }, domains: { type: 'array', items: { type: 'object' } }, trustEmail: { type: 'boolean' }, requireSso: { type: 'boolean' }, redirectUri: S, createdAt: DATE, updatedAt: DATE });
const DOMAIN = shape({ domain: S, verified: { type: 'boolean' }, verifiedAt: DATEN, record: { type: 'object' } });

function issuerOf(value: unknown, allowInsecure: boolean): string {
  try {
    return parseIssuer(typeof value === 'string' && value.length > MAX_TEXT ? '' : value, { allowInsecure }).href;
  } catch (err) {
    if (err instanceof IssuerError) throw fieldRule('issuer', 'issuer', err.message);
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
  // Nobody's organisation owns a public mail domain: a claim would route strangers (issue 9 point 7).
  if (isPublicMailDomain(ascii)) throw invalidValue(`"${ascii}" is a public email domain: it cannot be claimed for SSO`);
  return ascii;
}

/** The domains of a body the schema accepted, as stored; one that is no domain a connection may claim is a field error (code domain). */
function domainsOf(value: unknown): string[] {
  try {
    return [...new Set((value as unknown[]).map(parseDomain))];
  } catch (err) {
    if (err instanceof ScimError && err.status === 400) throw fieldRule('emailDomains', 'domain', err.message);
    throw err;
  }
}

const notFoundConnection = (id: string) => notFound(`SSO connection ${id} not found`);
const onFieldTaken = (detail: string) => onField(uniqueness(detail), 'emailDomains');
/** Generic on purpose: the domain may belong to another tenant, which must not be named. */
const domainTaken = (domains: string[]) =>
  onFieldTaken(`The email domain${domains.length > 1 ? 's' : ''} ${domains.map((d) => `"${d}"`).join(', ')} ${domains.length > 1 ? 'are' : 'is'} already used by another SSO connection`);
const notClaimed = (connectionId: string, domain: string) => notFound(`SSO connection ${connectionId} does not claim the domain "${domain}"`);

export function ssoConnectionRoutes(deps: SsoConnectionRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, sso, clock } = deps;
  const repo = sso.repo;

  const audit = async (trx: Tx, req: AdminRequest, at: Date, action: string, targetId: string, changes: Record<string, unknown>) => {
    if (!deps.audit) return;
    const actor = req.scope!.actor;
    await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action, targetType: 'SsoConnection', targetId, changes });
  };

  /** Connections as answered, with their domains' state. */
  const json = async (trx: Tx, tenantId: string, rows: SsoConnectionRow[]) => {
    const domains = await repo.domains(trx, tenantId, rows.map((r) => r.id));
    return rows.map((r) => ssoConnectionJson(r, domains, sso));
  };

  /** The IdP must answer discovery for this issuer; its spelling of the issuer is what we keep. */
  const probe = async (c: { issuer: string; clientId: string; clientSecret: string }): Promise<string> => {
    try {
      return await sso.probe(c);
    } catch (err) {
      if (err instanceof IssuerError) throw fieldRule('issuer', 'discovery', err.message);
      throw err;
    }
  };

  /**
   * Refuses domains another connection of this tenant holds, or another tenant has proven
   * (checked first for a clear answer; the unique keys decide races). Unproven claims of other
   * tenants do not count: they must not keep the owner of a domain out.
   */
  const checkDomains = async (tenantId: string, domains: string[] | undefined, connectionId?: string) => {
    if (!domains) return;
    const mine = await inTenant(knex, tenantId, (trx) => repo.heldByOtherConnection(trx, tenantId, domains, connectionId));
    const theirs = await repo.verifiedElsewhere(knex, tenantId, domains);
    const taken = [...new Set([...mine, ...theirs])];
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
  const actorOf = (req: AdminRequest): Actor => req.scope!.actor;

  return (router, api) => {
    tenantWideOnly(router, '/sso-connections');
    router.all('/sso-connections', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/sso-connections/:id', (req, _res, next) =>
      next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])),
    );
    router.all('/sso-connections/:id/domains/:domain/verify', (req, _res, next) => next(req.method === 'POST' ? undefined : methodNotAllowed(['POST'])));

    api.describe(router, { method: 'get', path: '/sso-connections', summary: 'List the SSO connections', responses: { 200: { description: 'The connections', schema: list('ssoConnections', CONNECTION) } } });
    router.get(
      '/sso-connections',
      handle(async (req, res) => {
        const out = await inTenant(knex, req.tenantId!, async (trx) => json(trx, req.tenantId!, await repo.list(trx, req.tenantId!)));
        res.json({ ssoConnections: out });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/sso-connections',
      summary: "Connect the tenant's OIDC IdP (its discovery must answer first)",
      body: { schema: NEW_CONNECTION, examples: [{ issuer: 'https://login.example.com', clientId: 'provisio', clientSecret: 's3cret', emailDomains: ['example.com'], trustEmail: true }] },
      responses: { 201: { description: 'Created', schema: CONNECTION }, 409: { description: 'A domain is already used by another SSO connection (errors: emailDomains, taken)' } },
    });
    router.post(
      '/sso-connections',
      handle(async (req, res) => {
        const body = req.body as Record<string, unknown>;
        const issuer = issuerOf(body.issuer, sso.allowInsecure);
        const clientId = String(body.clientId).trim();
        const clientSecret = String(body.clientSecret).trim();
        const emailDomains = domainsOf(body.emailDomains);
        const trustEmail = body.trustEmail === true;
        const requireSso = body.requireSso === true;
        await checkDomains(req.tenantId!, emailDomains);
        const canonical = await probe({ issuer, clientId, clientSecret });
        const at = clock();
        const answer = await write(req, emailDomains, async (trx) => {
          const created = await repo.insert(
            trx,
            req.tenantId!,
            { id: uuidv7(), issuer: canonical, clientId, clientSecretSealed: sso.sealSecret(clientSecret), emailDomains, trustEmail, requireSso, at },
            newChallenge,
          );
          await audit(trx, req, at, 'ssoConnection.create', created.id, { set: { issuer: canonical, clientId, emailDomains, trustEmail, requireSso } });
          return (await json(trx, req.tenantId!, [created]))[0];
        });
        res.status(201).setHeader('Location', `/api/v1/sso-connections/${answer.id}`);
        res.json(answer);
      }),
    );

    api.describe(router, { method: 'get', path: '/sso-connections/:id', summary: 'Read an SSO connection, with its domains’ proof state', responses: { 200: { description: 'The connection', schema: CONNECTION }, 404: { description: 'No such connection' } } });
    router.get(
      '/sso-connections/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const answer = await inTenant(knex, req.tenantId!, async (trx) => {
          const row = await repo.get(trx, req.tenantId!, id);
          return row ? (await json(trx, req.tenantId!, [row]))[0] : undefined;
        });
        if (!answer) throw notFoundConnection(id);
        res.json(answer);
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/sso-connections/:id',
      summary: 'Change an SSO connection (a new issuer, client or secret must work first)',
      body: { schema: CONNECTION_PATCH, examples: [{ requireSso: true }, { emailDomains: ['example.com', 'example.org'] }] },
      responses: { 200: { description: 'The connection', schema: CONNECTION }, 404: { description: 'No such connection' }, 409: { description: 'A domain is already used by another SSO connection' } },
    });
    router.patch(
      '/sso-connections/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const body = req.body as Record<string, unknown>;
        const issuer = body.issuer !== undefined ? issuerOf(body.issuer, sso.allowInsecure) : undefined;
        const clientId = typeof body.clientId === 'string' ? body.clientId.trim() : undefined;
        const clientSecret = typeof body.clientSecret === 'string' ? body.clientSecret.trim() : undefined;
        const emailDomains = body.emailDomains !== undefined ? domainsOf(body.emailDomains) : undefined;
        const trustEmail = body.trustEmail as boolean | undefined;
        const requireSso = body.requireSso as boolean | undefined;

        const current = await inTenant(knex, req.tenantId!, (trx) => repo.get(trx, req.tenantId!, id));
        if (!current) throw notFoundConnection(id);
        await checkDomains(req.tenantId!, emailDomains, current.id);
        // A new issuer, client or secret must work before it replaces one that does.
        let canonical: string | undefined;
        if (issuer !== undefined || clientId !== undefined || clientSecret !== undefined) {
          const opened = sso.open(current);
          canonical = await probe({ issuer: issuer ?? opened.issuer, clientId: clientId ?? opened.clientId, clientSecret: clientSecret ?? opened.clientSecret });
        }
        const at = clock();
        const answer = await write(req, emailDomains, async (trx) => {
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
          if (requireSso !== undefined && requireSso !== existing.require_sso) changes.requireSso = set.requireSso = requireSso;
          if (!Object.keys(changes).length) return (await json(trx, req.tenantId!, [existing]))[0];
          const updated = await repo.update(trx, req.tenantId!, existing.id, changes, at, newChallenge);
          // OIDC Core §2: `sub` is unique only within its issuer; links made with the old one
          // could name someone else at the new one.
          let unlinked = 0;
          if (changes.issuer !== undefined) unlinked = await deps.links.unlinkAll(trx, req.tenantId!, existing.id, actorOf(req), 'issuer changed', at);
          await audit(trx, req, at, 'ssoConnection.update', existing.id, { set, ...(unlinked ? { identitiesUnlinked: unlinked } : {}) });
          return (await json(trx, req.tenantId!, [updated]))[0];
        });
        sso.invalidate(answer.id);
        res.json(answer);
      }),
    );

    api.describe(router, { method: 'delete', path: '/sso-connections/:id', summary: 'Delete an SSO connection (its domains and linked identities go too)', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such connection' } } });
    router.delete(
      '/sso-connections/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const at = clock();
        await inTenant(knex, req.tenantId!, async (trx) => {
          const existing = await repo.get(trx, req.tenantId!, id, true);
          if (!existing) throw notFoundConnection(id);
          // The links go with the connection: each is an unlink of someone's sign-in, audited.
          await deps.links.unlinkAll(trx, req.tenantId!, existing.id, actorOf(req), 'connection deleted', at);
          await repo.delete(trx, req.tenantId!, existing.id);
          await audit(trx, req, at, 'ssoConnection.delete', existing.id, { issuer: existing.issuer, emailDomains: existing.email_domains });
        });
        sso.invalidate(id.toLowerCase());
        res.status(204).end();
      }),
    );

    // Asks the server to read the domain's proof record now (issue 9 point 7). Proven: 200 with
    // the domain's state, audited; otherwise 400 saying what is wrong in words (no record, another
    // value, the resolver could not be asked) and nothing changes. A domain another tenant proved
    // meanwhile is 409.
    api.describe(router, {
      method: 'post',
      path: '/sso-connections/:id/domains/:domain/verify',
      summary: "Read a claimed domain's DNS proof record now",
      responses: { 200: { description: 'The domain, proven', schema: DOMAIN }, 400: { description: 'Not proven: why, in words' }, 404: { description: 'No such connection or claim' }, 409: { description: 'Another tenant proved it' } },
    });
    router.post(
      '/sso-connections/:id/domains/:domain/verify',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const domain = String(req.params.domain).trim().toLowerCase().replace(/\.$/, '');
        const claim = await inTenant(knex, req.tenantId!, async (trx) => {
          const conn = await repo.get(trx, req.tenantId!, id);
          if (!conn) throw notFoundConnection(id);
          const d = (await repo.domains(trx, req.tenantId!, [conn.id])).find((x) => x.domain === domain);
          if (!d) throw notClaimed(conn.id, domain);
          return d;
        });
        if (claim.verified_at) return void res.json(domainJson(claim));
        const check = await checkProof(deps.resolver, domain, claim.challenge);
        if (!check.ok) {
          deps.logger?.info({ tenantId: req.tenantId, connectionId: claim.connection_id, domain, detail: check.log }, 'sso domain proof not found');
          throw invalidValue(check.reason);
        }
        if ((await repo.verifiedElsewhere(knex, req.tenantId!, [domain])).length) throw domainTaken([domain]);
        const at = clock();
        try {
          const proven = await inTenant(knex, req.tenantId!, async (trx) => {
            const row = await repo.markVerified(trx, req.tenantId!, claim.connection_id, domain, at);
            if (!row) throw notClaimed(claim.connection_id, domain);
            await audit(trx, req, at, 'ssoConnection.domain.verify', claim.connection_id, { domain, record: proofRecord(domain, claim.challenge).name });
            return row;
          });
          res.json(domainJson(proven));
        } catch (err) {
          if (isUniqueViolation(err, 'sso_domains_verified')) throw domainTaken([domain]);
          throw err;
        }
      }),
    );
  };
}

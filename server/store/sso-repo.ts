// The SQL of SSO (docs/sso.md): a tenant's OIDC connections, the email domains each claims with
// their DNS proof, and the IdP subjects linked to users (migrations/0007_front_door.ts,
// 0008_sso_trust_email.ts, 0010_sso_policy.ts). Tenant work takes the caller's transaction,
// opened by inTenant (store/scope.ts). Three lookups cross tenants by design and run as the
// schema owner; each says why in its SQL: where /login sends an address (before the tenant is
// known), which domains another tenant has proven (a claim must not take them), and a connection
// by id (the callback URL names only the connection).
import type { Knex } from 'knex';
import type { Db } from './scope';
import { isUuid } from '../scim/members';
import { asOwner } from './scope';

export interface SsoConnectionRow {
  tenant_id: string;
  id: string;
  issuer: string;
  client_id: string;
  /** SecretBox-sealed with the label 'sso-client-secret'; never leaves the server. */
  client_secret_sealed: string;
  /** The claimed domains in the admin's order (their state is in sso_domains). */
  email_domains: string[];
  trust_email: boolean;
  require_sso: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A domain claimed by a connection: the DNS value that proves it, and when it was proven. */
export interface SsoDomainRow {
  connection_id: string;
  domain: string;
  challenge: string;
  verified_at: Date | null;
}

export type LinkedBy = 'first-sign-in' | 'self';

export interface IdentityRow {
  connection_id: string;
  issuer: string;
  subject: string;
  linked_at: Date;
  linked_by: LinkedBy;
}

const COLUMNS = ['tenant_id', 'id', 'issuer', 'client_id', 'client_secret_sealed', 'email_domains', 'trust_email', 'require_sso', 'created_at', 'updated_at'];

export interface SsoConnectionChanges {
  issuer?: string;
  clientId?: string;
  clientSecretSealed?: string;
  emailDomains?: string[];
  trustEmail?: boolean;
  requireSso?: boolean;
}

export class SsoRepo {
  async list(db: Db, tenantId: string): Promise<SsoConnectionRow[]> {
    return db('sso_connections').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select(COLUMNS);
  }

  async get(db: Db, tenantId: string, id: string, lock = false): Promise<SsoConnectionRow | undefined> {
    if (!isUuid(id)) return undefined;
    const q = db('sso_connections').where({ tenant_id: tenantId, id: id.toLowerCase() }).first(COLUMNS);
    return lock ? q.forUpdate() : q;
  }

  /**
   * Inserts the connection and claims its domains, each with a fresh challenge. A domain this
   * tenant holds on another connection violates sso_domains_pkey; one another tenant has proven
   * is refused by the caller beforehand (verifiedElsewhere).
   */
  async insert(
    db: Db,
    tenantId: string,
    c: { id: string; issuer: string; clientId: string; clientSecretSealed: string; emailDomains: string[]; trustEmail: boolean; requireSso: boolean; at: Date },
    newChallenge: () => string,
  ): Promise<SsoConnectionRow> {
    const [row] = await db('sso_connections')
      .insert({
        tenant_id: tenantId,
        id: c.id,
        issuer: c.issuer,
        client_id: c.clientId,
        client_secret_sealed: c.clientSecretSealed,
        email_domains: c.emailDomains,
        trust_email: c.trustEmail,
        require_sso: c.requireSso,
        created_at: c.at,
        updated_at: c.at,
      })
      .returning(COLUMNS);
    await this.setDomains(db, tenantId, c.id, c.emailDomains, newChallenge);
    return row;
  }

  async update(db: Db, tenantId: string, id: string, changes: SsoConnectionChanges, at: Date, newChallenge: () => string): Promise<SsoConnectionRow> {
    const set: Record<string, unknown> = { updated_at: at };
    if (changes.issuer !== undefined) set.issuer = changes.issuer;
    if (changes.clientId !== undefined) set.client_id = changes.clientId;
    if (changes.clientSecretSealed !== undefined) set.client_secret_sealed = changes.clientSecretSealed;
    if (changes.emailDomains !== undefined) set.email_domains = changes.emailDomains;
    if (changes.trustEmail !== undefined) set.trust_email = changes.trustEmail;
    if (changes.requireSso !== undefined) set.require_sso = changes.requireSso;
    const [row] = await db('sso_connections').where({ tenant_id: tenantId, id }).update(set).returning(COLUMNS);
    if (changes.emailDomains !== undefined) await this.setDomains(db, tenantId, id, changes.emailDomains, newChallenge);
    return row;
  }

  /** Deletes the connection; its domains and linked identities go with it (ON DELETE CASCADE). */
  async delete(db: Db, tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return (await db('sso_connections').where({ tenant_id: tenantId, id: id.toLowerCase() }).delete()) > 0;
  }

  /**
   * Makes the connection's domains exactly `domains`: removes the others (their proof goes with
   * them), claims the new ones unproven with a fresh challenge; kept ones keep their state.
   */
  async setDomains(db: Db, tenantId: string, connectionId: string, domains: string[], newChallenge: () => string): Promise<void> {
    await db('sso_domains').where({ tenant_id: tenantId, connection_id: connectionId }).whereNotIn('domain', domains).delete();
    const have = new Set((await db('sso_domains').where({ tenant_id: tenantId, connection_id: connectionId }).select('domain')).map((r: { domain: string }) => r.domain));
    const add = domains.filter((d) => !have.has(d));
    if (add.length) await db('sso_domains').insert(add.map((domain) => ({ domain, tenant_id: tenantId, connection_id: connectionId, challenge: newChallenge() })));
  }

  /** The domains of these connections with their state. */
  async domains(db: Db, tenantId: string, connectionIds: string[]): Promise<SsoDomainRow[]> {
    if (!connectionIds.length) return [];
    return db('sso_domains').where({ tenant_id: tenantId }).whereIn('connection_id', connectionIds).select(['connection_id', 'domain', 'challenge', 'verified_at']);
  }

  /** Which of these domains this tenant already holds on another of its connections. */
  async heldByOtherConnection(db: Db, tenantId: string, domains: string[], exceptConnectionId?: string): Promise<string[]> {
    if (!domains.length) return [];
    const q = db('sso_domains').where({ tenant_id: tenantId }).whereIn('domain', domains).select('domain');
    if (exceptConnectionId) q.andWhereNot('connection_id', exceptConnectionId);
    return (await q).map((r: { domain: string }) => r.domain);
  }

  /**
   * Which of these domains another tenant has proven. Only proven domains are exclusive: an
   * unproven claim elsewhere blocks nobody, so squatting cannot keep the owner out. The caller
   * answers 409 without saying whose.
   */
  async verifiedElsewhere(knex: Knex, tenantId: string, domains: string[]): Promise<string[]> {
    if (!domains.length) return [];
    return asOwner(knex, async (trx) =>
      (
        await trx.raw(
          `/* cross-tenant: a domain another tenant proved is theirs alone; the caller answers without naming them */
           SELECT domain FROM sso_domains WHERE domain = ANY(?::text[]) AND verified_at IS NOT NULL AND tenant_id <> ?`,
          [domains, tenantId],
        )
      ).rows.map((r: { domain: string }) => r.domain),
    );
  }

  /** Records the DNS proof of a claimed domain; undefined when the connection does not claim it. */
  async markVerified(db: Db, tenantId: string, connectionId: string, domain: string, at: Date): Promise<SsoDomainRow | undefined> {
    const [row] = await db('sso_domains')
      .where({ tenant_id: tenantId, connection_id: connectionId, domain })
      .update({ verified_at: at })
      .returning(['connection_id', 'domain', 'challenge', 'verified_at']);
    return row;
  }

  /**
   * Where /login sends this address: the connection of the tenant that proved the domain; else,
   * for a claim not yet proven, the claiming tenant's connection only when the address is the
   * sign-in email of one of that tenant's own users (sign-in emails are unique across tenants).
   * Anyone else: no connection (the password step).
   */
  async route(knex: Knex, domain: string, email: string): Promise<{ tenantId: string; connectionId: string; verified: boolean } | undefined> {
    const row = await asOwner(knex, async (trx) =>
      (
        await trx.raw(
          `/* cross-tenant: /login routes an address before it knows the tenant; a proven domain routes everyone, an unproven claim only the claiming tenant's own users */
           SELECT d.tenant_id, d.connection_id, d.verified_at IS NOT NULL AS verified
             FROM sso_domains d
            WHERE d.domain = ?
              AND (d.verified_at IS NOT NULL
                   OR EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = d.tenant_id AND u.user_name_ci = ? AND strpos(u.user_name_ci, '@') > 0))
            ORDER BY (d.verified_at IS NOT NULL) DESC
            LIMIT 1`,
          [domain, email],
        )
      ).rows[0],
    );
    return row ? { tenantId: row.tenant_id, connectionId: row.connection_id, verified: row.verified === true } : undefined;
  }

  /** A connection by id alone (the callback URL carries no tenant), as the schema owner. */
  async findById(knex: Knex, id: string): Promise<SsoConnectionRow | undefined> {
    if (!isUuid(id)) return undefined;
    return asOwner(knex, async (trx) =>
      (
        await trx.raw(
          `/* cross-tenant: the IdP returns to a callback URL that names only the connection */
           SELECT ${COLUMNS.join(', ')} FROM sso_connections WHERE id = ?`,
          [id.toLowerCase()],
        )
      ).rows[0],
    );
  }

  /** The tenant's connection that holds this domain, if any (a tenant holds a domain on one connection at most). */
  async connectionForDomain(db: Db, tenantId: string, domain: string): Promise<SsoConnectionRow | undefined> {
    return db('sso_connections as c')
      .join('sso_domains as d', function () {
        this.on('d.tenant_id', 'c.tenant_id').andOn('d.connection_id', 'c.id');
      })
      .where({ 'c.tenant_id': tenantId, 'd.domain': domain })
      .first(COLUMNS.map((col) => `c.${col}`));
  }

  /** Whether a connection of the tenant that requires SSO claims this domain (proven or not). */
  async requiresSso(db: Db, tenantId: string, domain: string): Promise<boolean> {
    const row = await db('sso_domains as d')
      .join('sso_connections as c', function () {
        this.on('c.tenant_id', 'd.tenant_id').andOn('c.id', 'd.connection_id');
      })
      .where({ 'd.tenant_id': tenantId, 'd.domain': domain, 'c.require_sso': true })
      .first('d.domain');
    return !!row;
  }

  /** A user of the tenant as the SSO rules need them: sign-in name and whether they are the primary admin. */
  async userFacts(db: Db, tenantId: string, userId: string): Promise<{ userName: string; primaryAdmin: boolean } | undefined> {
    const row = await db('users').where({ tenant_id: tenantId, id: userId }).first(['user_name', 'is_primary_admin']);
    return row ? { userName: row.user_name, primaryAdmin: row.is_primary_admin === true } : undefined;
  }

  /** The user this IdP subject is linked to, with who made the link. */
  async linkedUser(db: Db, tenantId: string, connectionId: string, subject: string): Promise<{ userId: string; userName: string; primaryAdmin: boolean; linkedBy: LinkedBy } | undefined> {
    const row = await db('sso_identities as i')
      .join('users as u', function () {
        this.on('u.tenant_id', 'i.tenant_id').andOn('u.id', 'i.user_id');
      })
      .where({ 'i.tenant_id': tenantId, 'i.connection_id': connectionId, 'i.subject': subject })
      .first(['i.user_id', 'u.user_name', 'u.is_primary_admin', 'i.linked_by']);
    return row ? { userId: row.user_id, userName: row.user_name, primaryAdmin: row.is_primary_admin === true, linkedBy: row.linked_by } : undefined;
  }

  /** The subject linked to this user at this connection, if any (a user has at most one per connection). */
  async subjectOf(db: Db, tenantId: string, connectionId: string, userId: string): Promise<{ subject: string; linkedBy: LinkedBy } | undefined> {
    const row = await db('sso_identities').where({ tenant_id: tenantId, connection_id: connectionId, user_id: userId }).first(['subject', 'linked_by']);
    return row ? { subject: row.subject, linkedBy: row.linked_by } : undefined;
  }

  /**
   * Links the subject to the user. Returns false when the subject or the user was linked
   * meanwhile (a concurrent first sign-in): the caller reads the link again.
   */
  async link(db: Db, tenantId: string, connectionId: string, subject: string, userId: string, at: Date, linkedBy: LinkedBy): Promise<boolean> {
    const res = await db.raw(
      `INSERT INTO sso_identities (tenant_id, connection_id, subject, user_id, linked_at, linked_by) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING subject`,
      [tenantId, connectionId, subject, userId, at, linkedBy],
    );
    return res.rows.length > 0;
  }

  /** Marks an existing link as made by the person themselves (they linked it again while signed in). */
  async approveLink(db: Db, tenantId: string, connectionId: string, subject: string, userId: string, at: Date): Promise<boolean> {
    const n = await db('sso_identities').where({ tenant_id: tenantId, connection_id: connectionId, subject, user_id: userId }).update({ linked_by: 'self', linked_at: at });
    return n > 0;
  }

  /** The user's links, with the issuer of each connection. */
  async identitiesOf(db: Db, tenantId: string, userId: string): Promise<IdentityRow[]> {
    return db('sso_identities as i')
      .join('sso_connections as c', function () {
        this.on('c.tenant_id', 'i.tenant_id').andOn('c.id', 'i.connection_id');
      })
      .where({ 'i.tenant_id': tenantId, 'i.user_id': userId })
      .orderBy([{ column: 'c.created_at' }, { column: 'c.id' }])
      .select(['i.connection_id', 'c.issuer', 'i.subject', 'i.linked_at', 'i.linked_by']);
  }

  /** Removes the user's link at this connection; returns what was removed. */
  async unlink(db: Db, tenantId: string, connectionId: string, userId: string): Promise<{ subject: string; linkedBy: LinkedBy } | undefined> {
    if (!isUuid(connectionId)) return undefined;
    const [row] = await db('sso_identities').where({ tenant_id: tenantId, connection_id: connectionId.toLowerCase(), user_id: userId }).delete().returning(['subject', 'linked_by']);
    return row ? { subject: row.subject, linkedBy: row.linked_by } : undefined;
  }

  /** Forgets every link of the connection (its issuer changed, or it is deleted); returns whose they were. */
  async unlinkAll(db: Db, tenantId: string, connectionId: string): Promise<{ userId: string; subject: string }[]> {
    const rows = await db('sso_identities').where({ tenant_id: tenantId, connection_id: connectionId }).delete().returning(['user_id', 'subject']);
    return rows.map((r: { user_id: string; subject: string }) => ({ userId: r.user_id, subject: r.subject }));
  }
}

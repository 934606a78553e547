// SSO connections (issue 5, "OIDC with the tenant's IdP"): a tenant's OIDC clients at its own IdP,
// the email domains each may sign in, and the IdP subjects linked to users
// (migrations/0007_front_door.ts, 0008_sso_trust_email.ts). Tenant work takes the caller's
// transaction, opened by inTenant (store/scope.ts). Two lookups cross tenants by design and run
// as the schema owner: an email domain → its connection (the sign-in page routes an address
// before it knows the tenant) and a connection id → its tenant (the callback URL names only the
// connection).
import type { Knex } from 'knex';
import type { Db } from '../store/scope';
import { isUuid } from '../scim/members';
import { asOwner } from '../store/scope';

export interface SsoConnectionRow {
  tenant_id: string;
  id: string;
  issuer: string;
  client_id: string;
  /** SecretBox-sealed with the label 'sso-client-secret'; never leaves the server. */
  client_secret_sealed: string;
  email_domains: string[];
  trust_email: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['tenant_id', 'id', 'issuer', 'client_id', 'client_secret_sealed', 'email_domains', 'trust_email', 'created_at', 'updated_at'];

export interface SsoConnectionChanges {
  issuer?: string;
  clientId?: string;
  clientSecretSealed?: string;
  emailDomains?: string[];
  trustEmail?: boolean;
}

export class SsoConnectionsRepo {
  async list(db: Db, tenantId: string): Promise<SsoConnectionRow[]> {
    return db('sso_connections').where({ tenant_id: tenantId }).orderBy([{ column: 'created_at' }, { column: 'id' }]).select(COLUMNS);
  }

  async get(db: Db, tenantId: string, id: string, lock = false): Promise<SsoConnectionRow | undefined> {
    if (!isUuid(id)) return undefined;
    const q = db('sso_connections').where({ tenant_id: tenantId, id: id.toLowerCase() }).first(COLUMNS);
    return lock ? q.forUpdate() : q;
  }

  /** Inserts the connection and claims its domains (a domain taken anywhere: unique violation on sso_domains_pkey). */
  async insert(
    db: Db,
    tenantId: string,
    c: { id: string; issuer: string; clientId: string; clientSecretSealed: string; emailDomains: string[]; trustEmail: boolean; at: Date },
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
        created_at: c.at,
        updated_at: c.at,
      })
      .returning(COLUMNS);
    await this.setDomains(db, tenantId, c.id, c.emailDomains);
    return row;
  }

  async update(db: Db, tenantId: string, id: string, changes: SsoConnectionChanges, at: Date): Promise<SsoConnectionRow> {
    const set: Record<string, unknown> = { updated_at: at };
    if (changes.issuer !== undefined) set.issuer = changes.issuer;
    if (changes.clientId !== undefined) set.client_id = changes.clientId;
    if (changes.clientSecretSealed !== undefined) set.client_secret_sealed = changes.clientSecretSealed;
    if (changes.emailDomains !== undefined) set.email_domains = changes.emailDomains;
    if (changes.trustEmail !== undefined) set.trust_email = changes.trustEmail;
    const [row] = await db('sso_connections').where({ tenant_id: tenantId, id }).update(set).returning(COLUMNS);
    if (changes.emailDomains !== undefined) await this.setDomains(db, tenantId, id, changes.emailDomains);
    return row;
  }

  /** Deletes the connection; its domains and linked identities go with it (ON DELETE CASCADE). */
  async delete(db: Db, tenantId: string, id: string): Promise<boolean> {
    if (!isUuid(id)) return false;
    return (await db('sso_connections').where({ tenant_id: tenantId, id: id.toLowerCase() }).delete()) > 0;
  }

  /** Makes the connection's domains exactly `domains`: removes the others, claims the new ones. */
  async setDomains(db: Db, tenantId: string, connectionId: string, domains: string[]): Promise<void> {
    await db('sso_domains').where({ tenant_id: tenantId, connection_id: connectionId }).whereNotIn('domain', domains).delete();
    const have = new Set((await db('sso_domains').where({ tenant_id: tenantId, connection_id: connectionId }).select('domain')).map((r: { domain: string }) => r.domain));
    const add = domains.filter((d) => !have.has(d));
    if (add.length) await db('sso_domains').insert(add.map((domain) => ({ domain, tenant_id: tenantId, connection_id: connectionId })));
  }

  /**
   * Which of these domains are already claimed by a connection other than `exceptConnectionId`,
   * in any tenant (as the schema owner). The caller answers 409 without saying whose.
   */
  async claimedDomains(knex: Knex, domains: string[], exceptConnectionId?: string): Promise<string[]> {
    if (!domains.length) return [];
    return asOwner(knex, async (trx) => {
      const q = trx('sso_domains').whereIn('domain', domains).select('domain');
      if (exceptConnectionId) q.andWhereNot('connection_id', exceptConnectionId);
      return (await q).map((r: { domain: string }) => r.domain);
    });
  }

  /** The connection that signs in addresses of this domain, in whichever tenant (schema owner). */
  async findByDomain(knex: Knex, domain: string): Promise<{ tenantId: string; connectionId: string } | undefined> {
    const row = await asOwner(knex, (trx) => trx('sso_domains').where({ domain: domain.toLowerCase() }).first(['tenant_id', 'connection_id']));
    return row ? { tenantId: row.tenant_id, connectionId: row.connection_id } : undefined;
  }

  /** A connection by id alone (the callback URL carries no tenant), as the schema owner. */
  async findById(knex: Knex, id: string): Promise<SsoConnectionRow | undefined> {
    if (!isUuid(id)) return undefined;
    return asOwner(knex, (trx) => trx('sso_connections').where({ id: id.toLowerCase() }).first(COLUMNS));
  }

  /** The user this IdP subject is linked to, if any. */
  async linkedUser(db: Db, tenantId: string, connectionId: string, subject: string): Promise<string | undefined> {
    const row = await db('sso_identities').where({ tenant_id: tenantId, connection_id: connectionId, subject }).first('user_id');
    return row?.user_id;
  }

  /** The subject linked to this user at this connection, if any (a user has at most one per connection). */
  async subjectOf(db: Db, tenantId: string, connectionId: string, userId: string): Promise<string | undefined> {
    const row = await db('sso_identities').where({ tenant_id: tenantId, connection_id: connectionId, user_id: userId }).first('subject');
    return row?.subject;
  }

  /**
   * Links the subject to the user. Returns false when the subject or the user was linked
   * meanwhile (a concurrent first sign-in): the caller reads the link again.
   */
  async link(db: Db, tenantId: string, connectionId: string, subject: string, userId: string, at: Date): Promise<boolean> {
    const res = await db.raw(
      `INSERT INTO sso_identities (tenant_id, connection_id, subject, user_id, linked_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING subject`,
      [tenantId, connectionId, subject, userId, at],
    );
    return res.rows.length > 0;
  }

  /** Forgets every link of the connection (its issuer changed: subjects are unique per issuer only). */
  async unlinkAll(db: Db, tenantId: string, connectionId: string): Promise<number> {
    return db('sso_identities').where({ tenant_id: tenantId, connection_id: connectionId }).delete();
  }
}

// What every user create reads about its tenant, cached per instance (issue 12, "Fewer round
// trips per create", docs/performance.md): the name and settings (the activation email), the
// domains whose SSO connection requires SSO (sso/policy.ts, no activation link for them) and the
// event streams (events/producer.ts). Three statements per create before; none on a cache hit.
//
// Correct across instances without any message between them: the tenant row carries
// `config_version` (migrations/0024_tenant_config_version.ts), bumped by triggers in the
// transaction of any change to what is cached, and a create's INSERT returns it in the same
// statement (ResourceRepo.insert, `__config_version`). The cache answers only for exactly that
// version, so what a create uses is what a read at its INSERT would have returned (READ
// COMMITTED) — no staleness window, also behind a transaction pooler, where LISTEN/NOTIFY cannot
// work. Versions come from a sequence and never repeat, so an entry filled inside a transaction
// that then rolled back can never match. test/api/tenant-config-cache.test.ts
import type { Db } from './scope';
import type { StreamForEvents } from './events-repo';

export interface TenantConfig {
  version: string;
  name: string;
  settings: Readonly<Record<string, unknown>>;
  /** Domains (lower case) claimed by a connection of the tenant that requires SSO. */
  ssoRequiredDomains: ReadonlySet<string>;
  streams: readonly StreamForEvents[];
}

/** The tenant's config as one statement, in the caller's (tenant) transaction; undefined when the tenant is gone. */
export async function readTenantConfig(db: Db, tenantId: string): Promise<TenantConfig | undefined> {
  const r = (
    await db.raw(
      `SELECT t.config_version::text AS version, t.name, t.settings,
              ARRAY(SELECT d.domain FROM sso_domains d JOIN sso_connections c ON c.tenant_id = d.tenant_id AND c.id = d.connection_id
                     WHERE d.tenant_id = t.id AND c.require_sso) AS sso_required,
              COALESCE((SELECT json_agg(json_build_object('id', s.id, 'audience', s.audience, 'events', s.events, 'form', s.form) ORDER BY s.id)
                          FROM event_streams s WHERE s.tenant_id = t.id), '[]'::json) AS streams
         FROM tenants t WHERE t.id = ?`,
      [tenantId],
    )
  ).rows[0];
  if (!r) return undefined;
  return { version: String(r.version), name: r.name, settings: r.settings ?? {}, ssoRequiredDomains: new Set(r.sso_required ?? []), streams: r.streams };
}

/** Per instance (made once in deps.ts); at most `max` tenants, the least recently filled dropped first. */
export class TenantConfigCache {
  private readonly entries = new Map<string, TenantConfig>();
  constructor(private readonly max = 10_000) {}

  /**
   * The tenant's config as of `version` (what the caller's statement returned): the cached one when
   * it is that version, else read in `db` and kept. Without a version, always read.
   */
  async get(db: Db, tenantId: string, version: string | undefined): Promise<TenantConfig | undefined> {
    const cached = this.entries.get(tenantId);
    if (version !== undefined && cached?.version === version) return cached;
    const fresh = await readTenantConfig(db, tenantId);
    if (!fresh) {
      this.entries.delete(tenantId);
      return undefined;
    }
    this.entries.delete(tenantId);
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(tenantId, fresh);
    return fresh;
  }
}

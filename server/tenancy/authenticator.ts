// Resolves a bearer token to its tenant and scopes. Lookups are cached for a few seconds so a
// busy IdP does not pay a query per request; a revoked token stops working within that TTL on
// other instances, and at once on the instance that revoked it (forget, called by the admin API's
// DELETE /api/v1/tokens/{id}). last_used_at is written at most once a minute per token.
// A bearer token shaped like a JWT is not an API token (those have no dots): it is one of our
// OAuth access tokens (oauth/clients.ts) or, on a tenant's SCIM URL, a token of the external
// issuer the tenant trusts (oauth/external.ts).
import type { Knex } from 'knex';
import { TokenRow, TokensRepo } from '../store/tenants-repo';
import { hashToken } from '../secrets';
import { asOwner, inTenant } from '../store/scope';
import { tokenStillEmpowered } from '../resources/authority';
import { ScimClients } from '../oauth/clients';
import type { ExternalIssuers } from '../oauth/external';

export interface Credential {
  /** An API token, a SCIM client's access token (OAuth client credentials), or an external issuer's token. */
  kind: 'token' | 'scimClient' | 'externalIssuer';
  tenantId: string;
  /** The API token's id, the SCIM client's id, or the external token's subject: who acts. */
  tokenId: string;
  scopes: string[];
  subAccountId: string | null;
}

/** Where a token is presented: a tenant's SCIM URL, or the admin API. */
export interface Presented {
  api: 'scim' | 'admin';
  /** The tenant of the SCIM URL. */
  tenantId?: string;
}

export interface JwtVerifiers {
  clients: ScimClients;
  issuers: ExternalIssuers;
  scimBaseUrl: (tenantId: string) => string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Entry {
  row: TokenRow | undefined;
  until: number;
  /** The credential made from `row`, once per entry rather than once per request. */
  cred?: Credential;
}

export class Authenticator {
  private readonly cache = new Map<string, Entry>();
  private readonly touched = new Map<string, number>();
  /** Bumped by forget(): a lookup that started before a revocation must not cache its answer. */
  private generation = 0;

  constructor(
    private readonly knex: Knex,
    private readonly tokens: TokensRepo,
    private readonly clock: () => Date,
    private readonly ttlMs = 5000,
    private readonly maxEntries = 10_000,
    private readonly jwts?: JwtVerifiers,
  ) {}

  /** The credential for a presented token, or undefined if it is unknown, revoked or expired. */
  async authenticate(token: string, where?: Presented): Promise<Credential | undefined> {
    if (ScimClients.looksLikeJwt(token)) return this.jwts && where ? this.fromJwt(token, where) : undefined;
    const hash = hashToken(token);
    const now = this.clock().getTime();
    let entry = this.cache.get(hash);
    if (!entry || entry.until < now) {
      // The token names the tenant, so this lookup is the one made across tenants (as owner).
      const generation = this.generation;
      const row = await asOwner(this.knex, async (trx) => {
        const found = await this.tokens.findByHash(trx, hash);
        // A token bound to a switched-off sub-account, or made by someone who lost the right to
        // make it, answers as an unknown one (401; resources/authority.ts, issue 9 point 3).
        return found && !found.revoked_at && (await tokenStillEmpowered(trx, found)) ? found : undefined;
      });
      entry = { row, until: now + this.ttlMs };
      if (generation === this.generation) {
        if (this.cache.size >= this.maxEntries) this.cache.clear();
        this.cache.set(hash, entry);
      }
    }
    const row = entry.row;
    if (!row || row.revoked_at) return undefined;
    if (row.expires_at && new Date(row.expires_at).getTime() <= now) return undefined;
    const last = this.touched.get(row.id) ?? 0;
    if (now - last > 60_000) {
      this.touched.set(row.id, now);
      // Best effort: a failed bookkeeping write must not fail the request.
      inTenant(this.knex, row.tenant_id, (trx) => this.tokens.touch(trx, row.tenant_id, row.id, new Date(now))).catch(() => this.touched.delete(row.id));
    }
    // Shared by the requests of this entry's few seconds: callers read it, never change it.
    return (entry.cred ??= { kind: 'token', tenantId: row.tenant_id, tokenId: row.id, scopes: row.scopes, subAccountId: row.sub_account_id });
  }

  /**
   * A JWT: our access token for the audience of where it is presented (the tenant's SCIM base
   * URL, or the admin API), else — on a SCIM URL only — the tenant's external issuer's token.
   */
  private async fromJwt(token: string, where: Presented): Promise<Credential | undefined> {
    const j = this.jwts!;
    const tenantId = where.tenantId?.toLowerCase();
    if (where.api === 'scim' && (!tenantId || !UUID.test(tenantId))) return undefined;
    const audience = where.api === 'scim' ? j.scimBaseUrl(tenantId!) : j.clients.adminAudience;
    const client = await j.clients.verify(token, audience);
    if (client) return { kind: 'scimClient', tenantId: client.tenantId, tokenId: client.clientId, scopes: client.scopes, subAccountId: client.subAccountId };
    if (where.api !== 'scim') return undefined;
    const external = await j.issuers.verify(token, tenantId!);
    return external ? { kind: 'externalIssuer', tenantId: external.tenantId, tokenId: external.subject, scopes: ['scim'], subAccountId: null } : undefined;
  }

  /**
   * Forgets cached lookups after a revocation on this instance: the one of `tokenHash`, or all.
   * Lookups in flight meanwhile answer their request but are not cached.
   */
  forget(tokenHash?: string): void {
    this.generation++;
    // A change of who is empowered (no hash) concerns SCIM clients too: they live on the same rule.
    if (tokenHash === undefined) this.jwts?.clients.forget();
    if (tokenHash === undefined) this.cache.clear();
    else this.cache.delete(tokenHash);
  }
}

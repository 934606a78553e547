// Resolves a bearer token to its tenant and scopes. Lookups are cached for a few seconds so a
// busy IdP does not pay a query per request; a revoked token stops working within that TTL on
// other instances, and at once on the instance that revoked it (forget, called by the admin API's
// DELETE /api/v1/tokens/{id}). last_used_at is written at most once a minute per token.
import type { Knex } from 'knex';
import { TokenRow, TokensRepo } from '../store/tenants-repo';
import { hashToken } from '../secrets';
import { asOwner, inTenant } from '../store/scope';
import { tokenStillEmpowered } from '../resources/authority';

export interface Credential {
  tenantId: string;
  tokenId: string;
  scopes: string[];
  subAccountId: string | null;
}

interface Entry {
  row: TokenRow | undefined;
  until: number;
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
  ) {}

  /** The credential for a presented token, or undefined if it is unknown, revoked or expired. */
  async authenticate(token: string): Promise<Credential | undefined> {
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
    return { tenantId: row.tenant_id, tokenId: row.id, scopes: row.scopes, subAccountId: row.sub_account_id };
  }

  /**
   * Forgets cached lookups after a revocation on this instance: the one of `tokenHash`, or all.
   * Lookups in flight meanwhile answer their request but are not cached.
   */
  forget(tokenHash?: string): void {
    this.generation++;
    if (tokenHash === undefined) this.cache.clear();
    else this.cache.delete(tokenHash);
  }
}

// Tokens issued by someone else, for SCIM (issue 13, "Entra-issued tokens"): a tenant may trust
// ONE external issuer (admin/scim-issuer.ts sets it; migration 0013). A bearer JWT on the
// tenant's SCIM URL is accepted when
//   - its `iss` is the issuer's, exactly;
//   - its signature verifies against the issuer's JWKS (jose's remote JWK set: fetched once,
//     cached, fetched again only for a key id it does not know and then at most once per
//     SCIM_JWKS_COOLDOWN_SECONDS, never per request; test/api/scim-issuer.test.ts counts the
//     fetches at a JWKS server of its own);
//   - its `aud` is the audience (Entra: 8adf8e6e-67b2-4cf2-a259-e3dc5476c621, the audience
//     Entra's provisioning service asks tokens for, unless the tenant sets another), and it has
//     not expired by the server's clock (60 s allowed for clocks apart);
//   - the named claim equals the value (Entra: `tid`, the Entra tenant id — without it any
//     Entra tenant's token for that audience would do).
// The JWKS is fetched only through the outbound rules of sso/network.ts (https; public
// addresses; the connection pinned to the checked address; plain http and loopback only with
// the development settings SSO_ALLOW_INSECURE_ISSUERS / SSO_ALLOW_PRIVATE_ISSUERS).
// Such a token is a `scim`-only, tenant-wide credential; the audit log names it
// {"type": "externalIssuer", "id": <its sub claim>}.
import type { Knex } from 'knex';
import { createRemoteJWKSet, customFetch, decodeJwt, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import * as repo from '../store/oauth-repo';
import { inTenant } from '../store/scope';
import { egressDetail, EgressRules, guardedFetch } from '../sso/network';

export const ENTRA_SCIM_AUDIENCE = '8adf8e6e-67b2-4cf2-a259-e3dc5476c621';
export const entraIssuer = (entraTenantId: string) => `https://sts.windows.net/${entraTenantId}/`;
export const entraJwksUrl = (entraTenantId: string) => `https://login.microsoftonline.com/${entraTenantId}/discovery/keys`;

/** Asymmetric algorithms only: a shared-secret (HS*) or unsigned token is never accepted. */
const ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface ExternalDeps {
  knex: Knex;
  clock: () => Date;
  logger: Logger;
  egress: EgressRules;
  /** jose's cooldownDuration: the least time between two fetches of one JWKS for an unknown key id. */
  cooldownMs: number;
  cacheTtlMs?: number;
}

export interface IssuerCredential {
  tenantId: string;
  /** The token's subject (who, in the audit log), or the issuer when it has none. */
  subject: string;
}

/** jose's codes for a JWKS that could not be had (no code: refused by the outbound rules); the rest are the token's faults. */
const FETCH_FAILURES = new Set(['', 'ERR_JOSE_GENERIC', 'ERR_JWKS_TIMEOUT', 'ERR_JWKS_INVALID']);

type RemoteSet = ReturnType<typeof createRemoteJWKSet>;

export class ExternalIssuers {
  private readonly configs = new Map<string, { row: repo.IssuerRow | undefined; until: number }>();
  private readonly sets = new Map<string, { set: RemoteSet; failedAt?: number }>();
  private readonly touched = new Map<string, number>();
  private generation = 0;

  constructor(private readonly deps: ExternalDeps) {}

  /** The JWK set of a JWKS URL, one per URL and instance, fetched through the outbound rules. */
  private remote(url: string): { set: RemoteSet; failedAt?: number } {
    let entry = this.sets.get(url);
    if (!entry) {
      const fetcher = guardedFetch(this.deps.egress);
      const set = createRemoteJWKSet(new URL(url), {
        cooldownDuration: this.deps.cooldownMs,
        timeoutDuration: 5000,
        // jose hands a Headers object; the pinned fetch takes a plain record.
        [customFetch]: (u: string, init: { headers: Headers; method: string; signal?: AbortSignal }) =>
          fetcher(u, { method: init.method, headers: Object.fromEntries(init.headers.entries()), redirect: 'manual', signal: init.signal }),
      });
      if (this.sets.size >= 1000) this.sets.clear();
      entry = { set };
      this.sets.set(url, entry);
    }
    return entry;
  }

  private async config(tenantId: string): Promise<repo.IssuerRow | undefined> {
    const now = this.deps.clock().getTime();
    const hit = this.configs.get(tenantId);
    if (hit && hit.until >= now) return hit.row;
    const generation = this.generation;
    const row = await inTenant(this.deps.knex, tenantId, (trx) => repo.getIssuer(trx, tenantId));
    if (generation === this.generation) {
      if (this.configs.size >= 10_000) this.configs.clear();
      this.configs.set(tenantId, { row, until: now + (this.deps.cacheTtlMs ?? 5000) });
    }
    return row;
  }

  /** The credential of an external token presented on `tenantId`'s SCIM URL, or undefined. */
  async verify(token: string, tenantId: string): Promise<IssuerCredential | undefined> {
    const cfg = await this.config(tenantId);
    if (!cfg) return undefined;
    // A token of another issuer (or not a JWT) costs no JWKS fetch.
    let iss: unknown;
    try {
      iss = decodeJwt(token).iss;
    } catch {
      return undefined;
    }
    if (iss !== cfg.issuer) return undefined;
    const entry = this.remote(cfg.jwks_url);
    const now = this.deps.clock().getTime();
    // After a failed fetch, jose would try again on the next request: wait out the cooldown instead.
    if (entry.failedAt !== undefined && now - entry.failedAt < this.deps.cooldownMs) return undefined;
    let payload;
    try {
      ({ payload } = await jwtVerify(token, entry.set, {
        issuer: cfg.issuer,
        audience: cfg.audience,
        algorithms: ALGORITHMS,
        currentDate: this.deps.clock(),
        clockTolerance: 60,
        requiredClaims: ['exp'],
      }));
      entry.failedAt = undefined;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      // Fetch failures (network rules, timeouts, a bad answer) are the operator's to read; the client sees 401.
      if (FETCH_FAILURES.has(code)) {
        entry.failedAt = now;
        this.deps.logger.warn({ tenantId, detail: egressDetail(err) }, 'external issuer JWKS could not be fetched');
      }
      return undefined;
    }
    if (String(payload[cfg.claim_name] ?? '') !== cfg.claim_value || payload[cfg.claim_name] === undefined) return undefined;
    this.touch(tenantId);
    const subject = typeof payload.sub === 'string' && payload.sub ? payload.sub.slice(0, 200) : cfg.issuer;
    return { tenantId, subject };
  }

  /** last_used_at, at most once a minute per tenant and instance, in the background. */
  private touch(tenantId: string): void {
    const now = this.deps.clock().getTime();
    if (now - (this.touched.get(tenantId) ?? 0) <= 60_000) return;
    this.touched.set(tenantId, now);
    inTenant(this.deps.knex, tenantId, (trx) => repo.touchIssuer(trx, tenantId, new Date(now))).catch(() => this.touched.delete(tenantId));
  }

  /** Forgets a tenant's cached issuer (after it was set or cleared here), or all. */
  forget(tenantId?: string): void {
    this.generation++;
    if (tenantId === undefined) this.configs.clear();
    else this.configs.delete(tenantId);
  }
}

// SCIM clients that authenticate with OAuth 2.0 client credentials (RFC 6749 §4.4; issue 13):
// the token endpoint's work (client authentication, the access token) and the check of those
// access tokens on every SCIM or admin API request. The admin API manages the clients
// (admin/scim-clients.ts); http/oauth-router.ts speaks the protocol.
//
// - The access token is a JWT in the RFC 9068 profile: header typ "at+jwt", signed by the
//   server's key (oauth/signing-keys.ts); claims iss = PUBLIC_URL, sub and client_id = the
//   client's id, aud = what its scopes open (the tenant's SCIM base URL for `scim`,
//   {PUBLIC_URL}/api/v1 for `admin`), scope, jti, iat, exp, and tenant_id.
// - A token is accepted while its signature, iss, aud, typ and exp hold (jose's jwtVerify, with
//   the server's clock) AND its client still exists, is not revoked and still has what empowered
//   it (resources/authority.ts tokenStillEmpowered: a bound sub-account switched off, or the
//   person who made it losing the right, stops it). The client lookup is cached for a few
//   seconds like API tokens (tenancy/authenticator.ts); revocation forgets it on this instance
//   at once (test/api/oauth-clients.test.ts, "revoking stops its tokens at once").
import { timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { jwtVerify } from 'jose';
import type { Logger } from 'pino';
import { tokenStillEmpowered } from '../resources/authority';
import { hashToken } from '../secrets';
import * as repo from '../store/oauth-repo';
import * as grantsRepo from '../store/oauth-grants-repo';
import { asOwner, inTenant } from '../store/scope';
import { MAX_TOKEN_MINUTES, SigningKeys } from './signing-keys';

export const CLIENT_SCOPES = ['scim', 'admin'] as const;
export const MIN_TOKEN_MINUTES = 60;
export { MAX_TOKEN_MINUTES };
/** The prefix of a client secret, so a leaked one is recognisable (secret scanners, logs). */
export const CLIENT_SECRET_PREFIX = 'pvcs_';
export const ACCESS_TOKEN_TYPE = 'at+jwt';

export interface ClientsDeps {
  knex: Knex;
  keys: SigningKeys;
  clock: () => Date;
  logger: Logger;
  publicUrl: string;
  scimBaseUrl: (tenantId: string) => string;
  cacheTtlMs?: number;
}

export interface IssuedToken {
  accessToken: string;
  expiresIn: number;
  scope: string;
}

/** What an accepted access token stands for. */
export interface ClientCredential {
  tenantId: string;
  clientId: string;
  scopes: string[];
  subAccountId: string | null;
  /** The authorization grant the token was issued under (authorization code clients), if any. */
  grantId?: string;
}

/** The grant an access token is issued under: its id (claim `gid`) and the person who consented (`sub`). */
export interface GrantBinding {
  id: string;
  userId: string;
}

const adminAudience = (publicUrl: string) => `${publicUrl}/api/v1`;

// A hash to compare against when the client id is unknown, so that answer costs the same.
const DUMMY_HASH = hashToken('provisio: no such client');

const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export class ScimClients {
  private readonly cache = new Map<string, { row: repo.ScimClientRow | undefined; until: number }>();
  private readonly touched = new Map<string, number>();
  private readonly grantCache = new Map<string, { ok: boolean; until: number }>();
  private generation = 0;

  constructor(private readonly deps: ClientsDeps) {}

  /** The audiences of a token with these scopes (RFC 9068 §3: the resources it is for). */
  audiences(tenantId: string, scopes: string[]): string[] {
    return [...(scopes.includes('scim') ? [this.deps.scimBaseUrl(tenantId)] : []), ...(scopes.includes('admin') ? [adminAudience(this.deps.publicUrl)] : [])];
  }

  /** The audience the admin API asks for. */
  get adminAudience(): string {
    return adminAudience(this.deps.publicUrl);
  }

  /**
   * The client with this id and secret, usable now: undefined for an unknown id, a wrong secret,
   * a revoked client or one whose binding or maker lost its power. Never cached: a revoked client
   * gets no new token. The secret is compared as a hash in constant time, also for unknown ids.
   */
  async authenticate(clientId: string, secret: string): Promise<repo.ScimClientRow | undefined> {
    const presented = hashToken(secret);
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(clientId);
    const row = uuid ? await asOwner(this.deps.knex, (trx) => repo.findClient(trx, clientId.toLowerCase())) : undefined;
    const matches = sameHash(presented, row?.secret_hash ?? DUMMY_HASH);
    if (!row || !matches || row.revoked_at) return undefined;
    const empowered = await asOwner(this.deps.knex, (trx) => tokenStillEmpowered(trx, row));
    return empowered ? row : undefined;
  }

  /**
   * An access token for an authenticated client, with the scopes asked for (already checked to be
   * the client's). Under an authorization grant, `sub` is the person who consented (RFC 9068
   * §2.2: the resource owner) and `gid` names the grant, so revoking it stops the token.
   */
  async issue(client: repo.ScimClientRow, scopes: string[], grant?: GrantBinding): Promise<IssuedToken> {
    const now = this.deps.clock();
    const iat = Math.floor(now.getTime() / 1000);
    const lifetime = client.token_minutes * 60;
    const aud = this.audiences(client.tenant_id, scopes);
    const accessToken = await this.deps.keys.sign(
      {
        iss: this.deps.publicUrl,
        sub: grant ? grant.userId : client.id,
        aud: aud.length === 1 ? aud[0] : aud,
        client_id: client.id,
        ...(grant ? { gid: grant.id } : {}),
        scope: scopes.join(' '),
        tenant_id: client.tenant_id,
        jti: SigningKeys.jti(),
        iat,
        exp: iat + lifetime,
      },
      ACCESS_TOKEN_TYPE,
    );
    // Best effort, like last use: a failed bookkeeping write must not fail the token request.
    await inTenant(this.deps.knex, client.tenant_id, (trx) => repo.touchClient(trx, client.tenant_id, client.id, 'last_issued_at', now)).catch((err) =>
      this.deps.logger.warn({ err: { message: err?.message } }, 'could not record a SCIM client token issue'),
    );
    return { accessToken, expiresIn: lifetime, scope: scopes.join(' ') };
  }

  /** Whether a bearer token is shaped like a JWT (three base64url parts), not an API token. */
  static looksLikeJwt(token: string): boolean {
    return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
  }

  /**
   * The credential of one of our access tokens, or undefined when it is not ours, not valid for
   * `audience`, expired, or its client is gone, revoked or no longer empowered.
   */
  async verify(token: string, audience: string): Promise<ClientCredential | undefined> {
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.deps.keys.verificationKey, {
        issuer: this.deps.publicUrl,
        audience,
        typ: ACCESS_TOKEN_TYPE,
        algorithms: ['RS256'],
        currentDate: this.deps.clock(),
        requiredClaims: ['sub', 'client_id', 'jti', 'iat', 'exp', 'scope'],
        maxTokenAge: `${MAX_TOKEN_MINUTES} minutes`,
      }));
    } catch {
      return undefined;
    }
    const clientId = typeof payload.client_id === 'string' ? payload.client_id : '';
    const grantId = typeof payload.gid === 'string' ? payload.gid : undefined;
    // Client credentials: the client is the subject. Authorization code: the person is, and the
    // token names its grant (issue above).
    if (!grantId && clientId !== payload.sub) return undefined;
    const row = await this.lookup(clientId);
    if (!row || row.revoked_at || row.tenant_id !== payload.tenant_id) return undefined;
    if ((row.grant_type === 'authorization_code') !== !!grantId) return undefined;
    if (grantId && !(await this.grantUsable(row.tenant_id, row.id, grantId, String(payload.sub)))) return undefined;
    // The client's scopes bound the token's (they cannot grow, but a token is only what it says).
    const scopes = String(payload.scope).split(' ').filter((s) => row.scopes.includes(s));
    this.touch(row, grantId);
    return { tenantId: row.tenant_id, clientId: row.id, scopes, subAccountId: row.sub_account_id, grantId };
  }

  /**
   * Whether a grant still empowers its tokens: not revoked, this client's and this person's, and
   * the person still an active admin of the whole tenant (the authority they consented with;
   * resources/authority.ts tokenStillEmpowered, the rule API tokens follow for their maker).
   * Cached like client lookups; forget() drops it. test/api/oauth-code.test.ts
   */
  async grantUsable(tenantId: string, clientId: string, grantId: string, userId: string): Promise<boolean> {
    if (!/^[0-9a-f-]{36}$/i.test(grantId)) return false;
    const now = this.deps.clock().getTime();
    const key = `${grantId}:${clientId}:${userId}`;
    const hit = this.grantCache.get(key);
    if (hit && hit.until >= now) return hit.ok;
    const generation = this.generation;
    const ok = await asOwner(this.deps.knex, async (trx) => {
      const g = await grantsRepo.getGrant(trx, tenantId, grantId);
      if (!g || g.revoked_at || g.client_id !== clientId || g.user_id !== userId) return false;
      return tokenStillEmpowered(trx, { tenant_id: tenantId, sub_account_id: null, created_by_user_id: userId });
    });
    if (generation === this.generation) {
      if (this.grantCache.size >= 10_000) this.grantCache.clear();
      this.grantCache.set(key, { ok, until: now + (this.deps.cacheTtlMs ?? 5000) });
    }
    return ok;
  }

  private async lookup(clientId: string): Promise<repo.ScimClientRow | undefined> {
    const now = this.deps.clock().getTime();
    const hit = this.cache.get(clientId);
    if (hit && hit.until >= now) return hit.row;
    const generation = this.generation;
    const row = await asOwner(this.deps.knex, async (trx) => {
      const found = await repo.findClient(trx, clientId);
      if (!found || found.revoked_at || !(await tokenStillEmpowered(trx, found))) return undefined;
      const { secret_hash: _hash, ...rest } = found;
      return rest;
    });
    if (generation === this.generation) {
      if (this.cache.size >= 10_000) this.cache.clear();
      this.cache.set(clientId, { row, until: now + (this.deps.cacheTtlMs ?? 5000) });
    }
    return row;
  }

  /** last_used_at (of the client, and of the grant), at most once a minute per client and instance, in the background. */
  private touch(row: repo.ScimClientRow, grantId?: string): void {
    const now = this.deps.clock().getTime();
    const key = grantId ?? row.id;
    if (now - (this.touched.get(key) ?? 0) <= 60_000) return;
    this.touched.set(key, now);
    inTenant(this.deps.knex, row.tenant_id, async (trx) => {
      await repo.touchClient(trx, row.tenant_id, row.id, 'last_used_at', new Date(now));
      if (grantId) await grantsRepo.touchGrant(trx, row.tenant_id, grantId, 'last_used_at', new Date(now));
    }).catch(() => this.touched.delete(key));
  }

  /** Forgets cached client lookups (one, or all) after a revocation or a change of who is empowered. */
  forget(clientId?: string): void {
    this.generation++;
    // Grants live on their client and on who is empowered: any forget drops them all (cheap, rare).
    this.grantCache.clear();
    if (clientId === undefined) this.cache.clear();
    else this.cache.delete(clientId);
  }
}

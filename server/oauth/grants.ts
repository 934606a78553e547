// The OAuth 2.0 authorization code grant for SCIM clients (RFC 6749 §4.1; Okta's "OAuth 2"
// authentication for SCIM): the rules behind {PUBLIC_URL}/oauth/authorize (http/oauth-authorize.ts)
// and the authorization_code and refresh_token grants of {PUBLIC_URL}/oauth/token
// (http/oauth-router.ts). The admin API registers the clients (admin/scim-clients.ts) and lists
// and revokes the grants (admin/oauth-grants.ts).
//
// - A client registered for this grant is tenant-wide; only an active admin of its whole tenant
//   may consent, and the grant works only while that stays true (resources/authority.ts
//   tokenStillEmpowered, checked at the code exchange, at every refresh and — cached for a few
//   seconds — on every SCIM request, oauth/clients.ts grantUsable).
// - Codes: 256 random bits, only the SHA-256 kept, 60 seconds, single-use, bound to the client,
//   the redirect URI, the PKCE challenge (S256 only: RFC 7636 §4.2, RFC 9700 §2.1.1) and the
//   person. A code presented again revokes the grant it produced (RFC 6749 §4.1.2).
// - Refresh tokens: opaque, only the SHA-256 kept, rotated on every use (RFC 9700 §4.14.2); a used
//   one presented again revokes the whole grant (reuse detection), as does a lost race between
//   two requests with the same token.
// - Access tokens are the RFC 9068 JWTs SCIM already accepts, naming the grant (claim gid).
// test/api/oauth-code.test.ts proves each of these on both databases.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { decodeJwt } from 'jose';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { oauthInvalidGrant, oauthInvalidRequest, oauthInvalidScope, oauthUnauthorizedClient } from '../errors';
import { tokenStillEmpowered } from '../resources/authority';
import { hashToken } from '../secrets';
import type { AuditRepo } from '../store/audit-repo';
import * as repo from '../store/oauth-grants-repo';
import * as clientsRepo from '../store/oauth-repo';
import { asOwner, inTenant, Tx } from '../store/scope';
import { CLIENT_SCOPES, ScimClients } from './clients';

/** How long a code may wait for its exchange (RFC 6749 §4.1.2 recommends at most 10 minutes; Okta exchanges at once). */
export const CODE_TTL_MS = 60_000;
/** How long an unused refresh token lives; each refresh issues a fresh one. */
export const REFRESH_TOKEN_DAYS = 90;
export const CODE_PREFIX = 'pvac_';
export const REFRESH_TOKEN_PREFIX = 'pvrt_';
/**
 * Okta asks for refresh tokens by adding offline_access to the authorize URL's scope (Okta
 * support, "Use OAuth2 with Refresh Token - SCIM Integration"); a refresh token comes with every
 * code exchange here, so the word is accepted and grants nothing more.
 */
export const OFFLINE_ACCESS = 'offline_access';

export interface GrantsDeps {
  knex: Knex;
  clients: ScimClients;
  clock: () => Date;
  logger: Logger;
  audit: Pick<AuditRepo, 'record'>;
}

/** An error of the authorize request that is sent back to the client's redirect URI (RFC 6749 §4.1.2.1). */
export class AuthorizeError extends Error {
  constructor(
    readonly error: 'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'access_denied',
    description: string,
  ) {
    super(description);
  }
}

/** The client and redirect URI of an authorize request, or why they are not acceptable (a page, never a redirect). */
export type ClientCheck = { ok: true; client: clientsRepo.ScimClientRow; redirectUri: string } | { ok: false; problem: 'client' | 'redirect'; presented?: string };

export interface AuthorizeRequest {
  scopes: string[];
  state?: string;
  codeChallenge?: string;
}

export interface TokenAnswer {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  refresh_token: string;
  scope: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/** One query or form parameter: absent, or given once (RFC 6749 §3.1: parameters MUST NOT repeat). */
export function single(params: Record<string, unknown>, name: string): string | undefined {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AuthorizeError('invalid_request', `The parameter ${name} must be given once`);
  return v;
}

export class OAuthGrants {
  constructor(private readonly deps: GrantsDeps) {}

  private now(): Date {
    return this.deps.clock();
  }

  /**
   * Step one of an authorize request: the client and the redirect URI, checked before anything
   * is sent anywhere (RFC 6749 §4.1.2.1: an unknown client or a redirect URI not registered
   * exactly is told to the person, never redirected to). A client with one registered URI may
   * leave redirect_uri out (§3.1.2.3).
   */
  async clientFor(clientId: unknown, redirectUri: unknown): Promise<ClientCheck> {
    if (typeof clientId !== 'string' || !UUID.test(clientId)) return { ok: false, problem: 'client' };
    const row = await asOwner(this.deps.knex, async (trx) => {
      const found = await clientsRepo.findClient(trx, clientId.toLowerCase());
      return found && !found.revoked_at && found.grant_type === 'authorization_code' && (await tokenStillEmpowered(trx, found)) ? found : undefined;
    });
    if (!row) return { ok: false, problem: 'client' };
    const { secret_hash: _hash, ...client } = row;
    if (redirectUri === undefined && client.redirect_uris.length === 1) return { ok: true, client, redirectUri: client.redirect_uris[0] };
    if (typeof redirectUri !== 'string' || !client.redirect_uris.includes(redirectUri)) {
      return { ok: false, problem: 'redirect', presented: typeof redirectUri === 'string' ? redirectUri.slice(0, 500) : undefined };
    }
    return { ok: true, client, redirectUri };
  }

  /** Step two: the rest of the request; an AuthorizeError goes back to the redirect URI. */
  checkRequest(client: clientsRepo.ScimClientRow, params: Record<string, unknown>): AuthorizeRequest {
    const responseType = single(params, 'response_type');
    if (!responseType) throw new AuthorizeError('invalid_request', 'response_type is required: response_type=code');
    if (responseType !== 'code') throw new AuthorizeError('unsupported_response_type', 'Only response_type=code is supported');
    const state = single(params, 'state');
    const asked = single(params, 'scope');
    let scopes = client.scopes;
    if (asked !== undefined && asked.trim()) {
      const words = asked.split(' ').filter((w) => w && w !== OFFLINE_ACCESS);
      const unknown = words.filter((w) => !client.scopes.includes(w));
      if (unknown.length) throw new AuthorizeError('invalid_scope', `This client may ask for ${client.scopes.map((s) => `"${s}"`).join(', ')}, not "${unknown[0]}"`);
      if (words.length) scopes = CLIENT_SCOPES.filter((s) => words.includes(s));
    }
    const challenge = single(params, 'code_challenge');
    const method = single(params, 'code_challenge_method');
    if (challenge !== undefined) {
      // "plain" (also the default when the method is left out) protects nothing a stolen code
      // does not already give away (RFC 9700 §2.1.1): S256 only.
      if (method !== 'S256') throw new AuthorizeError('invalid_request', 'code_challenge_method must be S256');
      if (!S256_CHALLENGE.test(challenge)) throw new AuthorizeError('invalid_request', 'code_challenge must be the base64url SHA-256 of the code verifier (43 characters)');
    } else if (method !== undefined) {
      throw new AuthorizeError('invalid_request', 'code_challenge_method without code_challenge');
    } else if (client.require_pkce) {
      throw new AuthorizeError('invalid_request', 'This client must use PKCE: code_challenge and code_challenge_method=S256 (RFC 7636)');
    }
    return { scopes, state, codeChallenge: challenge };
  }

  /** Whether this signed-in person may consent for the client: an active admin of its whole tenant. */
  async mayConsent(client: clientsRepo.ScimClientRow, who: { tenantId: string; userId: string }): Promise<'ok' | 'otherTenant' | 'notAdmin'> {
    if (who.tenantId !== client.tenant_id) return 'otherTenant';
    return (await this.personEmpowered(client.tenant_id, who.userId)) ? 'ok' : 'notAdmin';
  }

  private personEmpowered(tenantId: string, userId: string): Promise<boolean> {
    return asOwner(this.deps.knex, (trx) => tokenStillEmpowered(trx, { tenant_id: tenantId, sub_account_id: null, created_by_user_id: userId }));
  }

  /** The code for an allowed request (the person's consent): returned once, kept as a hash. */
  async issueCode(client: clientsRepo.ScimClientRow, redirectUri: string, request: AuthorizeRequest, userId: string): Promise<string> {
    const code = CODE_PREFIX + randomBytes(32).toString('base64url');
    const now = this.now();
    await inTenant(this.deps.knex, client.tenant_id, async (trx) => {
      // Housekeeping on the way: codes are dead a minute after they are made; a used one is kept
      // an hour, for a replay within that hour to revoke its grant.
      await repo.deleteExpiredCodes(trx, client.tenant_id, new Date(now.getTime() - 60 * 60_000));
      await repo.insertCode(trx, client.tenant_id, {
        code_hash: hashToken(code),
        client_id: client.id,
        user_id: userId,
        redirect_uri: redirectUri,
        scopes: request.scopes,
        code_challenge: request.codeChallenge ?? null,
        created_at: now,
        expires_at: new Date(now.getTime() + CODE_TTL_MS),
      });
    });
    return code;
  }

  private async audit(trx: Tx, tenantId: string, actor: { type: string; id: string }, action: string, grantId: string, changes: Record<string, unknown> = {}) {
    await this.deps.audit.record(trx, tenantId, this.now(), { actorType: actor.type, actorId: actor.id, action, targetType: 'OAuthGrant', targetId: grantId, changes });
  }

  /** Revokes a grant for a reason, audited; forgets cached grant checks. True when it was revoked now. */
  async revoke(tenantId: string, grantId: string, actor: { type: string; id: string }, reason: string, action = 'oauthGrant.revoke'): Promise<boolean | undefined> {
    const done = await inTenant(this.deps.knex, tenantId, async (trx) => {
      const r = await repo.revokeGrant(trx, tenantId, grantId, this.now(), reason);
      if (r) await this.audit(trx, tenantId, actor, action, grantId, { reason });
      return r;
    });
    // After the commit: its access tokens are refused from the next request on.
    this.deps.clients.forget();
    return done;
  }

  private mustBeCodeClient(client: clientsRepo.ScimClientRow): void {
    if (client.grant_type !== 'authorization_code') throw oauthUnauthorizedClient('This client is registered for client_credentials, not for the authorization code grant');
  }

  /** grant_type=authorization_code (RFC 6749 §4.1.3) for an authenticated client. */
  async exchangeCode(client: clientsRepo.ScimClientRow, p: { code?: string; redirectUri?: string; codeVerifier?: string }): Promise<TokenAnswer> {
    this.mustBeCodeClient(client);
    if (!p.code) throw oauthInvalidRequest('code is required');
    const hash = hashToken(p.code);
    const found = await asOwner(this.deps.knex, (trx) => repo.findCode(trx, hash));
    const invalid = () => oauthInvalidGrant('The code is invalid, expired, already used, or was not issued to this client');
    if (!found || found.client_id !== client.id) throw invalid();
    if (found.used_at) {
      // RFC 6749 §4.1.2: a code used twice revokes what it gave (someone else may hold it).
      if (found.grant_id) await this.revoke(found.tenant_id, found.grant_id, { type: 'scimClient', id: client.id }, 'authorization code used twice', 'oauthGrant.codeReplayed');
      this.deps.logger.warn({ tenantId: found.tenant_id, clientId: client.id, grantId: found.grant_id }, 'OAuth authorization code replayed: its grant is revoked');
      throw invalid();
    }
    const now = this.now();
    if (new Date(found.expires_at).getTime() <= now.getTime()) throw invalid();
    const redirectUri = p.redirectUri ?? (client.redirect_uris.length === 1 ? client.redirect_uris[0] : undefined);
    if (redirectUri !== found.redirect_uri) throw oauthInvalidGrant('redirect_uri must be the one of the authorization request (RFC 6749 §4.1.3)');
    if (found.code_challenge) {
      if (!p.codeVerifier || !VERIFIER.test(p.codeVerifier) || !sameText(s256(p.codeVerifier), found.code_challenge)) throw oauthInvalidGrant('code_verifier does not match the code_challenge (RFC 7636 §4.6)');
    } else if (p.codeVerifier !== undefined) {
      // A verifier for a code made without a challenge: a downgrade attempt (RFC 9700 §2.1.1).
      throw oauthInvalidGrant('This code was issued without code_challenge; send no code_verifier');
    }
    if (!(await this.personEmpowered(found.tenant_id, found.user_id))) throw oauthInvalidGrant('The person who consented is no longer an active admin of this tenant');

    const grantId = uuidv7();
    const refresh = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const won = await inTenant(this.deps.knex, found.tenant_id, async (trx) => {
      if (!(await repo.useCode(trx, found.tenant_id, hash, now, grantId))) return false;
      await repo.insertGrant(trx, found.tenant_id, { id: grantId, clientId: client.id, userId: found.user_id, scopes: found.scopes, now });
      await repo.insertRefreshToken(trx, found.tenant_id, { tokenHash: hashToken(refresh), grantId, now, expiresAt: new Date(now.getTime() + REFRESH_TOKEN_DAYS * 86_400_000) });
      await this.audit(trx, found.tenant_id, { type: 'user', id: found.user_id }, 'oauthGrant.create', grantId, { set: { client: client.id, clientName: client.name, scopes: found.scopes } });
      return true;
    });
    if (!won) {
      // Two requests with one code: the code was used more than once, whichever came first, so
      // what the winner got is revoked too (RFC 6749 §4.1.2).
      const used = await asOwner(this.deps.knex, (trx) => repo.findCode(trx, hash));
      if (used?.grant_id) await this.revoke(used.tenant_id, used.grant_id, { type: 'scimClient', id: client.id }, 'authorization code used twice', 'oauthGrant.codeReplayed');
      throw invalid();
    }
    const issued = await this.deps.clients.issue(client, found.scopes, { id: grantId, userId: found.user_id });
    this.deps.logger.info({ tenantId: found.tenant_id, clientId: client.id, grantId }, 'OAuth authorization code exchanged');
    return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, refresh_token: refresh, scope: issued.scope };
  }

  /** grant_type=refresh_token (RFC 6749 §6) with rotation and reuse detection. */
  async refresh(client: clientsRepo.ScimClientRow, token: string | undefined, asked: string | undefined): Promise<TokenAnswer> {
    this.mustBeCodeClient(client);
    if (!token) throw oauthInvalidRequest('refresh_token is required');
    const hash = hashToken(token);
    const invalid = () => oauthInvalidGrant('The refresh token is invalid, expired, revoked, or was not issued to this client');
    const found = await asOwner(this.deps.knex, async (trx) => {
      const r = await repo.findRefreshToken(trx, hash);
      return r ? { r, grant: await repo.getGrant(trx, r.tenant_id, r.grant_id) } : undefined;
    });
    if (!found?.grant || found.grant.client_id !== client.id || found.grant.revoked_at) throw invalid();
    const { r, grant } = found;
    const actor = { type: 'scimClient', id: client.id };
    const reused = async () => {
      await this.revoke(r.tenant_id, grant.id, actor, 'refresh token used twice', 'oauthGrant.reuseDetected');
      this.deps.logger.warn({ tenantId: r.tenant_id, clientId: client.id, grantId: grant.id }, 'OAuth refresh token reused: its grant is revoked');
      return invalid();
    };
    if (r.used_at) throw await reused();
    const now = this.now();
    if (new Date(r.expires_at).getTime() <= now.getTime()) throw invalid();
    if (!(await this.personEmpowered(r.tenant_id, grant.user_id))) throw oauthInvalidGrant('The person who consented is no longer an active admin of this tenant');
    let scopes = grant.scopes;
    if (asked !== undefined && asked.trim()) {
      // RFC 6749 §6: no scope beyond the grant's.
      const words = asked.split(' ').filter((w) => w && w !== OFFLINE_ACCESS);
      if (words.some((w) => !grant.scopes.includes(w))) throw oauthInvalidScope(`This grant covers ${grant.scopes.map((s) => `"${s}"`).join(', ')} only`);
      if (words.length) scopes = CLIENT_SCOPES.filter((s) => words.includes(s));
    }
    const next = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const won = await inTenant(this.deps.knex, r.tenant_id, async (trx) => {
      if (!(await repo.useRefreshToken(trx, r.tenant_id, hash, now))) return false;
      await repo.insertRefreshToken(trx, r.tenant_id, { tokenHash: hashToken(next), grantId: grant.id, now, expiresAt: new Date(now.getTime() + REFRESH_TOKEN_DAYS * 86_400_000) });
      await repo.touchGrant(trx, r.tenant_id, grant.id, 'last_refreshed_at', now);
      // Used refresh tokens are kept until they would have expired (reuse is detected until
      // then), then forgotten: an hourly refresh leaves no ever-growing trail.
      await repo.deleteExpiredRefreshTokens(trx, r.tenant_id, grant.id, now);
      return true;
    });
    // Two requests with one token: the loser is a reuse like any other.
    if (!won) throw await reused();
    const issued = await this.deps.clients.issue(client, scopes, { id: grant.id, userId: grant.user_id });
    return { access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, refresh_token: next, scope: issued.scope };
  }

  /**
   * RFC 7009 for an authenticated client: a refresh token of one of its grants, or an access token
   * issued under one, revokes that grant (§2.1: revoking a refresh token SHOULD revoke its access
   * tokens; ours do not outlive their grant). Anything else is ignored (§2.2: 200 all the same).
   * Client credentials access tokens are not revoked one by one: revoking the client stops them.
   */
  async revokeToken(client: clientsRepo.ScimClientRow, token: string): Promise<void> {
    const actor = { type: 'scimClient', id: client.id };
    const r = await asOwner(this.deps.knex, async (trx) => {
      const f = await repo.findRefreshToken(trx, hashToken(token));
      return f ? { tenantId: f.tenant_id, grant: await repo.getGrant(trx, f.tenant_id, f.grant_id) } : undefined;
    });
    if (r?.grant && r.grant.client_id === client.id) {
      await this.revoke(r.tenantId, r.grant.id, actor, 'revoked by the client (RFC 7009)');
      return;
    }
    if (!ScimClients.looksLikeJwt(token)) return;
    // Only the authenticated client's own grants can be named here, so the token's signature
    // does not matter: a client can only revoke what it could revoke anyway.
    let claims: Record<string, unknown>;
    try {
      claims = decodeJwt(token);
    } catch {
      return;
    }
    const gid = typeof claims.gid === 'string' && UUID.test(claims.gid) ? claims.gid.toLowerCase() : undefined;
    if (!gid || claims.client_id !== client.id) return;
    const grant = await inTenant(this.deps.knex, client.tenant_id, (trx) => repo.getGrant(trx, client.tenant_id, gid));
    if (grant && grant.client_id === client.id) await this.revoke(client.tenant_id, gid, actor, 'revoked by the client (RFC 7009)');
  }
}

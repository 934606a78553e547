// OIDC sign-in with a tenant's own IdP (issue 5, docs/sso.md): per connection, the IdP's
// discovery document (cached) and an openid-client Configuration; the authorization request
// (code flow with PKCE S256, `state` and `nonce`) and the code exchange. openid-client checks what
// OIDC Core §3.1.3.7 asks of the ID token — signature from the IdP's JWKS, `iss` equal to the
// discovered issuer, `aud` containing our client id, `nonce` — and the `iss` authorization
// response parameter (RFC 9207) where the IdP sends it. Where the flow keeps its state between
// the two steps is the caller's (a sealed cookie, sso/flow-state.ts); what the ID token then
// means for our users is decided by front-door/oidc-routes.ts.
// Every request to the IdP goes through sso/network.ts (https, public addresses, the checked
// address pinned); admins and people see failures in words without network details
// (ISSUER_UNREACHABLE), the log keeps the details. Proven by test/api/sso.test.ts and
// test/api/sso-issuers.test.ts against an in-process oidc-provider.
import * as client from 'openid-client';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { SecretBox } from '../security/keys';
import { SsoConnectionRow, SsoRepo } from '../store/sso-repo';
import { checkScheme, EgressError, egressDetail, guardedFetch, isLoopbackHost, NameResolver } from './network';

/** SecretBox label of the client secret (a value sealed for another use cannot be opened as this). */
export const CLIENT_SECRET_LABEL = 'sso-client-secret';
/** What we ask the IdP for: `email` for the address we match users on (OIDC Core §5.4). */
export const SSO_SCOPE = 'openid email profile';
/** Discovery documents change rarely; signing keys rotate through the JWKS, which openid-client refetches on an unknown `kid`. */
const DISCOVERY_TIMEOUT_S = 10;
const DISCOVERY_TTL_MS = 60 * 60 * 1000;

/**
 * What an admin reads when the issuer could not be used for a network reason. One message for
 * every such reason — the name does not resolve, resolves to an address that is not allowed, the
 * connection is refused or times out, the answer is not a discovery document — so the admin API
 * cannot tell what listens where (test/api/sso-issuers.test.ts).
 */
export const ISSUER_UNREACHABLE =
  'The issuer did not answer with an OpenID Connect discovery document: it could not be reached from this server, is on a network this server does not connect to (only public addresses over https), or answered something else. Check the issuer URL.';

/** A connection as the sign-in flow uses it, with its client secret opened. */
export interface SsoConnection {
  tenantId: string;
  id: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  emailDomains: string[];
  trustEmail: boolean;
  requireSso: boolean;
  updatedAt: Date;
}

/** What the IdP says about the person, from the ID token or, lacking an email there, userinfo. */
export interface OidcIdentity {
  subject: string;
  email?: string;
  /** true/false as the IdP said; undefined when it sent no `email_verified` at all (Entra). */
  emailVerified?: boolean;
}

/** What the callback needs to check the answer to one authorization request. */
export interface AuthorizationChecks {
  codeVerifier: string;
  state: string;
  nonce: string;
}

/** The issuer is not usable; the message is for the admin who typed it. */
export class IssuerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IssuerError';
  }
}

export interface OidcConnectionsDeps {
  knex: Knex;
  box: SecretBox;
  clock: () => Date;
  logger: Logger;
  /** Our public base URL without a trailing slash (config.publicUrl). */
  publicUrl: string;
  /** The operator's DNS (DNS_SERVERS): IdP host names are resolved through it. */
  resolver: NameResolver;
  /** SSO_ALLOW_INSECURE_ISSUERS: plain http to a loopback IdP (development). */
  allowInsecure: boolean;
  /** SSO_ALLOW_PRIVATE_ISSUERS: IdPs on private, loopback or CGNAT addresses. */
  allowPrivate: boolean;
  repo?: SsoRepo;
  discoveryTtlMs?: number;
}

/**
 * Parses an issuer identifier. OIDC Discovery §2 / RFC 8414 §2: an https URL without query or
 * fragment. Plain http only for a loopback host, and only when the operator allows it for
 * development (SSO_ALLOW_INSECURE_ISSUERS): an http issuer anywhere else would let anyone on the
 * path forge the ID token keys.
 */
export function parseIssuer(raw: unknown, opts: { allowInsecure: boolean }): URL {
  if (typeof raw !== 'string' || !raw.trim()) throw new IssuerError('issuer is required: the IdP\'s issuer URL, such as https://acme.okta.com');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new IssuerError(`issuer must be an absolute URL such as https://acme.okta.com, got "${raw}"`);
  }
  if (url.search || url.hash || url.username || url.password) throw new IssuerError('issuer must not carry a query, a fragment or credentials');
  if (url.protocol === 'http:') {
    if (!isLoopbackHost(url.hostname)) throw new IssuerError('issuer must use https');
    if (!opts.allowInsecure) throw new IssuerError('issuer must use https (plain http is accepted only for an IdP on this machine, and only when the operator enables SSO_ALLOW_INSECURE_ISSUERS for development)');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new IssuerError('issuer must use https');
  if (url.pathname.includes('/.well-known/')) {
    // openid-client would fetch such a URL as is and skip comparing the issuer it names.
    throw new IssuerError('issuer must be the issuer identifier, not the discovery document URL (leave out /.well-known/openid-configuration)');
  }
  return url;
}

export class OidcConnections {
  readonly repo: SsoRepo;
  private readonly cache = new Map<string, { key: string; expiresAt: number; config: Promise<client.Configuration> }>();
  private readonly fetch: client.CustomFetch;

  constructor(private readonly deps: OidcConnectionsDeps) {
    this.repo = deps.repo ?? new SsoRepo();
    this.fetch = guardedFetch({ resolver: deps.resolver, allowPrivate: deps.allowPrivate, allowInsecure: deps.allowInsecure }) as client.CustomFetch;
  }

  get knex(): Knex {
    return this.deps.knex;
  }

  /** Whether plain-http loopback issuers are accepted (SSO_ALLOW_INSECURE_ISSUERS). */
  get allowInsecure(): boolean {
    return this.deps.allowInsecure;
  }

  /** The callback to register at the IdP (the `redirect_uri`). */
  redirectUri(connectionId: string): string {
    return `${this.deps.publicUrl}/login/oidc/${connectionId}/callback`;
  }

  /** The connection with its secret opened, in whichever tenant (the callback URL names only the connection). */
  async find(connectionId: string): Promise<SsoConnection | undefined> {
    const row = await this.repo.findById(this.deps.knex, connectionId);
    return row ? this.open(row) : undefined;
  }

  /**
   * The connection /login sends this address to, if any: a proven domain's, or for a domain not
   * yet proven, the claiming tenant's only when the address is one of its users' (store/sso-repo.ts route).
   */
  async forEmail(email: string): Promise<{ tenantId: string; connectionId: string } | undefined> {
    const e = email.trim().toLowerCase();
    const at = e.lastIndexOf('@');
    if (at < 1 || e.length > 320) return undefined;
    return this.repo.route(this.deps.knex, e.slice(at + 1), e);
  }

  /** Seals a client secret for storage (only this class opens it again). */
  sealSecret(secret: string): string {
    return this.deps.box.seal(secret, CLIENT_SECRET_LABEL);
  }

  open(row: SsoConnectionRow): SsoConnection {
    return {
      tenantId: row.tenant_id,
      id: row.id,
      issuer: row.issuer,
      clientId: row.client_id,
      clientSecret: this.deps.box.open(row.client_secret_sealed, CLIENT_SECRET_LABEL),
      emailDomains: row.email_domains,
      trustEmail: row.trust_email === true,
      requireSso: row.require_sso === true,
      updatedAt: new Date(row.updated_at),
    };
  }

  /**
   * Fetches the discovery document (uncached) to prove the issuer answers as an OIDC provider
   * with exactly this issuer; returns the issuer as the IdP spells it. Throws IssuerError with a
   * message for the admin.
   */
  async probe(c: { issuer: string; clientId: string; clientSecret: string }): Promise<string> {
    const config = await this.discover(c.issuer, c.clientId, c.clientSecret);
    return config.serverMetadata().issuer;
  }

  /** The connection's Configuration: discovery cached per connection, refetched after a change or an hour. */
  configuration(conn: SsoConnection): Promise<client.Configuration> {
    // updated_at is in the key, so a change made through any instance is seen by every instance.
    const key = `${conn.issuer}\n${conn.clientId}\n${conn.updatedAt.getTime()}`;
    const now = this.deps.clock().getTime();
    const hit = this.cache.get(conn.id);
    if (hit && hit.key === key && hit.expiresAt > now) return hit.config;
    const entry = { key, expiresAt: now + (this.deps.discoveryTtlMs ?? DISCOVERY_TTL_MS), config: this.discover(conn.issuer, conn.clientId, conn.clientSecret) };
    this.cache.set(conn.id, entry);
    // A failure is not remembered: the next sign-in tries again (the IdP may be back).
    entry.config.catch(() => {
      if (this.cache.get(conn.id) === entry) this.cache.delete(conn.id);
    });
    return entry.config;
  }

  /** Forgets the cached discovery of a connection (after an update or delete). */
  invalidate(connectionId: string): void {
    this.cache.delete(connectionId);
  }

  /**
   * The authorization request of one sign-in: code flow, PKCE S256, a fresh `state` and `nonce`
   * (OIDC Core §3.1.2.1, §15.5.2: both, not PKCE alone), our redirect URI. Returns the URL to send
   * the browser to and what the callback must check, for the caller to keep.
   */
  async authorizationRequest(conn: SsoConnection, opts: { loginHint?: string } = {}): Promise<{ url: URL; checks: AuthorizationChecks }> {
    const config = await this.configuration(conn);
    const checks = { codeVerifier: client.randomPKCECodeVerifier(), state: client.randomState(), nonce: client.randomNonce() };
    const params: Record<string, string> = {
      redirect_uri: this.redirectUri(conn.id),
      scope: SSO_SCOPE,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(checks.codeVerifier),
      code_challenge_method: 'S256',
      state: checks.state,
      nonce: checks.nonce,
    };
    if (opts.loginHint) params.login_hint = opts.loginHint;
    return { url: client.buildAuthorizationUrl(config, params), checks };
  }

  /**
   * The callback: checks the authorization response against what the request kept (state, iss),
   * exchanges the code with the PKCE verifier, checks the ID token (nonce included) and returns
   * the person as the IdP describes them. Throws openid-client's errors (for the log).
   */
  async finish(conn: SsoConnection, query: URLSearchParams, checks: AuthorizationChecks): Promise<OidcIdentity> {
    const config = await this.configuration(conn);
    const current = new URL(this.redirectUri(conn.id));
    for (const [k, v] of query) current.searchParams.append(k, v);
    const tokens = await client.authorizationCodeGrant(config, current, {
      pkceCodeVerifier: checks.codeVerifier,
      expectedState: checks.state,
      expectedNonce: checks.nonce,
      idTokenExpected: true,
    });
    return identityFrom(config, tokens);
  }

  private async discover(issuer: string, clientId: string, clientSecret: string): Promise<client.Configuration> {
    const url = parseIssuer(issuer, { allowInsecure: this.deps.allowInsecure });
    const execute = url.protocol === 'http:' ? [client.allowInsecureRequests] : [];
    let config: client.Configuration;
    try {
      // The issuer itself, never its discovery URL: openid-client compares the document's
      // `issuer` with it only when it builds the .well-known URL itself (OIDC Discovery §4.3).
      config = await client.discovery(url, clientId, clientSecret, undefined, { execute, timeout: DISCOVERY_TIMEOUT_S, [client.customFetch]: this.fetch });
    } catch (err) {
      const named = (err as { cause?: { attribute?: string; body?: { issuer?: unknown } } }).cause;
      if (named?.attribute === 'issuer') throw anotherIssuer(url, String(named.body?.issuer));
      // The details (address, errno, status) go to the log only.
      this.deps.logger.warn({ issuer: url.href, detail: egressDetail(err) }, 'sso issuer discovery failed');
      throw new IssuerError(ISSUER_UNREACHABLE);
    }
    const server = config.serverMetadata();
    // openid-client lets a login.microsoftonline.com or *.b2clogin.com document name another
    // issuer (Entra's multi-tenant /common and /organizations name "{tenantid}") and then accepts
    // ID tokens of ANY Entra tenant. Anyone could then assert an address in our domains: we
    // require the tenant-specific issuer, identical to what the document says.
    if (new URL(server.issuer).href !== url.href) throw anotherIssuer(url, server.issuer);
    if (!server.authorization_endpoint || !server.token_endpoint) throw new IssuerError(`The issuer ${url.href} has no authorization or token endpoint`);
    // The endpoints the server itself will call must keep to the same rules as the issuer (the
    // addresses are checked again at each request, sso/network.ts); refusing a bad scheme here
    // gives the admin an answer now rather than a failed sign-in later.
    for (const endpoint of [server.token_endpoint, server.jwks_uri, server.userinfo_endpoint]) {
      if (!endpoint) continue;
      try {
        checkScheme(new URL(endpoint), this.deps.allowInsecure);
      } catch (err) {
        this.deps.logger.warn({ issuer: url.href, detail: egressDetail(err) }, 'sso issuer names an endpoint this server does not call');
        throw new IssuerError(`The discovery document of ${url.href} names an endpoint that is not https`);
      }
    }
    // RFC 8414 §2 / OIDC Discovery §3: an absent list means client_secret_basic. Okta and
    // oidc-provider enforce the method registered for the client (basic by default), Entra takes
    // both; openid-client would send client_secret_post, so pick basic whenever it is offered.
    const methods = server.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
    let auth: client.ClientAuth;
    if (methods.includes('client_secret_basic')) auth = client.ClientSecretBasic(clientSecret);
    else if (methods.includes('client_secret_post')) auth = client.ClientSecretPost(clientSecret);
    else throw new IssuerError(`The issuer ${url.href} accepts neither client_secret_basic nor client_secret_post at its token endpoint`);
    const configured = new client.Configuration(server, clientId, clientSecret, auth);
    for (const extension of execute) extension(configured);
    configured[client.customFetch] = this.fetch;
    configured.timeout = DISCOVERY_TIMEOUT_S;
    return configured;
  }
}

/** OIDC Discovery §4.3: the document's `issuer` must be the issuer it was fetched for. */
const anotherIssuer = (url: URL, named: string) =>
  new IssuerError(
    `The discovery document of ${url.href} names another issuer (${named}); use the exact issuer of your directory (for Microsoft Entra: https://login.microsoftonline.com/<directory-id>/v2.0)`,
  );

/**
 * The person as the IdP describes them. The email comes from the ID token; many IdPs (Okta's org
 * authorization server, oidc-provider with conformIdTokenClaims) put it only in userinfo, so
 * without an email there we ask userinfo, which must be about the same `sub` (OIDC Core §5.3.2:
 * openid-client checks it). Test: "email only in userinfo works".
 */
async function identityFrom(config: client.Configuration, tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers): Promise<OidcIdentity> {
  const claims = tokens.claims();
  if (!claims) throw new Error('The token response carries no ID token');
  let source: Record<string, unknown> = claims;
  if (typeof claims.email !== 'string' || !claims.email) {
    source = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
  }
  const email = typeof source.email === 'string' && source.email ? source.email : undefined;
  return { subject: claims.sub, email, emailVerified: verifiedFlag(source.email_verified) };
}

/** OIDC Core §5.1 makes email_verified a boolean; some IdPs (AWS Cognito) send "true"/"false". */
function verifiedFlag(value: unknown): boolean | undefined {
  if (value === true || value === 'true') return true;
  if (value === undefined || value === null) return undefined;
  return false;
}

/** An error's message for logs and admins, never a token (openid-client messages name claims, not values). */
export function describe(err: unknown): string {
  const e = err as { message?: string; code?: string; error?: string; cause?: { message?: string } };
  if (e?.error) return `${e.error}${e.message && e.message !== e.error ? `: ${e.message}` : ''}`;
  const cause = e?.cause?.message ? ` (${e.cause.message})` : '';
  return `${e?.message ?? String(err)}${e?.code ? ` [${e.code}]` : ''}${cause}`;
}

// The OAuth 2.0 endpoints of the server (issue 13):
//   POST {PUBLIC_URL}/oauth/token                              client credentials grant (RFC 6749 §4.4),
//                                                              authorization code (§4.1.3) and refresh token (§6)
//                                                              grants of code clients (oauth/grants.ts)
//   POST {PUBLIC_URL}/oauth/revoke                             token revocation (RFC 7009)
//   GET  {PUBLIC_URL}/oauth/authorize                          the consent page (http/oauth-authorize.ts)
//   GET  {PUBLIC_URL}/.well-known/jwks.json                    the public signing keys (RFC 7517)
//   GET  {PUBLIC_URL}/.well-known/oauth-authorization-server   metadata (RFC 8414)
//
// The token endpoint takes an application/x-www-form-urlencoded body (RFC 6749 §4.4.2) with
// grant_type=client_credentials and an optional scope; the client authenticates with HTTP Basic
// (client_secret_basic: id and secret form-encoded, then base64, RFC 6749 §2.3.1) or with
// client_id and client_secret in the body (client_secret_post) — one method per request (§2.3).
// Errors are RFC 6749 §5.2 JSON, {error, error_description}; a failed client authentication is
// 401 invalid_client with WWW-Authenticate: Basic. Answers are never cached (§5.1).
// test/api/oauth-clients.test.ts proves each of these on both databases.
import express, { ErrorRequestHandler, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { OAuthError, methodNotAllowed, oauthInvalidClient, oauthInvalidRequest, oauthInvalidScope, oauthTooManyFailures, oauthUnauthorizedClient, oauthUnsupportedGrantType } from '../errors';
import { CLIENT_SCOPES, ScimClients } from '../oauth/clients';
import type { OAuthGrants } from '../oauth/grants';
import type { ScimClientRow } from '../store/oauth-repo';
import type { ClientAuthLimiter } from '../oauth/client-limit';
import { SIGNING_ALG, SigningKeys } from '../oauth/signing-keys';
import { toScimError } from './error-handler';
import { handle } from './handle';

export interface OAuthRouterDeps {
  publicUrl: string;
  clients: ScimClients;
  grants: OAuthGrants;
  keys: SigningKeys;
  limiter: ClientAuthLimiter;
  logger: Logger;
  /** Called when a client address is refused for too many failures (metrics). */
  onRefused?: () => void;
}

const noStore = (res: Response) => res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });

/** One form parameter: absent, or given once (RFC 6749 §3.2: parameters MUST NOT repeat). */
function param(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw oauthInvalidRequest(`The parameter ${name} must be given once`);
  return v;
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined with ':' and base64-encoded. */
function basicCredentials(header: string): { id: string; secret: string } {
  const m = /^\s*basic\s+([A-Za-z0-9+/=_-]+)\s*$/i.exec(header);
  if (!m) throw oauthInvalidClient('Authenticate with HTTP Basic (client_secret_basic) or with client_id and client_secret in the body (client_secret_post)');
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw oauthInvalidClient('The Basic credentials must be client_id:client_secret');
  const form = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      throw oauthInvalidClient('The Basic credentials are not form-encoded correctly');
    }
  };
  return { id: form(decoded.slice(0, colon)), secret: form(decoded.slice(colon + 1)) };
}

/** Renders any error of the token endpoint as RFC 6749 §5.2 JSON. */
function oauthErrorHandler(logger: Logger): ErrorRequestHandler {
  return (err, _req, res, next) => {
    if (res.headersSent) return next(err);
    const e = toScimError(err, logger);
    for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
    const error = e instanceof OAuthError ? e.error : e.status >= 500 ? 'server_error' : 'invalid_request';
    noStore(res).status(e.status).json({ error, error_description: e.message });
  };
}

export function createOAuthRouter(deps: OAuthRouterDeps): Router {
  const router = express.Router();
  const tokenEndpoint = `${deps.publicUrl}/oauth/token`;

  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 20 });
  const formBody = (req: Request): Record<string, unknown> => {
    const body = (req.body && typeof req.body === 'object' ? req.body : undefined) as Record<string, unknown> | undefined;
    if (!body || !req.is('application/x-www-form-urlencoded')) throw oauthInvalidRequest('Send the request as application/x-www-form-urlencoded (RFC 6749 §4.4.2, RFC 7009 §2.1)');
    return body;
  };

  /**
   * The client of a token or revocation request, authenticated with client_secret_basic or
   * client_secret_post (one method per request, RFC 6749 §2.3), under the failure limit.
   */
  const authenticateClient = async (req: Request, body: Record<string, unknown>): Promise<ScimClientRow> => {
    const header = req.headers.authorization;
    const postId = param(body, 'client_id');
    const postSecret = param(body, 'client_secret');
    let id: string;
    let secret: string;
    if (header) {
      // RFC 6749 §2.3: one authentication method per request.
      if (postSecret !== undefined) throw oauthInvalidRequest('Use one client authentication method: HTTP Basic or client_secret in the body, not both');
      ({ id, secret } = basicCredentials(header));
      if (postId !== undefined && postId !== id) throw oauthInvalidRequest('client_id in the body differs from the one in the Authorization header');
    } else {
      if (!postId || postSecret === undefined) throw oauthInvalidClient('Client authentication is required: HTTP Basic (client_secret_basic) or client_id and client_secret in the body (client_secret_post)');
      [id, secret] = [postId, postSecret];
    }

    const address = req.ip ?? '';
    const wait = await deps.limiter.waitFor(id, address);
    if (wait > 0) {
      deps.onRefused?.();
      throw oauthTooManyFailures(`Too many failed client authentications from this address; try again in ${wait} seconds`, wait);
    }
    const client = await deps.clients.authenticate(id, secret);
    if (!client) {
      await deps.limiter.failed(id, address);
      deps.logger.info({ clientId: id.slice(0, 64) }, 'OAuth client authentication failed');
      throw oauthInvalidClient('Client authentication failed: unknown client, wrong secret, or the client was revoked');
    }
    return client;
  };

  router.all('/oauth/token', (req, _res, next) => next(req.method === 'POST' ? undefined : methodNotAllowed(['POST'])));
  router.post(
    '/oauth/token',
    // Token requests are a few hundred bytes; nothing larger is read.
    form,
    handle(async (req: Request, res: Response) => {
      const body = formBody(req);
      const grantType = param(body, 'grant_type');
      if (!grantType) throw oauthInvalidRequest('grant_type is required: client_credentials, authorization_code or refresh_token');
      if (!['client_credentials', 'authorization_code', 'refresh_token'].includes(grantType)) throw oauthUnsupportedGrantType(`grant_type ${grantType} is not supported; use client_credentials, authorization_code or refresh_token`);
      const client = await authenticateClient(req, body);

      if (grantType === 'authorization_code') {
        const answer = await deps.grants.exchangeCode(client, { code: param(body, 'code'), redirectUri: param(body, 'redirect_uri'), codeVerifier: param(body, 'code_verifier') });
        return void noStore(res).json(answer);
      }
      if (grantType === 'refresh_token') {
        const answer = await deps.grants.refresh(client, param(body, 'refresh_token'), param(body, 'scope'));
        return void noStore(res).json(answer);
      }
      // A client registered for the authorization code grant gets tokens only through a person's consent.
      if (client.grant_type !== 'client_credentials') throw oauthUnauthorizedClient('This client is registered for the authorization code grant: client_credentials is not allowed');

      const asked = param(body, 'scope');
      let scopes = client.scopes;
      if (asked !== undefined) {
        const wanted = asked.split(' ').filter(Boolean);
        const unknown = wanted.filter((s) => !client.scopes.includes(s));
        if (!wanted.length || unknown.length) throw oauthInvalidScope(`This client may ask for ${client.scopes.map((s) => `"${s}"`).join(', ')}${unknown.length ? `, not "${unknown[0]}"` : ''}`);
        scopes = CLIENT_SCOPES.filter((s) => wanted.includes(s));
      }
      const issued = await deps.clients.issue(client, scopes);
      deps.logger.info({ clientId: client.id, tenantId: client.tenant_id, scope: issued.scope }, 'OAuth access token issued');
      noStore(res).json({ access_token: issued.accessToken, token_type: 'Bearer', expires_in: issued.expiresIn, scope: issued.scope });
    }),
  );

  // RFC 7009: the client authenticates as at the token endpoint; an unknown or foreign token is
  // answered 200 all the same (§2.2), so the endpoint tells nothing about tokens.
  router.all('/oauth/revoke', (req, _res, next) => next(req.method === 'POST' ? undefined : methodNotAllowed(['POST'])));
  router.post(
    '/oauth/revoke',
    form,
    handle(async (req: Request, res: Response) => {
      const body = formBody(req);
      const token = param(body, 'token');
      if (!token) throw oauthInvalidRequest('token is required (RFC 7009 §2.1)');
      param(body, 'token_type_hint'); // a hint only (§2.1): both kinds are looked for
      const client = await authenticateClient(req, body);
      await deps.grants.revokeToken(client, token);
      noStore(res).status(200).end();
    }),
  );
  router.use('/oauth', oauthErrorHandler(deps.logger));

  router.get(
    '/.well-known/jwks.json',
    handle(async (_req, res) => {
      // Short caching: a relying party that meets an unknown key id fetches again anyway.
      res.set('Cache-Control', 'public, max-age=300').type('application/jwk-set+json').send(JSON.stringify({ keys: await deps.keys.jwks() }));
    }),
  );
  router.get('/.well-known/oauth-authorization-server', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=3600').json({
      issuer: deps.publicUrl,
      authorization_endpoint: `${deps.publicUrl}/oauth/authorize`,
      token_endpoint: tokenEndpoint,
      revocation_endpoint: `${deps.publicUrl}/oauth/revoke`,
      jwks_uri: `${deps.publicUrl}/.well-known/jwks.json`,
      grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
      scopes_supported: [...CLIENT_SCOPES, 'offline_access'],
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      // RFC 9207: the authorization response carries iss.
      authorization_response_iss_parameter_supported: true,
      // RFC 9068 access tokens, signed with this algorithm.
      access_token_signing_alg_values_supported: [SIGNING_ALG],
    });
  });
  return router;
}

// Signing in with the tenant's IdP (issue 5, "OIDC with the tenant's IdP", docs/sso.md):
//
//   GET /login/oidc/:connectionId/start[?login_hint=…]  → 302 to the IdP's authorization endpoint
//   GET /login/oidc/:connectionId/callback?code&state…  → signIn.complete, or signIn.fail
//
// The session (express-session, mounted before these routes) carries the PKCE verifier, state
// and nonce between the two under `oidc:<connectionId>`; openid-client checks them and the ID
// token (sso/oidc.ts). Then our rules: the IdP's email must be verified (`email_verified` true;
// an absent claim counts as unverified unless an admin set trustEmail on the connection), in one
// of the connection's domains, and belong to an existing user of the connection's tenant who may
// sign in (signIn.findEligible: active, not blocked by sub-accounts). The first sign-in links the
// IdP's `sub` to that user; later sign-ins go by the link (OIDC Core §5.7: `sub` is the stable
// identifier, an email can be reassigned). No sign-in ever creates a user. Every refusal answers
// the same generic message — which check failed is in the log at info, without tokens or the
// address — so the page never tells whether an email exists. Test: test/api/sso.test.ts.
import type { NextFunction, Request, Response, Router } from 'express';
import type passport from 'passport';
import type { Logger } from 'pino';
import { inTenant } from '../store/scope';
import { describe, OidcConnections, OidcIdentity, SsoConnection } from '../sso/oidc';
import type { SignIn } from './contracts';

export const OIDC_FAILURE_MESSAGE = "We could not sign you in with your organisation's identity provider.";

export interface OidcRoutesDeps {
  sso: OidcConnections;
  signIn: SignIn;
  /** A Passport instance of our own (`new Passport()`), never the module's singleton. */
  passport: Pick<passport.Authenticator, 'use' | 'unuse' | 'authenticate'>;
  logger: Logger;
  clock?: () => Date;
  /**
   * Where these routes are mounted relative to the router given: '/login/oidc' on the app (the
   * default), '/oidc' inside a router mounted at /login. The IdP always returns to
   * `${publicUrl}/login/oidc/<id>/callback` (OidcConnections.redirectUri).
   */
  basePath?: string;
}

/** A refusal: its reason goes to the log, the person sees OIDC_FAILURE_MESSAGE. */
class Refusal {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly level: 'info' | 'warn' | 'error' = 'info',
  ) {}
}

const domainOf = (email: string) => email.slice(email.lastIndexOf('@') + 1);

export function oidcRoutes(deps: OidcRoutesDeps): (router: Router) => void {
  const { sso, signIn, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const base = (deps.basePath ?? '/login/oidc').replace(/\/+$/, '');

  const refuse = (req: Request, res: Response, r: Refusal, context: Record<string, unknown>) => {
    logger[r.level]({ ...context, reason: r.reason }, 'oidc sign-in refused');
    signIn.fail(req, res, OIDC_FAILURE_MESSAGE, r.status);
  };

  /**
   * Runs the connection's strategy through passport without passport's sessions (session: false:
   * passport serializes no user; signIn.complete makes the session). Registered under its
   * per-connection name just for this call: passport looks the name up synchronously inside
   * authenticate(), so unregistering right after keeps no strategy of a deleted or changed
   * connection around.
   */
  const runStrategy = async (conn: SsoConnection, req: Request, res: Response, next: NextFunction, options: Record<string, unknown>) => {
    let strategy;
    try {
      strategy = await sso.strategy(conn);
    } catch (err) {
      throw new Refusal(502, `IdP discovery failed: ${describe(err)}`, 'warn');
    }
    return new Promise<{ identity?: OidcIdentity; info?: unknown; err?: unknown; answered?: boolean }>((resolve) => {
      // The strategy answered itself (the redirect to the IdP) instead of calling back.
      res.once('finish', () => resolve({ answered: true }));
      const name = sso.strategyName(conn.id);
      deps.passport.use(name, strategy);
      try {
        const middleware = deps.passport.authenticate(name, { session: false, ...options }, (err: unknown, user: OidcIdentity | false, info: unknown) =>
          resolve({ err, identity: user || undefined, info }),
        );
        middleware(req, res, next);
      } finally {
        deps.passport.unuse(name);
      }
    });
  };

  const connectionOf = async (req: Request, res: Response): Promise<SsoConnection> => {
    let conn: SsoConnection | undefined;
    try {
      conn = await sso.find(String(req.params.connectionId));
    } catch (err) {
      // The stored client secret does not open: SECRET_KEY changed since it was sealed.
      if (err instanceof Error && /Unsupported state|unable to authenticate|Not a sealed value/i.test(err.message)) {
        throw new Refusal(500, 'the client secret cannot be opened with the current SECRET_KEY: set the secret again (PATCH clientSecret)', 'error');
      }
      throw err;
    }
    if (!conn) throw new Refusal(404, 'unknown connection');
    res.locals.ssoTenantId = conn.tenantId;
    return conn;
  };

  const start = async (req: Request, res: Response, next: NextFunction) => {
    const conn = await connectionOf(req, res);
    const hint = typeof req.query.login_hint === 'string' && req.query.login_hint.length <= 320 ? req.query.login_hint : undefined;
    // On success the strategy answers the redirect itself (after express-session saved the
    // state); the callback below runs only when it could not build the request.
    const { err, answered } = await runStrategy(conn, req, res, next, hint ? { loginHint: hint } : {});
    if (answered) return;
    throw new Refusal(502, `authorization request failed: ${describe(err)}`, 'warn');
  };

  /** Our rules on what the IdP said; returns the user to sign in. */
  const decide = async (conn: SsoConnection, identity: OidcIdentity): Promise<{ userId: string; email: string }> => {
    const email = identity.email?.trim().toLowerCase();
    if (!email || !email.includes('@')) throw new Refusal(403, 'the IdP sent no email');
    // Exact domains: a subdomain is another domain, and it may be run by someone else.
    if (!conn.emailDomains.includes(domainOf(email))) throw new Refusal(403, `email domain ${domainOf(email)} is not one of the connection's`);
    // OIDC Core §5.1: email_verified false, or absent, means the IdP does not vouch for the
    // address; accepting it would let anyone who can set their email at the IdP become our user
    // with that address. trustEmail is the admin's knowing exception for IdPs that never send the
    // claim (Entra); an explicit false is never overridden.
    const verified = identity.emailVerified === true || (identity.emailVerified === undefined && conn.trustEmail);
    if (!verified) throw new Refusal(403, identity.emailVerified === false ? 'email not verified by the IdP' : 'the IdP sent no email_verified (trustEmail is off)');

    const repo = sso.repo;
    const linked = await inTenant(sso.knex, conn.tenantId, async (trx) => {
      const userId = await repo.linkedUser(trx, conn.tenantId, conn.id, identity.subject);
      if (!userId) return undefined;
      const row = await trx('users').where({ tenant_id: conn.tenantId, id: userId }).first('user_name');
      return { userId, userName: row?.user_name as string | undefined };
    });
    if (linked) {
      // The link decides who this is; the user must still be allowed in, by the same rules as
      // every other way in (signIn.findEligible on their current sign-in email).
      const eligible = linked.userName ? await signIn.findEligible(conn.tenantId, linked.userName) : undefined;
      if (!eligible || eligible.userId !== linked.userId) throw new Refusal(403, 'the linked user may not sign in');
      return { userId: linked.userId, email };
    }

    const eligible = await signIn.findEligible(conn.tenantId, email);
    if (!eligible) throw new Refusal(403, 'no user of the tenant may sign in with this email');
    const at = clock();
    const outcome = await inTenant(sso.knex, conn.tenantId, async (trx) => {
      // A user already linked to another subject at this IdP: the address now belongs to a
      // different IdP account (reassigned mailbox). Refused until an admin sorts it out.
      const other = await repo.subjectOf(trx, conn.tenantId, conn.id, eligible.userId);
      if (other !== undefined && other !== identity.subject) return 'other-subject';
      if (await repo.link(trx, conn.tenantId, conn.id, identity.subject, eligible.userId, at)) return 'linked';
      // A concurrent first sign-in linked meanwhile: fine if it made the same link.
      return (await repo.linkedUser(trx, conn.tenantId, conn.id, identity.subject)) === eligible.userId ? 'already' : 'other-subject';
    });
    if (outcome === 'other-subject') throw new Refusal(403, 'the user is linked to another subject at this IdP');
    if (outcome === 'linked') logger.info({ tenantId: conn.tenantId, connectionId: conn.id, userId: eligible.userId }, 'oidc subject linked');
    return { userId: eligible.userId, email };
  };

  const callback = async (req: Request, res: Response, next: NextFunction) => {
    const conn = await connectionOf(req, res);
    const { err, identity, info, answered } = await runStrategy(conn, req, res, next, {});
    if (answered) return;
    // err: the IdP's error response, a wrong state, iss, nonce, audience or signature, a failed
    // code exchange. No identity: no authorization request in this session (expired, replayed,
    // another browser) or the person declined (access_denied).
    if (err) throw new Refusal(400, `authorization response rejected: ${describe(err)}`);
    if (!identity) throw new Refusal(400, `authorization response rejected: ${(info as { message?: string } | undefined)?.message ?? 'no identity'}`);
    const who = await decide(conn, identity);
    await signIn.complete(req, res, { tenantId: conn.tenantId, userId: who.userId, method: 'oidc', verifiedEmail: who.email });
  };

  const route = (fn: (req: Request, res: Response, next: NextFunction) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res, next).catch((err) => {
      const context = { connectionId: String(req.params.connectionId).slice(0, 64), tenantId: res.locals.ssoTenantId };
      if (err instanceof Refusal) return refuse(req, res, err, context);
      next(err);
    });
  };

  return (router) => {
    router.get(`${base}/:connectionId/start`, route(start));
    router.get(`${base}/:connectionId/callback`, route(callback));
  };
}

// Signing in with the tenant's IdP (issue 5, "OIDC with the tenant's IdP", docs/sso.md):
//
//   GET /login/oidc/:connectionId/start[?login_hint=…]  → 303 to the IdP's authorization endpoint
//   GET /login/oidc/:connectionId/callback?code&state…  → signIn.complete, or signIn.fail
//
// The PKCE verifier, state and nonce travel between the two in a sealed, short-lived cookie
// (sso/flow-state.ts), never in a session row: an anonymous visitor creates no row (issue 9
// point 12). openid-client checks them and the ID token (sso/oidc.ts). Then our rules: the IdP's
// email must be verified (`email_verified` true; an absent claim counts as unverified unless an
// admin set trustEmail on the connection), in one of the connection's domains, and belong to an
// existing user of the connection's tenant who may sign in (signIn.findEligible: active, not
// blocked by sub-accounts). The first sign-in links the IdP's `sub` to that user; later sign-ins
// go by the link (OIDC Core §5.7: `sub` is the stable identifier, an email can be reassigned).
// The primary admin is signed in only through a link they made themselves (sso/policy.ts,
// issue 9 point 5). No sign-in ever creates a user. Every refusal answers the same generic
// message — which check failed is in the log at info, without tokens or the address — so the
// page never tells whether an email exists. Test: test/api/sso.test.ts.
//
// The same callback finishes a link started from the account page (front-door/identity-routes.ts,
// flow mode 'link'): the signed-in person's own IdP account is linked to them when the IdP's
// verified email is their sign-in email.
import cookieParser from 'cookie-parser';
import type { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { FLOW_COOKIE, FLOW_COOKIE_PATH, FLOW_TTL_MS, FlowSeal, FlowState } from '../sso/flow-state';
import type { IdentityLinks } from '../sso/identities';
import { describe, IssuerError, OidcConnections, OidcIdentity, SsoConnection } from '../sso/oidc';
import { linkHonoured } from '../sso/policy';
import { inTenant } from '../store/scope';
import type { SignIn } from './contracts';
import type { FrontPages } from './front-pages';

/** The English words of every refused OIDC sign-in (locales/<lang>/front.json `login.oidcFailed`). */
export const OIDC_FAILURE_MESSAGE = "We could not sign you in with your organisation's identity provider.";

export interface OidcFlowDeps {
  sso: OidcConnections;
  /** Seals the flow state into its cookie (sso/flow-state.ts). */
  flows: FlowSeal;
  /** Cookies are Secure when the public URL is https. */
  secure: boolean;
}

export interface OidcRoutesDeps extends OidcFlowDeps {
  signIn: SignIn;
  /** The pages of a link's end (front-door/front-pages.ts); without them, those answers are plain text. */
  pages?: FrontPages;
  links: IdentityLinks;
  logger: Logger;
  clock?: () => Date;
  /** Counts refused sign-ins (metrics/metrics.ts). */
  metrics?: { signInFailed(method: 'oidc'): void };
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

/**
 * Sends the browser to the IdP: a fresh authorization request whose checks are sealed into the
 * flow cookie. Used by the sign-in start and by the account page's "link" (mode 'link').
 * Throws IssuerError when the IdP's discovery fails.
 */
export async function startFlow(
  deps: OidcFlowDeps,
  res: Response,
  conn: SsoConnection,
  flow: Pick<FlowState, 'mode' | 'tenantId' | 'userId'>,
  loginHint?: string,
): Promise<void> {
  const { url, checks } = await deps.sso.authorizationRequest(conn, { loginHint });
  const sealed = deps.flows.seal({ connectionId: conn.id, ...checks, ...flow });
  // SameSite=Lax: the IdP's redirect back is a top-level GET, which carries it; a cross-site
  // POST or an embedded request does not.
  res.cookie(FLOW_COOKIE, sealed, { httpOnly: true, secure: deps.secure, sameSite: 'lax', path: FLOW_COOKIE_PATH, maxAge: FLOW_TTL_MS });
  res.redirect(303, url.href);
}

export function oidcRoutes(deps: OidcRoutesDeps): (router: Router) => void {
  const { sso, signIn, logger, links } = deps;
  const base = (deps.basePath ?? '/login/oidc').replace(/\/+$/, '');
  const cookies = cookieParser();

  const refuse = (req: Request, res: Response, r: Refusal, context: Record<string, unknown>) => {
    logger[r.level]({ ...context, reason: r.reason }, 'oidc sign-in refused');
    deps.metrics?.signInFailed('oidc');
    signIn.fail(req, res, 'oidcFailed', r.status);
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

  const start = async (req: Request, res: Response) => {
    const conn = await connectionOf(req, res);
    const hint = typeof req.query.login_hint === 'string' && req.query.login_hint.length <= 320 ? req.query.login_hint : undefined;
    try {
      await startFlow(deps, res, conn, { mode: 'sign-in' }, hint);
    } catch (err) {
      if (err instanceof IssuerError) throw new Refusal(502, `IdP discovery failed: ${err.message}`, 'warn');
      throw new Refusal(502, `authorization request failed: ${describe(err)}`, 'warn');
    }
  };

  /**
   * The IdP's email as our rules accept it, lower-cased. OIDC Core §5.1: email_verified false, or
   * absent, means the IdP does not vouch for the address; accepting it would let anyone who can
   * set their email at the IdP become our user with that address. trustEmail is the admin's
   * knowing exception for IdPs that never send the claim (Entra); an explicit false is never
   * overridden. Exact domains: a subdomain is another domain, and it may be run by someone else.
   */
  const acceptedEmail = (conn: SsoConnection, identity: OidcIdentity): string => {
    const email = identity.email?.trim().toLowerCase();
    if (!email || !email.includes('@')) throw new Refusal(403, 'the IdP sent no email');
    if (!conn.emailDomains.includes(domainOf(email))) throw new Refusal(403, `email domain ${domainOf(email)} is not one of the connection's`);
    const verified = identity.emailVerified === true || (identity.emailVerified === undefined && conn.trustEmail);
    if (!verified) throw new Refusal(403, identity.emailVerified === false ? 'email not verified by the IdP' : 'the IdP sent no email_verified (trustEmail is off)');
    return email;
  };

  /** Our rules on what the IdP said; returns the user to sign in. */
  const decide = async (conn: SsoConnection, identity: OidcIdentity): Promise<{ userId: string; email: string }> => {
    const email = acceptedEmail(conn, identity);
    const linked = await inTenant(sso.knex, conn.tenantId, (trx) => sso.repo.linkedUser(trx, conn.tenantId, conn.id, identity.subject));
    if (linked) {
      // The primary admin comes in only by a link they made themselves (issue 9 point 5).
      if (!linkHonoured(linked, linked.linkedBy)) throw new Refusal(403, 'the primary admin is signed in through SSO only with a link they made themselves while signed in');
      // The link decides who this is; the user must still be allowed in, by the same rules as
      // every other way in (signIn.findEligible on their current sign-in email).
      const eligible = await signIn.findEligible(conn.tenantId, linked.userName);
      if (!eligible || eligible.userId !== linked.userId) throw new Refusal(403, 'the linked user may not sign in');
      return { userId: linked.userId, email };
    }

    const eligible = await signIn.findEligible(conn.tenantId, email);
    if (!eligible) throw new Refusal(403, 'no user of the tenant may sign in with this email');
    const outcome = await links.linkAtFirstSignIn(conn.tenantId, conn.id, identity.subject, eligible.userId);
    // A user already linked to another subject at this IdP: the address now belongs to a
    // different IdP account (reassigned mailbox). Refused until an admin sorts it out.
    if (outcome === 'other-subject') throw new Refusal(403, 'the user is linked to another subject at this IdP');
    if (outcome === 'primary-admin') throw new Refusal(403, 'the primary admin is never linked at a first SSO sign-in: they link their IdP account themselves from the account page');
    if (outcome === 'linked') logger.info({ tenantId: conn.tenantId, connectionId: conn.id, userId: eligible.userId }, 'oidc subject linked');
    return { userId: eligible.userId, email };
  };

  /**
   * The end of a link started from the account page: the same person must still be signed in,
   * and the IdP's verified email must be their sign-in email. The person is signed in, so the
   * page may say what went wrong about their own account.
   */
  const finishLink = async (req: Request, res: Response, conn: SsoConnection, flow: FlowState, identity: OidcIdentity) => {
    const u = req.session?.user;
    const page = (status: number, text: 'signInFirst' | 'notVouched' | 'otherEmail' | 'subjectTaken' | 'otherSubject') => {
      if (!deps.pages) return void res.status(status).type('text').send(text);
      deps.pages.message(req, res, { title: 'identities.linkTitle', text: `identities.${text}`, link: { href: '/account/identities', text: 'identities.backToSettings' } }, { status, back: '/account/identities' });
    };
    if (!u || u.tenantId !== flow.tenantId || u.userId !== flow.userId || conn.tenantId !== u.tenantId) {
      logger.info({ connectionId: conn.id, tenantId: conn.tenantId }, 'oidc link refused: not signed in as the person who started it');
      return page(403, 'signInFirst');
    }
    let email: string;
    try {
      email = acceptedEmail(conn, identity);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      logger.info({ connectionId: conn.id, tenantId: conn.tenantId, userId: u.userId, reason: err.reason }, 'oidc link refused');
      return page(403, 'notVouched');
    }
    const person = await inTenant(sso.knex, u.tenantId, (trx) => sso.repo.userFacts(trx, u.tenantId, u.userId));
    if (!person || person.userName.trim().toLowerCase() !== email) {
      logger.info({ connectionId: conn.id, tenantId: conn.tenantId, userId: u.userId, reason: 'the IdP email is not the sign-in email' }, 'oidc link refused');
      return page(403, 'otherEmail');
    }
    const outcome = await links.linkSelf(u.tenantId, conn.id, identity.subject, u.userId);
    if (outcome === 'subject-taken') return page(409, 'subjectTaken');
    if (outcome === 'other-subject') return page(409, 'otherSubject');
    logger.info({ tenantId: u.tenantId, connectionId: conn.id, userId: u.userId, outcome }, 'oidc subject linked by the person');
    res.redirect(303, '/account/identities?linked=1');
  };

  const callback = async (req: Request, res: Response) => {
    const conn = await connectionOf(req, res);
    const opened = deps.flows.open((req.cookies as Record<string, string> | undefined)?.[FLOW_COOKIE], conn.id);
    // One use: whatever happens next, the state is gone from the browser.
    res.clearCookie(FLOW_COOKIE, { path: FLOW_COOKIE_PATH, httpOnly: true, secure: deps.secure, sameSite: 'lax' });
    if (!opened.ok) throw new Refusal(400, `authorization response rejected: ${opened.reason}`);
    const query = new URLSearchParams(req.url.slice(req.url.indexOf('?') + 1 || req.url.length));
    let identity: OidcIdentity;
    try {
      identity = await sso.finish(conn, query, opened.flow);
    } catch (err) {
      if (err instanceof IssuerError) throw new Refusal(502, `IdP discovery failed: ${err.message}`, 'warn');
      // The IdP's error response (access_denied…), a wrong state, iss, nonce, audience or
      // signature, a failed code exchange.
      throw new Refusal(400, `authorization response rejected: ${describe(err)}`);
    }
    if (opened.flow.mode === 'link') return finishLink(req, res, conn, opened.flow, identity);
    const who = await decide(conn, identity);
    await signIn.complete(req, res, { tenantId: conn.tenantId, userId: who.userId, method: 'oidc', verifiedEmail: who.email });
  };

  const route = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch((err) => {
      const context = { connectionId: String(req.params.connectionId).slice(0, 64), tenantId: res.locals.ssoTenantId };
      if (err instanceof Refusal) return refuse(req, res, err, context);
      next(err);
    });
  };

  return (router) => {
    router.get(`${base}/:connectionId/start`, route(start));
    router.get(`${base}/:connectionId/callback`, cookies, route(callback));
  };
}

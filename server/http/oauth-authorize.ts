// {PUBLIC_URL}/oauth/authorize: the authorization endpoint of the authorization code grant
// (RFC 6749 §4.1.1) for SCIM clients such as Okta's "OAuth 2" authentication. The rules are in
// oauth/grants.ts; this is the HTTP and the pages:
//
// 1. client_id and redirect_uri are checked first; when either is wrong the person gets a page
//    that says so and nothing is redirected (§4.1.2.1: never send to an unverified URI).
// 2. Every other problem goes back to the redirect URI as error=…, with state and iss.
// 3. The person signs in through the front door (/login, and back here: oauth/resume.ts); only
//    an active admin of the client's whole tenant is shown the consent page — someone of another
//    tenant, or not an admin, gets a refusal page and never a code.
// 4. The consent page (views/front-door/oauth-consent.eta, EN/FR, no scripts) posts back here
//    with its CSRF token; allow sends a single-use code, deny sends error=access_denied, both
//    with state and iss (RFC 9207).
// test/api/oauth-code.test.ts (every step, both databases), test/browser/oauth-consent.test.ts.
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { People } from '../accounts/people';
import type { FrontPages, Message } from '../front-door/front-pages';
import type { SessionStack } from '../front-door/sessions';
import { AuthorizeError, AuthorizeRequest, OAuthGrants, single } from '../oauth/grants';
import type { AuthorizeResume } from '../oauth/resume';
import type { ScimClientRow } from '../store/oauth-repo';
import { handle } from './handle';

export interface AuthorizeDeps {
  publicUrl: string;
  grants: OAuthGrants;
  stack: SessionStack;
  pages: FrontPages;
  people: People;
  resume: AuthorizeResume;
  /** Where a signed-in person who still owes something (a password change, the privacy policy) goes first. */
  landing(req: Request): Promise<string>;
  logger: Logger;
}

/** The parameters the consent form carries back (hidden fields), as they came. */
const CARRIED = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'] as const;

/** The redirect URI with the answer's parameters added to its own query (RFC 6749 §3.1.2: keep its query). */
function answerUrl(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export function createAuthorizeRouter(d: AuthorizeDeps): Router {
  const router = express.Router();
  const page = (req: Request, res: Response, m: Message, status: number) => d.pages.message(req, res, m, { status, back: '/login' });

  /** Steps 1 and 2 for a GET's query or a POST's form; undefined when a page or a redirect already answered. */
  const check = async (req: Request, res: Response, params: Record<string, unknown>): Promise<{ client: ScimClientRow; redirectUri: string; request: AuthorizeRequest; state?: string } | undefined> => {
    let clientId: string | undefined;
    let redirect: string | undefined;
    try {
      clientId = single(params, 'client_id');
      redirect = single(params, 'redirect_uri');
    } catch {
      page(req, res, { title: 'oauth.badRequestTitle', text: 'oauth.repeated' }, 400);
      return undefined;
    }
    const found = await d.grants.clientFor(clientId, redirect);
    if (!found.ok) {
      d.logger.info({ problem: found.problem }, 'OAuth authorize request refused before any redirect');
      // The URI that was presented is shown (as text, never a link) so the tenant's admin can
      // register exactly it; Okta does not publish its callback address in advance.
      if (found.problem === 'redirect') page(req, res, { title: 'oauth.badRequestTitle', text: 'oauth.badRedirect', params: { uri: found.presented ?? '—' } }, 400);
      else page(req, res, { title: 'oauth.badRequestTitle', text: 'oauth.badClient' }, 400);
      return undefined;
    }
    const { client, redirectUri } = found;
    const state = typeof params.state === 'string' ? params.state : undefined;
    try {
      return { client, redirectUri, request: d.grants.checkRequest(client, params), state };
    } catch (err) {
      if (!(err instanceof AuthorizeError)) throw err;
      res.redirect(303, answerUrl(redirectUri, { error: err.error, error_description: err.message, state, iss: d.publicUrl }));
      return undefined;
    }
  };

  /** Step 3: the person, signed in and allowed to consent; undefined when a page or redirect answered. */
  const person = async (req: Request, res: Response, client: ScimClientRow, resumeUrl?: string) => {
    const u = req.session.user;
    if (!u || req.session.mustChangePassword || req.session.mustAcceptPrivacy) {
      if (!resumeUrl) {
        // A consent form posted without a session (it ended meanwhile): start again from Okta.
        page(req, res, { title: 'oauth.signInTitle', text: 'oauth.sessionEnded' }, 403);
        return undefined;
      }
      d.resume.set(res, resumeUrl);
      res.redirect(303, u ? await d.landing(req) : '/login');
      return undefined;
    }
    const who = await d.people.mayEnter(u.tenantId, u.userId);
    if (!who) {
      page(req, res, { title: 'oauth.refusedTitle', text: 'oauth.keptOut' }, 403);
      return undefined;
    }
    res.locals.reader = who;
    const may = await d.grants.mayConsent(client, u);
    if (may !== 'ok') {
      d.logger.info({ tenantId: u.tenantId, userId: u.userId, clientId: client.id, why: may }, 'OAuth consent refused to this person');
      d.resume.clear(req, res);
      page(req, res, { title: 'oauth.refusedTitle', text: may === 'otherTenant' ? 'oauth.otherTenant' : 'oauth.notAdmin', link: { href: '/account', text: 'links.back' } }, 403);
      return undefined;
    }
    return { userId: u.userId, tenantName: who.tenant.name };
  };

  router.use('/oauth/authorize', d.stack.session);
  router.all('/oauth/authorize', (req, res, next) => {
    if (req.method === 'GET' || req.method === 'POST' || req.method === 'HEAD') return next();
    res.set('Allow', 'GET, POST');
    page(req, res, { title: 'oauth.badRequestTitle', text: 'oauth.method' }, 405);
  });

  router.get(
    '/oauth/authorize',
    handle(async (req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store');
      const params = req.query as Record<string, unknown>;
      const ok = await check(req, res, params);
      if (!ok) return;
      const who = await person(req, res, ok.client, req.originalUrl);
      if (!who) return;
      d.resume.clear(req, res);
      const fields = Object.fromEntries(CARRIED.map((k) => [k, typeof params[k] === 'string' ? (params[k] as string) : undefined]).filter(([, v]) => v !== undefined));
      d.pages.render(req, res, 'oauth-consent', { clientName: ok.client.name, tenantName: who.tenantName, scopes: ok.request.scopes, redirectHost: new URL(ok.redirectUri).host, fields });
    }),
  );

  router.post(
    '/oauth/authorize',
    d.stack.forms,
    handle(async (req: Request, res: Response) => {
      res.set('Cache-Control', 'no-store');
      const params = { ...(req.body as Record<string, unknown>) };
      delete params._csrf;
      const decision = params.decision;
      delete params.decision;
      const ok = await check(req, res, params);
      if (!ok) return;
      const who = await person(req, res, ok.client);
      if (!who) return;
      if (decision !== 'allow') {
        d.logger.info({ clientId: ok.client.id, userId: who.userId }, 'OAuth consent denied');
        return res.redirect(303, answerUrl(ok.redirectUri, { error: 'access_denied', error_description: 'The administrator did not allow access', state: ok.state, iss: d.publicUrl }));
      }
      const code = await d.grants.issueCode(ok.client, ok.redirectUri, ok.request, who.userId);
      d.logger.info({ clientId: ok.client.id, userId: who.userId, tenantId: ok.client.tenant_id }, 'OAuth consent given: code issued');
      res.redirect(303, answerUrl(ok.redirectUri, { code, state: ok.state, iss: d.publicUrl }));
    }),
  );

  // Errors here are pages, in the page's language: CSRF failures, bad form bodies, anything unexpected.
  router.use('/oauth/authorize', (err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { code?: string; status?: number; statusCode?: number; message?: string };
    if (e.code === 'EBADCSRFTOKEN') return page(req, res, { title: 'errors.expiredTitle', text: 'errors.expired' }, 403);
    const status = e.status ?? e.statusCode;
    if (status && status >= 400 && status < 500) return page(req, res, { title: 'errors.badRequestTitle', text: 'errors.badRequest' }, status);
    d.logger.error({ err: { message: e.message } }, 'OAuth authorize error');
    page(req, res, { title: 'errors.unavailableTitle', text: 'errors.unavailable' }, 503);
  });
  return router;
}

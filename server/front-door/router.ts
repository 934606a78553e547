// The front door's pages: {PUBLIC_URL}/login (email first), the password step, activation,
// forgot/reset password, email verification, privacy acceptance, the account page and the
// console's landing, sign-out, and GET /api/v1/me for the signed-in person.
// Every POST carries a CSRF token; every answer to a bad input is a page that says what to do,
// and no answer tells whether an email exists (issue 5, "Signing in").
import type { ApiSection } from '../openapi/describe';
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { unauthorized } from '../errors';
import { jsonErrorHandler } from '../http/error-handler';
import type { AfterResponse } from '../http/after-response';
import { handle } from '../http/handle';
import type { People } from '../accounts/people';
import type { SelfService } from '../accounts/self-service';
import type { DeviceCookies } from './device-cookie';
import { MIN_LENGTH, PasswordPolicy } from '../accounts/passwords';
import type { SelfProblem } from '../accounts/self-service';
import type { FrontPages, Reader } from './front-pages';
import { SignInLimiter, TooManyAttempts } from './rate-limit';
import { destroySession, saveSession, SessionStack } from './sessions';
import { SignInService } from './sign-in';
import type { Person } from '../accounts/person';

export interface FrontDoorDeps {
  people: People;
  self: SelfService;
  signIn: SignInService;
  limiter: SignInLimiter;
  /** Known-device cookies: which rate limit a password sign-in counts under. */
  devices: DeviceCookies;
  passwords: PasswordPolicy;
  stack: SessionStack;
  /** Work done after answering: forgot-password's lookup and email. */
  later: AfterResponse;
  logger: Logger;
  /** The pages: templates in the reader's language (front-door/front-pages.ts). */
  pages: FrontPages;
  /** This server's own /privacy address, to tell PRIVACY_POLICY_URL's default from an operator's page elsewhere. */
  ownPrivacyUrl: string;
  /** The id of the SSO connection that signs in this email's domain, if any (sso/oidc.ts). */
  ssoForEmail(email: string): Promise<string | undefined>;
  /** Counts refused sign-ins (metrics/metrics.ts). */
  metrics?: { signInFailed(method: 'password'): void };
  /** More routes under the front door's session stack (OIDC start and callback). */
  extraRoutes?: ((router: Router) => void)[];
}

/** The front door's own paths (its pages, their forms). */
export const FRONT_DOOR_PATHS = /^\/(login|logout|activate|reset-password|forgot-password|verify-email|accept-privacy|account|privacy)(\/|$)/;
const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}\.[^\s@]{1,63}$/;

const wrap = (fn: (req: Request, res: Response) => Promise<void>) => handle(fn);

const field = (req: Request, name: string): string => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

/**
 * The password a form chose: the suggested one when "Use this password" is ticked (issue 11: it
 * works without JavaScript; the suggestion comes back in a hidden field and is checked against
 * the policy like any other), else what was typed.
 */
const chosenPassword = (req: Request): string => (field(req, 'useSuggestion') === 'yes' && field(req, 'suggestion') ? field(req, 'suggestion') : field(req, 'password'));

/** Where a self-service problem is shown: beside the field it is about, else above the form. */
const PASSWORD_CODES = /^password(TooShort|TooLong|Common|Repeated|HasEmail|Required|Unchanged)$/;
function placed(problem: SelfProblem | undefined, text: string | undefined): Record<string, string | undefined> {
  if (!problem) return {};
  if (PASSWORD_CODES.test(problem.code)) return { passwordError: text };
  if (problem.code === 'privacyRequired') return { privacyError: text };
  if (problem.code === 'currentWrong') return { currentError: text };
  return { error: text };
}

export function createFrontDoorRouter(d: FrontDoorDeps): Router {
  const router = express.Router();
  const { pages } = d;
  const suggestion = () => d.passwords.suggest();

  /** Runs a rate-limit check; over the limit, answers 429 with Retry-After and returns false. */
  const withinLimit = async (req: Request, res: Response, check: () => Promise<void>, reader?: Reader): Promise<boolean> => {
    try {
      await check();
      return true;
    } catch (err) {
      if (!(err instanceof TooManyAttempts)) throw err;
      res.set('Retry-After', String(err.retryAfterSeconds));
      pages.message(req, res, { title: 'errors.tooManyTitle', text: 'errors.tooMany', params: { count: Math.ceil(err.retryAfterSeconds / 60) }, link: { href: '/login', text: 'links.backToSignIn' } }, { status: 429, reader });
      return false;
    }
  };

  // Only the front door's own paths go through sessions, form parsing and CSRF: SCIM, the admin
  // API and health checks leave this router untouched (next('router')).
  router.use((req, _res, next) => next(FRONT_DOOR_PATHS.test(req.path) ? undefined : 'router'));
  router.use(d.stack.session);
  router.use(d.stack.forms);

  /**
   * Pages that need a signed-in person; and what they still owe before anything else. Every page
   * re-checks that the person may still be in: a deactivated user's sessions are deleted at once,
   * but a sub-account deactivated under them only shows here. Someone kept out is told why and
   * whom to contact, in their language (issue 11). The person becomes the page's reader (its
   * language). test/api/front-door.test.ts
   */
  const signedIn =
    (allowWhilePending = false) =>
    (req: Request, res: Response, next: NextFunction) => {
      const u = req.session.user;
      if (!u) return res.redirect(303, '/login');
      (async () => {
        const person = await d.people.mayEnter(u.tenantId, u.userId);
        if (!person) {
          const kept = await d.people.keptOut(u.tenantId, u.userId);
          await destroySession(req);
          return pages.keptOut(req, res, kept);
        }
        res.locals.reader = person;
        res.locals.person = person;
        if (!allowWhilePending && (req.session.mustChangePassword || req.session.mustAcceptPrivacy)) return res.redirect(303, await d.signIn.landing(req));
        next();
      })().catch(next);
    };

  // ---- sign in ----
  router.get(
    '/login',
    wrap(async (req, res) => {
      if (req.session.user) return res.redirect(303, await d.signIn.landing(req));
      // The console sends here someone whose session it ended because they may no longer enter
      // (console-router.ts): the page names the possible reasons, and no person.
      if (req.query.kept === '1') return pages.keptOut(req, res, undefined, 200);
      pages.render(req, res, 'login', { step: 'email', email: '' });
    }),
  );

  // Email first: the address decides between a tenant's IdP and a password (sso/oidc.ts forEmail).
  // A proven domain sends every address to its connection, whether it exists or not; a domain
  // not yet proven sends only the claiming tenant's own users (docs/sign-in.md says what that
  // reveals and why it is accepted until the proof).
  router.post(
    '/login',
    wrap(async (req, res) => {
      const typed = field(req, 'email').trim();
      const email = typed.toLowerCase();
      if (!EMAIL.test(email)) return pages.render(req, res, 'login', { step: 'email', email: typed, emailError: pages.t(req, res)('front:login.badEmail') }, { status: 400, back: '/login' });
      const connection = await d.ssoForEmail(email);
      if (connection) return res.redirect(303, `/login/oidc/${connection}/start?login_hint=${encodeURIComponent(email)}`);
      pages.render(req, res, 'login', { step: 'password', email }, { back: '/login' });
    }),
  );

  router.get('/login/password', (_req, res) => res.redirect(303, '/login'));
  router.post(
    '/login/password',
    wrap(async (req, res) => {
      const email = field(req, 'email').trim().toLowerCase();
      const password = field(req, 'password');
      if (!EMAIL.test(email) || !password) return pages.render(req, res, 'login', { step: 'password', email, error: pages.t(req, res)('front:login.missing') }, { status: 400, back: '/login' });
      // The limits take their points before the password is checked, and a browser that signed
      // in as this email before is counted on its own (rate-limit.ts, device-cookie.ts).
      const attempt = { email, address: req.ip ?? '', device: d.devices.trusted(req, email) };
      if (!(await withinLimit(req, res, () => d.limiter.beforeSignIn(attempt)))) return;
      const result = await d.people.checkPassword(email, password);
      if (!result.ok) {
        d.logger.info({ reason: result.reason }, 'password sign-in refused');
        d.metrics?.signInFailed('password');
        // The right password of someone kept out: say why (issue 11). It tells whoever typed it
        // that the password is right, which only the rate limits above bound — the price of
        // telling people why they cannot get in (docs/sign-in.md, "Kept out").
        if (result.kept) return pages.keptOut(req, res, result.kept, 401);
        return pages.signInFailed(req, res, 'failed', 401, email);
      }
      await d.limiter.succeeded(attempt);
      d.devices.remember(req, res, email);
      await d.signIn.complete(req, res, { tenantId: result.user.tenantId, userId: result.user.userId, method: 'password' });
    }),
  );

  router.post(
    '/logout',
    wrap(async (req, res) => {
      if (req.session.user) await destroySession(req);
      res.clearCookie(d.stack.cookieName, { path: '/', secure: d.stack.cookieName.startsWith('__Host-') });
      res.redirect(303, '/login');
    }),
  );

  // ---- activation: GET shows the form and never uses the link; POST uses it ----
  const activationDead = (req: Request, res: Response) =>
    pages.message(req, res, { title: 'activate.deadTitle', text: 'activate.dead' }, { status: 410 });
  // requireSso (issue 9 point 8): someone whose organisation signs them in activates through it.
  const ssoActivation = (req: Request, res: Response, person: Person, status = 200) =>
    pages.message(req, res, { title: 'activate.ssoTitle', text: 'problems.ssoRequired', link: { href: '/login', text: 'activate.ssoLink' } }, { status, reader: person });
  const activation = (req: Request, res: Response, token: string, person: Person, extra: Record<string, unknown> = {}, status = 200) =>
    pages.render(
      req,
      res,
      'activate',
      { token, email: person.email ?? '', suggestion: suggestion(), minLength: MIN_LENGTH, policy: pages.policy(person), ...extra },
      { status, reader: person, back: `/activate?token=${encodeURIComponent(token)}` },
    );

  router.get(
    '/activate',
    wrap(async (req, res) => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      const seen = await d.self.peek(token, 'activation');
      if (!seen) return activationDead(req, res);
      if (await d.people.passwordBarred(seen.user)) return ssoActivation(req, res, seen.user);
      activation(req, res, token, seen.user);
    }),
  );

  router.post(
    '/activate',
    wrap(async (req, res) => {
      const token = field(req, 'token');
      if (!(await withinLimit(req, res, () => d.limiter.beforeReset(`activate:${token}`, req.ip ?? '')))) return;
      const accepted = field(req, 'acceptPrivacy') === 'yes';
      const password = chosenPassword(req);
      const result = password ? await d.self.activate(token, password, accepted) : undefined;
      if (!result?.ok) {
        const seen = await d.self.peek(token, 'activation');
        if (!seen) return activationDead(req, res);
        if (await d.people.passwordBarred(seen.user)) return ssoActivation(req, res, seen.user, 400);
        // What was typed stays (the privacy box), never the password (issue 11).
        const problem = result ?? { code: 'passwordRequired', message: 'Enter a password.' };
        return activation(req, res, token, seen.user, { accepted, ...placed(problem, pages.problem(req, res, problem, seen.user)) }, 400);
      }
      if (result.user.email) d.devices.remember(req, res, result.user.email);
      await d.signIn.complete(req, res, { tenantId: result.user.tenantId, userId: result.user.userId, method: 'password' });
    }),
  );

  // ---- forgot and reset password ----
  router.get('/forgot-password', (req, res) => pages.render(req, res, 'forgot', {}));
  router.post(
    '/forgot-password',
    wrap(async (req, res) => {
      const typed = field(req, 'email').trim();
      const email = typed.toLowerCase();
      if (!EMAIL.test(email)) return pages.render(req, res, 'forgot', { email: typed, emailError: pages.t(req, res)('front:login.badEmail') }, { status: 400, back: '/forgot-password' });
      if (!(await withinLimit(req, res, () => d.limiter.beforeReset(email, req.ip ?? '')))) return;
      // The same words whether or not the address has an account, and at the same cost: the
      // answer goes first, the lookup and the reset email after it, for every address (issue 9,
      // point 16; test/api/front-door.test.ts, "forgot password answers before it looks anything up").
      pages.message(req, res, { title: 'forgot.sentTitle', text: 'forgot.sent', link: { href: '/login', text: 'links.backToSignIn' } }, { back: '/forgot-password' });
      d.later.run('forgot-password', () => d.self.forgotPassword(email));
    }),
  );

  const resetDead = (req: Request, res: Response) =>
    pages.message(req, res, { title: 'reset.deadTitle', text: 'reset.dead', link: { href: '/forgot-password', text: 'links.forgot' } }, { status: 410 });
  const resetPage = (req: Request, res: Response, token: string, person: Person, extra: Record<string, unknown> = {}, status = 200) =>
    pages.render(req, res, 'reset', { token, suggestion: suggestion(), minLength: MIN_LENGTH, ...extra }, { status, reader: person, back: `/reset-password?token=${encodeURIComponent(token)}` });

  router.get(
    '/reset-password',
    wrap(async (req, res) => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      const seen = await d.self.peek(token, 'reset');
      if (!seen) return resetDead(req, res);
      resetPage(req, res, token, seen.user);
    }),
  );
  router.post(
    '/reset-password',
    wrap(async (req, res) => {
      const token = field(req, 'token');
      if (!(await withinLimit(req, res, () => d.limiter.beforeReset(`reset:${token}`, req.ip ?? '')))) return;
      const password = chosenPassword(req);
      const result = password ? await d.self.completeReset(token, password) : undefined;
      if (!result?.ok) {
        const seen = await d.self.peek(token, 'reset');
        if (!seen) return resetDead(req, res);
        const problem = result ?? { code: 'passwordRequired', message: 'Enter a password.' };
        return resetPage(req, res, token, seen.user, placed(problem, pages.problem(req, res, problem, seen.user)), 400);
      }
      // The reset link proved the mailbox: this browser becomes a known device, the way back in
      // for someone whose account budget an attacker spent (rate-limit.ts).
      if (result.user.email) d.devices.remember(req, res, result.user.email);
      await d.signIn.complete(req, res, { tenantId: result.user.tenantId, userId: result.user.userId, method: 'password' });
    }),
  );

  // ---- email verification (a changed sign-in email): GET asks, POST confirms ----
  const verifyDead = (req: Request, res: Response) => pages.message(req, res, { title: 'verify.title', text: 'verify.dead' }, { status: 410 });
  router.get(
    '/verify-email',
    wrap(async (req, res) => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      const seen = await d.self.peek(token, 'verify-email');
      if (!seen) return verifyDead(req, res);
      pages.render(req, res, 'verify-email', { token, email: seen.link.email }, { reader: seen.user });
    }),
  );
  router.post(
    '/verify-email',
    wrap(async (req, res) => {
      const token = field(req, 'token');
      const seen = await d.self.peek(token, 'verify-email');
      const ok = await d.self.verifyEmail(token);
      if (!ok) return verifyDead(req, res);
      pages.message(req, res, { title: 'verify.doneTitle', text: 'verify.done', link: { href: '/login', text: 'links.signIn' } }, { reader: seen?.user });
    }),
  );

  // ---- after sign-in ----
  const privacyPage = (req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) =>
    pages.render(req, res, 'accept-privacy', { policy: pages.policy(res.locals.person as Person), ...extra }, { status, back: '/accept-privacy' });
  router.get('/accept-privacy', signedIn(true), (req, res) => privacyPage(req, res));
  router.post(
    '/accept-privacy',
    signedIn(true),
    wrap(async (req, res) => {
      if (field(req, 'acceptPrivacy') !== 'yes') return privacyPage(req, res, { error: pages.t(req, res)('front:problems.privacyRequired') }, 400);
      const u = req.session.user!;
      await d.self.acceptPrivacy(u.tenantId, u.userId, u.method, req.session.loginEmail);
      req.session.mustAcceptPrivacy = false;
      await saveSession(req);
      res.redirect(303, await d.signIn.landing(req));
    }),
  );

  const admin = async (u: { tenantId: string; userId: string }) => (await d.people.accounts(u.tenantId, u.userId)).some((a) => a.admin);
  const changePage = async (req: Request, res: Response, extra: Record<string, unknown> = {}, status = 200) => {
    const forced = req.session.mustChangePassword === true;
    // The navigation only once nothing is owed: until then every page leads back here.
    const nav = forced || req.session.mustAcceptPrivacy ? undefined : { admin: await admin(req.session.user!), here: 'password' };
    pages.render(req, res, 'change-password', { forced, suggestion: suggestion(), minLength: MIN_LENGTH, nav, ...extra }, { status, back: '/account/password' });
  };
  router.get('/account/password', signedIn(true), wrap((req, res) => changePage(req, res)));
  router.post(
    '/account/password',
    signedIn(true),
    wrap(async (req, res) => {
      const u = req.session.user!;
      const forced = req.session.mustChangePassword === true;
      const password = chosenPassword(req);
      const problem: SelfProblem | undefined = password
        ? await d.self.changePassword(u.tenantId, u.userId, forced ? undefined : field(req, 'current'), password, req.sessionID)
        : { code: 'passwordRequired', message: 'Enter a password.' };
      if (problem) return changePage(req, res, placed(problem, pages.problem(req, res, problem)), 400);
      req.session.mustChangePassword = false;
      await saveSession(req);
      res.redirect(303, await d.signIn.landing(req));
    }),
  );

  router.get(
    '/account',
    signedIn(),
    wrap(async (req, res) => {
      const u = req.session.user!;
      const f = res.locals.person as Person;
      const accounts = await d.people.accounts(u.tenantId, u.userId);
      const services = await d.people.services(u.tenantId, u.userId);
      const current = u.accountId ?? u.tenantId;
      const name = f.data.name as { formatted?: string; givenName?: string; familyName?: string } | undefined;
      pages.render(req, res, 'account', {
        userName: f.userName,
        displayName: (f.data.displayName as string | undefined) ?? name?.formatted ?? ([name?.givenName, name?.familyName].filter(Boolean).join(' ') || undefined),
        email: f.email ?? f.userName,
        tenantName: accounts[0]?.name ?? f.tenant.name,
        admin: accounts.some((a) => a.admin),
        services,
        accounts: accounts.map((a) => ({ id: a.id, name: a.name, current: a.id === current })),
      });
    }),
  );

  router.post(
    '/account/switch',
    signedIn(),
    wrap(async (req, res) => {
      const u = req.session.user!;
      const target = field(req, 'accountId');
      const accounts = await d.people.accounts(u.tenantId, u.userId);
      if (!accounts.some((a) => a.id === target)) return pages.message(req, res, { title: 'account.accounts', text: 'account.notYours', link: { href: '/account', text: 'links.back' } }, { status: 404, back: '/account' });
      req.session.user = { ...u, accountId: target === u.tenantId ? undefined : target };
      await saveSession(req);
      res.redirect(303, '/account');
    }),
  );

  // The privacy policy (issue 11): a signed-in person's tenant's own (its text, or a link to it),
  // else the operator's — a link when PRIVACY_POLICY_URL names a page elsewhere, else this page
  // only gives the version.
  router.get(
    '/privacy',
    wrap(async (req, res) => {
      const u = req.session.user;
      const person = u ? await d.people.mayEnter(u.tenantId, u.userId) : undefined;
      const policy = pages.policy(person);
      pages.render(req, res, 'privacy', { policy, tenantName: person?.tenant.name, operatorElsewhere: policy.url !== d.ownPrivacyUrl }, { reader: person });
    }),
  );

  for (const mount of d.extraRoutes ?? []) mount(router);

  // Errors on these pages are pages too, in the page's language: CSRF failures, bad form
  // bodies, anything unexpected.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { code?: string; status?: number; statusCode?: number; type?: string; message?: string };
    const back = req.path.startsWith('/login') ? '/login' : req.path;
    if (e.code === 'EBADCSRFTOKEN') return pages.message(req, res, { title: 'errors.expiredTitle', text: 'errors.expired', link: { href: back, text: 'errors.reload' } }, { status: 403, back });
    const status = e.status ?? e.statusCode;
    if (status && status >= 400 && status < 500) return pages.message(req, res, { title: 'errors.badRequestTitle', text: 'errors.badRequest', link: { href: '/login', text: 'links.signIn' } }, { status, back: '/login' });
    d.logger.error({ err: { message: e.message } }, 'front door error');
    pages.message(req, res, { title: 'errors.unavailableTitle', text: 'errors.unavailable', link: { href: '/login', text: 'links.signIn' } }, { status: 503, back: '/login' });
  });
  return router;
}

/** GET /api/v1/me: the signed-in person (session cookie), 401 without one. */
export function meRouter(d: { stack: SessionStack; people: People; logger: Logger; api?: ApiSection }): Router {
  const router = express.Router();
  router.use(d.stack.session);
  d.api?.describe(router, {
    method: 'get',
    path: '/',
    summary: 'The person signed in with the session cookie, their accounts, and the CSRF token for changes',
    tag: 'me',
    responses: {
      200: { description: 'The person; csrfToken goes in X-CSRF-Token with every change made with this session', schema: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' }, admin: { type: 'boolean' }, csrfToken: { type: 'string' } } } },
      401: { description: 'No session' },
    },
  });
  router.get(
    '/',
    wrap(async (req, res) => {
      const u = req.session?.user;
      const f = u ? await d.people.mayEnter(u.tenantId, u.userId) : undefined;
      if (!u || !f) throw unauthorized('Sign in first: this endpoint answers the person signed in with the session cookie');
      const accounts = await d.people.accounts(u.tenantId, u.userId);
      res.json({
        id: f.userId,
        userName: f.userName,
        displayName: f.data.displayName,
        email: f.email,
        tenant: { id: u.tenantId, name: accounts[0]?.name },
        account: u.accountId ?? u.tenantId,
        accounts,
        admin: accounts.some((a) => a.admin),
        signInMethod: u.method,
        mustChangePassword: req.session.mustChangePassword === true,
        mustAcceptPrivacy: req.session.mustAcceptPrivacy === true,
        // For the console's calls to the admin API with this session: send it as X-CSRF-Token.
        csrfToken: d.stack.csrfToken(req, res),
      });
    }),
  );
  router.use(jsonErrorHandler(d.logger));
  return router;
}

// The front door's pages: {PUBLIC_URL}/login (email first), the password step, activation,
// forgot/reset password, email verification, privacy acceptance, the account page and the
// console's landing, sign-out, and GET /api/v1/me for the signed-in person.
// Every POST carries a CSRF token; every answer to a bad input is a page that says what to do,
// and no answer tells whether an email exists (issue 5, "Signing in").
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import { unauthorized } from '../errors';
import { jsonErrorHandler } from '../http/error-handler';
import type { AfterResponse } from '../http/after-response';
import { handle } from '../http/handle';
import type { People } from '../accounts/people';
import type { SelfService } from '../accounts/self-service';
import type { DeviceCookies } from './device-cookie';
import * as pages from './pages';
import { MIN_LENGTH, PasswordPolicy } from '../accounts/passwords';
import { SignInLimiter, TooManyAttempts } from './rate-limit';
import { destroySession, saveSession, SessionStack } from './sessions';
import { SignInService } from './sign-in';
import { SSO_REQUIRED_MESSAGE } from '../accounts/person';

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
  privacyPolicyUrl: string;
  privacyPolicyVersion: string;
  /** The id of the SSO connection that signs in this email's domain, if any (sso/oidc.ts). */
  ssoForEmail(email: string): Promise<string | undefined>;
  /** Counts refused sign-ins (metrics/metrics.ts). */
  metrics?: { signInFailed(method: 'password'): void };
  /** More routes under the front door's session stack (OIDC start and callback). */
  extraRoutes?: ((router: Router) => void)[];
}

const FRONT_DOOR_PATHS = /^\/(login|logout|activate|reset-password|forgot-password|verify-email|accept-privacy|account|privacy)(\/|$)/;
const EMAIL = /^[^\s@]{1,200}@[^\s@]{1,200}\.[^\s@]{1,63}$/;
const GENERIC_FAILURE = 'The email or password is not right, or this account cannot sign in with a password yet.';

const wrap = (fn: (req: Request, res: Response) => Promise<void>) => handle(fn);

const field = (req: Request, name: string): string => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : '';
};

/**
 * Runs a rate-limit check; over the limit, answers 429 with Retry-After and returns false.
 */
async function withinLimit(res: Response, title: string, check: () => Promise<void>): Promise<boolean> {
  try {
    await check();
    return true;
  } catch (err) {
    if (!(err instanceof TooManyAttempts)) throw err;
    tooMany(res, err, title);
    return false;
  }
}

function tooMany(res: Response, err: TooManyAttempts, title: string): void {
  res
    .status(429)
    .set('Retry-After', String(err.retryAfterSeconds))
    .type('html')
    .send(pages.messagePage(title, `Too many attempts. Try again in ${Math.ceil(err.retryAfterSeconds / 60)} minute(s).`, { href: '/login', text: 'Back to sign in' }));
}

export function createFrontDoorRouter(d: FrontDoorDeps): Router {
  const router = express.Router();
  const csrf = (req: Request, res: Response) => d.stack.csrfToken(req, res);
  const suggestion = () => d.passwords.suggest();

  // Only the front door's own paths go through sessions, form parsing and CSRF: SCIM, the admin
  // API and health checks leave this router untouched (next('router')).
  router.use((req, _res, next) => next(FRONT_DOOR_PATHS.test(req.path) ? undefined : 'router'));
  router.use(d.stack.session);
  router.use(d.stack.forms);

  /**
   * Pages that need a signed-in person; and what they still owe before anything else. Every page
   * re-checks that the person may still be in: a deactivated user's sessions are deleted at once,
   * but a sub-account deactivated under them only shows here. test/api/front-door.test.ts
   */
  const signedIn =
    (allowWhilePending = false) =>
    (req: Request, res: Response, next: NextFunction) => {
      const u = req.session.user;
      if (!u) return res.redirect(303, '/login');
      (async () => {
        if (!(await d.people.mayEnter(u.tenantId, u.userId))) {
          await destroySession(req);
          return res.redirect(303, '/login');
        }
        if (!allowWhilePending && (req.session.mustChangePassword || req.session.mustAcceptPrivacy)) return res.redirect(303, await d.signIn.landing(req));
        next();
      })().catch(next);
    };

  // ---- sign in ----
  router.get(
    '/login',
    wrap(async (req, res) => {
      if (req.session.user) return res.redirect(303, await d.signIn.landing(req));
      res.type('html').send(pages.loginEmailPage(csrf(req, res)));
    }),
  );

  // Email first: the address decides between a tenant's IdP and a password (sso/oidc.ts forEmail).
  // A proven domain sends every address to its connection, whether it exists or not; a domain
  // not yet proven sends only the claiming tenant's own users (docs/sign-in.md says what that
  // reveals and why it is accepted until the proof).
  router.post(
    '/login',
    wrap(async (req, res) => {
      const email = field(req, 'email').trim().toLowerCase();
      if (!EMAIL.test(email)) return void res.status(400).type('html').send(pages.loginEmailPage(csrf(req, res), 'Enter your email address, like name@example.com.', email));
      const connection = await d.ssoForEmail(email);
      if (connection) return res.redirect(303, `/login/oidc/${connection}/start?login_hint=${encodeURIComponent(email)}`);
      res.type('html').send(pages.loginPasswordPage(csrf(req, res), email));
    }),
  );

  router.get('/login/password', (_req, res) => res.redirect(303, '/login'));
  router.post(
    '/login/password',
    wrap(async (req, res) => {
      const email = field(req, 'email').trim().toLowerCase();
      const password = field(req, 'password');
      if (!EMAIL.test(email) || !password) return void res.status(400).type('html').send(pages.loginPasswordPage(csrf(req, res), email, 'Enter your email and your password.'));
      // The limits take their points before the password is checked, and a browser that signed
      // in as this email before is counted on its own (rate-limit.ts, device-cookie.ts).
      const attempt = { email, address: req.ip ?? '', device: d.devices.trusted(req, email) };
      if (!(await withinLimit(res, 'Sign in', () => d.limiter.beforeSignIn(attempt)))) return;
      const result = await d.people.checkPassword(email, password);
      if (!result.ok) {
        d.logger.info({ reason: result.reason }, 'password sign-in refused');
        d.metrics?.signInFailed('password');
        return void res.status(401).type('html').send(pages.loginPasswordPage(csrf(req, res), email, GENERIC_FAILURE));
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
  router.get(
    '/activate',
    wrap(async (req, res) => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      const seen = await d.self.peek(token, 'activation');
      if (!seen) return void res.status(410).type('html').send(pages.messagePage('Activation link', 'This activation link is no longer valid: it was used, replaced by a newer one, or it expired. Ask your administrator to send a new one.'));
      if (await d.people.passwordBarred(seen.user)) return void res.type('html').send(ssoActivation()); // requireSso (issue 9 point 8)
      res.type('html').send(activation(req, res, token, seen.user.email ?? '', seen.user.policyVersion));
    }),
  );
  const ssoActivation = () => pages.messagePage('Activate your account', SSO_REQUIRED_MESSAGE, { href: '/login', text: 'Sign in with your organisation' }); // requireSso (issue 9 point 8)
  const activation = (req: Request, res: Response, token: string, email: string, privacyVersion: string, message?: string) =>
    pages.activationPage({ csrf: csrf(req, res), token, email, suggestion: suggestion(), minLength: MIN_LENGTH, privacyUrl: d.privacyPolicyUrl, privacyVersion, message });

  router.post(
    '/activate',
    wrap(async (req, res) => {
      const token = field(req, 'token');
      if (!(await withinLimit(res, 'Activate your account', () => d.limiter.beforeReset(`activate:${token}`, req.ip ?? '')))) return;
      const result = await d.self.activate(token, field(req, 'password'), field(req, 'acceptPrivacy') === 'yes');
      if (!result.ok) {
        const seen = await d.self.peek(token, 'activation');
        if (!seen) return void res.status(410).type('html').send(pages.messagePage('Activation link', result.message));
        if (await d.people.passwordBarred(seen.user)) return void res.status(400).type('html').send(ssoActivation()); // requireSso (issue 9 point 8)
        return void res.status(400).type('html').send(activation(req, res, token, seen.user.email ?? '', seen.user.policyVersion, result.message));
      }
      if (result.user.email) d.devices.remember(req, res, result.user.email);
      await d.signIn.complete(req, res, { tenantId: result.user.tenantId, userId: result.user.userId, method: 'password' });
    }),
  );

  // ---- forgot and reset password ----
  router.get('/forgot-password', (req, res) => void res.type('html').send(pages.forgotPage(csrf(req, res))));
  router.post(
    '/forgot-password',
    wrap(async (req, res) => {
      const email = field(req, 'email').trim().toLowerCase();
      if (!EMAIL.test(email)) return void res.status(400).type('html').send(pages.forgotPage(csrf(req, res), 'Enter your email address, like name@example.com.'));
      if (!(await withinLimit(res, 'Forgot your password', () => d.limiter.beforeReset(email, req.ip ?? '')))) return;
      // The same words whether or not the address has an account, and at the same cost: the
      // answer goes first, the lookup and the reset email after it, for every address (issue 9,
      // point 16; test/api/front-door.test.ts, "forgot password answers before it looks anything up").
      res.type('html').send(pages.messagePage('Check your email', 'If an account uses this address, we sent it a link to choose a new password. The link works for one hour.', { href: '/login', text: 'Back to sign in' }));
      d.later.run('forgot-password', () => d.self.forgotPassword(email));
    }),
  );

  router.get(
    '/reset-password',
    wrap(async (req, res) => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      if (!(await d.self.peek(token, 'reset'))) return void res.status(410).type('html').send(pages.messagePage('Reset link', 'This reset link is no longer valid. Ask for a new one.', { href: '/forgot-password', text: 'Forgot your password?' }));
      res.type('html').send(pages.resetPage({ csrf: csrf(req, res), token, suggestion: suggestion(), minLength: MIN_LENGTH }));
    }),
  );
  router.post(
    '/reset-password',
    wrap(async (req, res) => {
      const token = field(req, 'token');
      if (!(await withinLimit(res, 'Choose a new password', () => d.limiter.beforeReset(`reset:${token}`, req.ip ?? '')))) return;
      const result = await d.self.completeReset(token, field(req, 'password'));
      if (!result.ok) {
        if (!(await d.self.peek(token, 'reset'))) return void res.status(410).type('html').send(pages.messagePage('Reset link', result.message, { href: '/forgot-password', text: 'Forgot your password?' }));
        return void res.status(400).type('html').send(pages.resetPage({ csrf: csrf(req, res), token, suggestion: suggestion(), minLength: MIN_LENGTH, message: result.message }));
      }
      // The reset link proved the mailbox: this browser becomes a known device, the way back in
      // for someone whose account budget an attacker spent (rate-limit.ts).
      if (result.user.email) d.devices.remember(req, res, result.user.email);
      await d.signIn.complete(req, res, { tenantId: result.user.tenantId, userId: result.user.userId, method: 'password' });
    }),
  );

  // ---- email verification (a changed sign-in email): GET asks, POST confirms ----
  router.get(
    '/verify-email',
    wrap(async (req, res) => {
      const token = typeof req.query.token === 'string' ? req.query.token : '';
      const seen = await d.self.peek(token, 'verify-email');
      if (!seen) return void res.status(410).type('html').send(pages.messagePage('Confirm your email', 'This link is no longer valid.'));
      res.type('html').send(
        pages.layout(
          'Confirm your email',
          pages.html`<h1>Confirm your email</h1><p>Confirm that <strong>${seen.link.email}</strong> is your sign-in email.</p>
<form method="post" action="/verify-email"><input type="hidden" name="_csrf" value="${csrf(req, res)}"><input type="hidden" name="token" value="${token}"><button type="submit">Confirm</button></form>`,
        ),
      );
    }),
  );
  router.post(
    '/verify-email',
    wrap(async (req, res) => {
      const ok = await d.self.verifyEmail(field(req, 'token'));
      if (!ok) return void res.status(410).type('html').send(pages.messagePage('Confirm your email', 'This link is no longer valid.'));
      res.type('html').send(pages.messagePage('Email confirmed', 'Your sign-in email is confirmed. You can sign in with it now.', { href: '/login', text: 'Sign in' }));
    }),
  );

  // ---- after sign-in ----
  /** The version the signed-in person is asked to accept: their tenant's, else the server's. */
  const versionFor = async (req: Request) => {
    const u = req.session.user!;
    return (await d.people.user(u.tenantId, u.userId))?.policyVersion ?? d.privacyPolicyVersion;
  };
  router.get(
    '/accept-privacy',
    signedIn(true),
    wrap(async (req, res) => {
      res.type('html').send(pages.privacyPage({ csrf: csrf(req, res), url: d.privacyPolicyUrl, version: await versionFor(req) }));
    }),
  );
  router.post(
    '/accept-privacy',
    signedIn(true),
    wrap(async (req, res) => {
      if (field(req, 'acceptPrivacy') !== 'yes') return void res.status(400).type('html').send(pages.privacyPage({ csrf: csrf(req, res), url: d.privacyPolicyUrl, version: await versionFor(req), message: 'Please accept the privacy policy to continue.' }));
      const u = req.session.user!;
      await d.self.acceptPrivacy(u.tenantId, u.userId, u.method, req.session.loginEmail);
      req.session.mustAcceptPrivacy = false;
      await saveSession(req);
      res.redirect(303, await d.signIn.landing(req));
    }),
  );

  router.get('/account/password', signedIn(true), (req, res) => {
    res.type('html').send(pages.changePasswordPage({ csrf: csrf(req, res), forced: req.session.mustChangePassword === true, suggestion: suggestion(), minLength: MIN_LENGTH }));
  });
  router.post(
    '/account/password',
    signedIn(true),
    wrap(async (req, res) => {
      const u = req.session.user!;
      const forced = req.session.mustChangePassword === true;
      const problem = await d.self.changePassword(u.tenantId, u.userId, forced ? undefined : field(req, 'current'), field(req, 'password'), req.sessionID);
      if (problem) return void res.status(400).type('html').send(pages.changePasswordPage({ csrf: csrf(req, res), forced, suggestion: suggestion(), minLength: MIN_LENGTH, message: problem }));
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
      const f = await d.people.user(u.tenantId, u.userId);
      if (!f) return void res.redirect(303, '/login');
      const accounts = await d.people.accounts(u.tenantId, u.userId);
      const services = await d.people.services(u.tenantId, u.userId);
      const current = u.accountId ?? u.tenantId;
      const name = f.data.name as { formatted?: string; givenName?: string; familyName?: string } | undefined;
      res.type('html').send(
        pages.accountPage({
          csrf: csrf(req, res),
          userName: f.userName,
          displayName: (f.data.displayName as string | undefined) ?? name?.formatted ?? ([name?.givenName, name?.familyName].filter(Boolean).join(' ') || undefined),
          email: f.email,
          tenantName: accounts[0]?.name ?? '',
          admin: accounts.some((a) => a.admin),
          language: String(f.data.preferredLanguage ?? f.data.locale ?? '—'),
          services,
          accounts: accounts.map((a) => ({ id: a.id, name: a.name, current: a.id === current })),
        }),
      );
    }),
  );

  router.post(
    '/account/switch',
    signedIn(),
    wrap(async (req, res) => {
      const u = req.session.user!;
      const target = field(req, 'accountId');
      const accounts = await d.people.accounts(u.tenantId, u.userId);
      if (!accounts.some((a) => a.id === target)) return void res.status(404).type('html').send(pages.messagePage('Accounts', 'You do not belong to that account.', { href: '/account', text: 'Back' }));
      req.session.user = { ...u, accountId: target === u.tenantId ? undefined : target };
      await saveSession(req);
      res.redirect(303, '/account');
    }),
  );

  router.get('/privacy', (_req, res) => {
    res.type('html').send(pages.messagePage('Privacy policy', `Privacy policy version ${d.privacyPolicyVersion}. The operator of this service publishes its text; set PRIVACY_POLICY_URL to point this link at it.`));
  });

  for (const mount of d.extraRoutes ?? []) mount(router);

  // Errors on these pages are pages too: CSRF failures, bad form bodies, anything unexpected.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const e = err as { code?: string; status?: number; statusCode?: number; type?: string; message?: string };
    if (e.code === 'EBADCSRFTOKEN') {
      res.status(403).type('html').send(pages.messagePage('Please try again', e.message ?? 'The form has expired.', { href: req.path.startsWith('/login') ? '/login' : req.path, text: 'Reload the page' }));
      return;
    }
    const status = e.status ?? e.statusCode;
    if (status && status >= 400 && status < 500) {
      res.status(status).type('html').send(pages.messagePage('Something is wrong with this request', 'The page could not read what was sent. Go back and try again.', { href: '/login', text: 'Sign in' }));
      return;
    }
    d.logger.error({ err: { message: e.message } }, 'front door error');
    res.status(503).type('html').send(pages.messagePage('Please try again', 'The service could not finish this just now. Try again in a moment.', { href: '/login', text: 'Sign in' }));
  });
  return router;
}

/** GET /api/v1/me: the signed-in person (session cookie), 401 without one. */
export function meRouter(d: { stack: SessionStack; people: People; logger: Logger }): Router {
  const router = express.Router();
  router.use(d.stack.session);
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

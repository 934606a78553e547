// The session stack every front-door page and /api/v1/me share: the session cookie (express-
// session over the database store), the absolute timeout, and CSRF tokens (csrf-csrf's signed
// double-submit cookie, bound to the session id once signed in).
// Why these libraries: express-session gives req.session and regenerate (a new id at sign-in);
// csrf-csrf works with Express 5 and needs no server-side state.
import cookieParser from 'cookie-parser';
import express, { NextFunction, Request, RequestHandler, Response } from 'express';
import session from 'express-session';
import { doubleCsrf } from 'csrf-csrf';
import type { Logger } from 'pino';
import { DbSessionStore } from './session-store';
import './contracts';

export interface SessionStackOptions {
  store: DbSessionStore;
  cookieSecret: string;
  csrfSecret: string;
  /** Cookies are Secure when the public URL is https (behind a TLS-terminating proxy too). */
  secure: boolean;
  idleMs: number;
  absoluteMs: number;
  clock: () => Date;
  logger: Logger;
}

/**
 * The session cookie's name. On an https PUBLIC_URL it carries the `__Host-` prefix (RFC 6265bis
 * §4.1.3.2): browsers then accept it only with Secure, Path=/ and no Domain, so neither a
 * sibling subdomain nor a plain-http page can plant or overwrite it (session fixation across
 * subdomains). Issue 9, point 16; test/api/front-door.test.ts, "Secure cookies behind https".
 */
export const sessionCookieName = (secure: boolean) => (secure ? '__Host-provisio.sid' : 'provisio.sid');

export interface SessionStack {
  /** The session cookie's name (sessionCookieName). */
  cookieName: string;
  /** Cookie parsing, the session, and the absolute timeout. */
  session: RequestHandler[];
  /** Form-body parsing and the CSRF check on unsafe methods. */
  forms: RequestHandler[];
  /** The token to put in a form (sets its cookie). */
  csrfToken(req: Request, res: Response): string;
  /** Whether the request carries a valid token (form field or X-CSRF-Token header). */
  csrfValid(req: Request): boolean;
}

export function sessionStack(o: SessionStackOptions): SessionStack {
  const sessionMiddleware = session({
    store: o.store,
    name: sessionCookieName(o.secure),
    secret: o.cookieSecret,
    resave: false,
    // No row for anonymous visitors: a session is saved once it holds a signed-in person (the
    // OIDC sign-in keeps its state in a sealed cookie, sso/flow-state.ts).
    saveUninitialized: false,
    // Each request moves the idle deadline (cookie and row, DbSessionStore.touch).
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: o.secure, maxAge: o.idleMs, path: '/' },
  });

  // The absolute timeout counts from sign-in, whatever the activity (issue 5, "Sessions").
  const absolute: RequestHandler = (req, _res, next) => {
    const user = req.session?.user;
    if (user && o.clock().getTime() - user.signedInAt > o.absoluteMs) {
      // A fresh, empty session replaces it (the old row is deleted).
      req.session.regenerate((err) => next(err));
      return;
    }
    next();
  };

  const csrf = doubleCsrf({
    getSecret: () => o.csrfSecret,
    // Bound to the session once someone is signed in; before that (the sign-in forms) the signed
    // cookie alone stops cross-site posts — SameSite=Lax keeps it off them too.
    getSessionIdentifier: (req) => (req.session?.user ? req.sessionID : 'anonymous'),
    cookieName: o.secure ? '__Host-provisio.csrf' : 'provisio.csrf',
    cookieOptions: { sameSite: 'lax', secure: o.secure, httpOnly: true, path: '/' },
    getCsrfTokenFromRequest: (req) => (req.body && typeof req.body._csrf === 'string' ? req.body._csrf : (req.headers['x-csrf-token'] as string | undefined)),
    errorConfig: { statusCode: 403, message: 'The form has expired or did not come from this site. Go back, reload the page and try again.', code: 'EBADCSRFTOKEN' },
  });

  return {
    cookieName: sessionCookieName(o.secure),
    session: [cookieParser(), sessionMiddleware, absolute],
    forms: [express.urlencoded({ extended: false, limit: '16kb' }), csrf.doubleCsrfProtection as RequestHandler],
    csrfToken: (req, res) => csrf.generateCsrfToken(req, res, { overwrite: false, validateOnReuse: false }),
    csrfValid: (req) => csrf.validateRequest(req),
  };
}

/** Promisified session helpers. */
export const regenerate = (req: Request) => new Promise<void>((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
export const saveSession = (req: Request) => new Promise<void>((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
/**
 * The sign-in step's save: creates the session's row (DbSessionStore.start). Every later save
 * only updates that row, so a session ended meanwhile is not recreated (issue 9, point 10).
 */
export const startSession = async (req: Request) => {
  const store = req.sessionStore;
  if (!(store instanceof DbSessionStore)) throw new Error('the front door runs on DbSessionStore');
  await store.start(req.sessionID, req.session);
  // express-session saves again at the end of the request (an update of the row just made).
};
export const destroySession = (req: Request) => new Promise<void>((resolve, reject) => req.session.destroy((err) => (err ? reject(err) : resolve())));

export type Handler = (req: Request, res: Response, next: NextFunction) => void;

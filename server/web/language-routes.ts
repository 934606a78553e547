// The language switch in every page's footer (issue 11): POST /language {lang, back} keeps the
// choice in a cookie for this browser, then returns to the page. It outranks what the person's
// profile or tenant says (web/i18n.ts chooseLanguage): someone who switches wants to read it now.
// The form carries the CSRF token like every other (front door's session stack).
import express, { Request, Response, Router } from 'express';
import type { SessionStack } from '../front-door/sessions';
import { isLanguage } from './i18n';

export const LANGUAGE_COOKIE = 'provisio.lang';
const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Only a path of this site: never another origin (`//host`, `/\host`) nor a scheme. */
export function safeBack(v: unknown): string {
  return typeof v === 'string' && /^\/(?![/\\])[^\s]*$/.test(v) && v.length <= 2000 ? v : '/login';
}

export function languageRoutes(o: { stack: SessionStack; secure: boolean }): Router {
  const router = express.Router();
  router.post('/language', ...o.stack.session, ...o.stack.forms, (req: Request, res: Response) => {
    const lang = req.body?.lang;
    if (isLanguage(lang)) res.cookie(LANGUAGE_COOKIE, lang, { httpOnly: true, sameSite: 'lax', secure: o.secure, maxAge: YEAR_MS, path: '/' });
    res.redirect(303, safeBack(req.body?.back));
  });
  // A refused form (expired CSRF token) changes nothing and returns to the page.
  router.use('/language', (_err: unknown, req: Request, res: Response, _next: express.NextFunction) => {
    res.redirect(303, safeBack(req.body?.back));
  });
  return router;
}

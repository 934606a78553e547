// The partner console under /console (issue 11; docs/console.md): server-rendered pages on the
// admin API (admin-client.ts). This router owns what every page shares: the session and CSRF
// stack of the front door, who is signed in and which account they work in (the account
// switcher), the language, the layout's navigation, notices, the confirmation step and the error
// page. The pages themselves are modules (pages/index.ts).
import express, { NextFunction, Request, Response, Router } from 'express';
import type { Logger } from 'pino';
import type { Account, KeptOut, People } from '../accounts/people';
import { statedLanguage } from '../accounts/person';
import { supportContactOf } from '../accounts/support-contact';
import { handle } from '../http/handle';
import type { SessionStack } from '../front-door/sessions';
import { destroySession, saveSession } from '../front-door/sessions';
import { chooseLanguage, Translator } from '../web/i18n';
import { LANGUAGE_COOKIE } from '../web/language-routes';
import type { Views } from '../web/views';
import { AdminApiUnavailable, AdminClient, problemsOf } from './admin-client';
import type { ConsoleContext, ConsoleKit, ConsolePage, NavEntry } from './kit';

export interface ConsoleDeps {
  people: People;
  stack: SessionStack;
  views: Views;
  i18n: Translator;
  admin: AdminClient;
  logger: Logger;
  pages: ConsolePage[];
  /** Where a signed-in person goes when the console is not for them (front-door/sign-in.ts landing). */
  landing(req: Request): Promise<string>;
  /**
   * The front door's page saying why someone is kept out and whom to contact, in their language
   * (front-door/front-pages.ts keptOut, issue 11); without it, a redirect to /login?kept=1.
   */
  keptOut?(req: Request, res: Response, kept: KeptOut | undefined): void;
  /** Remembers the account a person last worked in, where they land at their next sign-in. */
  rememberAccount(tenantId: string, userId: string, accountId: string | undefined): Promise<void>;
}

/**
 * Notices a redirect may ask the next page to show: `<area>.<key>`, the message
 * `<area>:notices.<key>` of that area's message file — only keys, never free text.
 */
const NOTICE = /^([a-z][a-zA-Z-]*)\.([a-z][a-zA-Z]*)$/;

export function createConsoleRouter(d: ConsoleDeps): Router {
  const router = express.Router();
  router.use(d.stack.session);
  router.use(d.stack.forms);

  const ctx = (res: Response) => res.locals.console as ConsoleContext;
  const nav: NavEntry[] = d.pages.flatMap((p) => (p.nav ? [p.nav] : [])).sort((a, b) => a.order - b.order);

  const kit: ConsoleKit = {
    api: (req) => d.admin.for(req),
    ctx,
    render(req, res, view, data = {}, status = 200) {
      const c = ctx(res);
      const notice = typeof req.query.notice === 'string' && NOTICE.test(req.query.notice) ? req.query.notice : undefined;
      const count = typeof req.query.count === 'string' && /^\d{1,6}$/.test(req.query.count) ? Number(req.query.count) : undefined;
      const m = notice ? NOTICE.exec(notice) : null;
      const noticeText = m ? c.t(`${m[1]}:notices.${m[2]}`, { count: count ?? 1, defaultValue: '' }) : undefined;
      res
        .status(status)
        .type('html')
        .send(
          d.views.render(
            view,
            {
              ...data,
              ctx: c,
              csrf: c.csrf,
              path: req.originalUrl,
              nav: nav.filter((n) => c.tenantWide || !n.tenantWideOnly),
              adminAccounts: c.accounts.filter((a) => a.admin),
              notice: noticeText || undefined,
            },
            c.lang,
          ),
        );
    },
    confirm(req, res, c) {
      kit.render(req, res, 'console/confirm', { title: c.title, confirmation: c });
    },
    done(res, path, notice, count) {
      const q = new URLSearchParams({ notice });
      if (count !== undefined) q.set('count', String(count));
      res.redirect(303, `/console${path}${path.includes('?') ? '&' : '?'}${q}`);
    },
    problems(res, answer) {
      // The API's field errors in the reader's language, by code; its English detail where a code has no message.
      const t = kit.ctx(res).t;
      return problemsOf(answer, (key, values) => t(key, { ...values, defaultValue: '' }) || undefined);
    },
    wrap: (fn) => handle(fn),
  };

  /**
   * Who may be here: a signed-in person who owes nothing (temporary password, privacy policy),
   * may still enter, and administers the account they work in. Someone who administers another
   * account is moved there (the last one they used); someone who administers none goes to their
   * account page.
   */
  router.use(
    handle(async (req: Request, res: Response, next: NextFunction) => {
      const u = req.session.user;
      if (!u) return res.redirect(303, `/login`);
      if (req.session.mustChangePassword || req.session.mustAcceptPrivacy) return res.redirect(303, await d.landing(req));
      const person = await d.people.mayEnter(u.tenantId, u.userId);
      if (!person) {
        const kept = d.keptOut && (await d.people.keptOut(u.tenantId, u.userId));
        await destroySession(req);
        if (d.keptOut) return d.keptOut(req, res, kept);
        return res.redirect(303, '/login?kept=1');
      }
      const accounts = await d.people.accounts(u.tenantId, u.userId);
      let current: Account | undefined = accounts.find((a) => a.id === (u.accountId ?? u.tenantId));
      if (!current?.admin) {
        current = accounts.find((a) => a.admin);
        if (!current) return res.redirect(303, '/account');
        req.session.user = { ...u, accountId: current.kind === 'tenant' ? undefined : current.id };
        await saveSession(req);
      }
      const lang = chooseLanguage({ chosen: req.cookies?.[LANGUAGE_COOKIE], stated: statedLanguage(person.data, person.tenant.settings), browser: req.acceptsLanguages('en', 'fr') });
      const c: ConsoleContext = {
        tenantId: u.tenantId,
        tenantName: person.tenant.name,
        userId: u.userId,
        userName: person.userName,
        displayName: typeof person.data.displayName === 'string' ? person.data.displayName : person.userName,
        accounts,
        current,
        tenantWide: current.kind === 'tenant',
        lang,
        t: d.i18n.t(lang),
        csrf: d.stack.csrfToken(req, res),
        support: supportContactOf(person.tenant.settings),
      };
      res.locals.console = c;
      res.set('Content-Language', lang);
      next();
    }),
  );

  // The account switcher, on every page: work in another account this person administers.
  router.post(
    '/switch',
    handle(async (req: Request, res: Response) => {
      const c = ctx(res);
      const target = typeof req.body?.accountId === 'string' ? req.body.accountId : '';
      const account = c.accounts.find((a) => a.id === target && a.admin);
      if (!account) return kit.render(req, res, 'console/error', { title: c.t('errors.notYourAccountTitle'), message: c.t('errors.notYourAccount') }, 404);
      const accountId = account.kind === 'tenant' ? undefined : account.id;
      req.session.user = { ...req.session.user!, accountId };
      await saveSession(req);
      await d.rememberAccount(c.tenantId, c.userId, accountId);
      kit.done(res, '', 'common.accountSwitched');
    }),
  );

  for (const page of d.pages) page.routes(router, kit);

  router.use((req, res) => {
    const c = ctx(res);
    kit.render(req, res, 'console/error', { title: c.t('errors.notFoundTitle'), message: c.t('errors.notFound') }, 404);
  });

  // Errors are pages in the person's language, never a stack trace.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const c = res.locals.console as ConsoleContext | undefined;
    const e = err as { code?: string; status?: number; statusCode?: number; message?: string };
    const t = c?.t ?? d.i18n.t(chooseLanguage({ chosen: req.cookies?.[LANGUAGE_COOKIE], browser: req.acceptsLanguages('en', 'fr') }));
    let status = 503;
    let key = 'unavailable';
    if (e.code === 'EBADCSRFTOKEN') [status, key] = [403, 'expired'];
    else if (!(err instanceof AdminApiUnavailable) && (e.status ?? e.statusCode ?? 500) >= 400 && (e.status ?? e.statusCode ?? 500) < 500) [status, key] = [e.status ?? e.statusCode ?? 400, 'badRequest'];
    else d.logger.error({ err: { message: e.message }, path: req.path }, 'console error');
    const body = { title: t(`errors.${key}Title`), message: t(`errors.${key}`), back: req.originalUrl };
    if (c) return kit.render(req, res, 'console/error', body, status);
    res.status(status).type('html').send(d.views.render('console/bare-error', body, 'en'));
  });
  return router;
}

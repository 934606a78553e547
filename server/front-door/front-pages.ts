// The front door's pages (issue 11): Eta templates under views/front-door/ in the language of the
// person reading them, with their words in locales/<lang>/front.json (namespace `front`). One
// place decides the language and fills in what every page's layout needs (CSRF token for the
// footer's language switch, the path to come back to), so every route only names its template
// and its data. Templates escape every value they print (web/views.ts).
import type { Request, Response } from 'express';
import type { KeptOut } from '../accounts/people';
import type { Person } from '../accounts/person';
import { Language, statedLanguage } from '../accounts/person';
import type { PasswordProblem } from '../accounts/passwords';
import { supportContactOf } from '../accounts/support-contact';
import { chooseLanguage, Translator } from '../web/i18n';
import { LANGUAGE_COOKIE } from '../web/language-routes';
import type { Views } from '../web/views';

/** Someone the page is about, when known: their language, else their tenant's, is the page's. */
export type Reader = Pick<Person, 'data' | 'tenant'>;

/** The privacy policy a page points at: the tenant's link or text, else the operator's link. */
export interface PolicyView {
  url?: string;
  text?: string;
  version: string;
  /** Whose policy: the tenant's own, or the operator's (the fallback). */
  owner: 'tenant' | 'operator';
}

export interface FrontPagesDeps {
  views: Views;
  i18n: Translator;
  csrfToken(req: Request, res: Response): string;
  /** The operator's policy (config PRIVACY_POLICY_URL, PRIVACY_POLICY_VERSION). */
  privacyPolicyUrl: string;
  privacyPolicyVersion: string;
}

export interface RenderOptions {
  status?: number;
  /** The person the page is for, when known (a link's owner, the signed-in person). */
  reader?: Reader;
  /** Where the language switch returns to (default: this GET's URL, else /login). */
  back?: string;
}

/** A page that only says something: title and text are `front:` keys, translated here. */
export interface Message {
  title: string;
  text: string;
  params?: Record<string, unknown>;
  link?: { href: string; text: string };
}

export class FrontPages {
  constructor(private readonly d: FrontPagesDeps) {}

  /**
   * The language of the page (issue 11): the footer switch's cookie, else the person's or their
   * tenant's stated language (when the page knows who it is for), else Accept-Language, else
   * English. Anonymous pages have only the cookie and the browser. test/api/front-door-i18n.test.ts
   */
  language(req: Request, reader?: Reader): Language {
    const stated = reader ? statedLanguage(reader.data, reader.tenant.settings) : undefined;
    return chooseLanguage({ chosen: (req.cookies as Record<string, unknown> | undefined)?.[LANGUAGE_COOKIE], stated, browser: req.acceptsLanguages('en', 'fr') });
  }

  /** The translation function of the page's language. */
  t(req: Request, res: Response, reader?: Reader) {
    return this.d.i18n.t(this.language(req, reader ?? (res.locals.reader as Reader | undefined)));
  }

  /** A self-service or password problem in the page's words (front.json `problems.<code>`). */
  problem(req: Request, res: Response, p: PasswordProblem, reader?: Reader): string {
    return this.t(req, res, reader)(`front:problems.${p.code}`, p.params ?? {});
  }

  render(req: Request, res: Response, view: string, data: Record<string, unknown>, o: RenderOptions = {}): void {
    const reader = o.reader ?? (res.locals.reader as Reader | undefined);
    const lang = this.language(req, reader);
    const back = o.back ?? (req.method === 'GET' ? req.originalUrl : '/login');
    const html = this.d.views.render(`front-door/${view}`, { ...data, csrf: this.d.csrfToken(req, res), path: back }, lang);
    // Vary: the same URL answers in another language for another cookie or Accept-Language.
    res.status(o.status ?? 200).set('Content-Language', lang).vary('Accept-Language').vary('Cookie').type('html').send(html);
  }

  message(req: Request, res: Response, m: Message, o: RenderOptions = {}): void {
    const t = this.t(req, res, o.reader);
    this.render(req, res, 'message', { title: t(`front:${m.title}`, m.params ?? {}), text: t(`front:${m.text}`, m.params ?? {}), link: m.link && { href: m.link.href, text: t(`front:${m.link.text}`) } }, o);
  }

  /**
   * The sign-in page saying why someone is kept out and whom to contact, in their language
   * (issue 11). Only for someone who proved who they are (a session, a right password, a link);
   * without `kept` (a console page whose session ended, /login?kept=1) it names every reason and
   * no person, so it tells an anonymous visitor nothing.
   */
  keptOut(req: Request, res: Response, kept: KeptOut | undefined, status = 403): void {
    const person = kept?.person;
    const t = this.t(req, res, person);
    const tenant = person?.tenant.name;
    const text = kept ? t(`front:kept.${kept.reason}`, { tenant }) : t('front:kept.session');
    const contact = tenant ? t('front:kept.contact', { tenant }) : t('front:kept.contactAny');
    // Whom to contact, when the tenant said (settings supportContact); else the organisation is named.
    const support = person ? supportContactOf(person.tenant.settings) : undefined;
    this.render(req, res, 'login', { step: 'email', email: person?.email ?? '', kept: { text, contact, support } }, { status, reader: person, back: '/login' });
  }

  /** The sign-in page again with an error (front.json `login.<code>`), never saying whether an email exists. */
  signInFailed(req: Request, res: Response, code: 'failed' | 'oidcFailed' | 'cannotSignIn', status = 401, email = ''): void {
    this.render(req, res, 'login', { step: email ? 'password' : 'email', email, error: this.t(req, res)(`front:login.${code}`) }, { status, back: '/login' });
  }

  /**
   * The privacy policy a person of this tenant accepts (issue 11): the tenant's own link
   * (settings privacyPolicyUrl) and/or its text (privacyPolicyText), else the operator's link.
   */
  policy(reader?: { tenant: { settings: Record<string, unknown> }; policyVersion?: string }): PolicyView {
    const s = reader?.tenant.settings ?? {};
    const version = reader?.policyVersion ?? this.d.privacyPolicyVersion;
    const url = typeof s.privacyPolicyUrl === 'string' && s.privacyPolicyUrl ? s.privacyPolicyUrl : undefined;
    const text = typeof s.privacyPolicyText === 'string' && s.privacyPolicyText ? s.privacyPolicyText : undefined;
    if (url || text) return { url, text, version, owner: 'tenant' };
    return { url: this.d.privacyPolicyUrl, version, owner: 'operator' };
  }
}

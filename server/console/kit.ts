// What every console page module gets (issue 11): the admin API as the signed-in person, page
// rendering with the layout's data (who, which account, the navigation, the language), field
// errors from the admin API's answers, the server-rendered confirmation step, and notices after
// a redirect. Pages own their routes and templates; nothing here knows a page.
import type { NextFunction, Request, Response, Router } from 'express';
import type { TFunction } from 'i18next';
import type { Account } from '../accounts/people';
import type { Language } from '../accounts/person';
import type { SupportContact } from '../accounts/support-contact';
import type { AdminApi, ApiAnswer } from './admin-client';

/** Who is working in the console, and where (set on res.locals.console by console-router.ts). */
export interface ConsoleContext {
  tenantId: string;
  tenantName: string;
  userId: string;
  userName: string;
  displayName: string;
  /** The accounts the person belongs to; the console lists those they administer. */
  accounts: Account[];
  /** The account the person works in: every page shows only its data. */
  current: Account;
  /** A tenant-wide admin (not bound to a sub-account): the pages about the whole tenant. */
  tenantWide: boolean;
  lang: Language;
  t: TFunction;
  csrf: string;
  /** Whom to contact, when the tenant said (settings supportContact): shown on refusal and error pages. */
  support?: SupportContact;
}

export interface NavEntry {
  /** Path under /console ('' for the overview). */
  path: string;
  /** i18n key of its label (common namespace). */
  label: string;
  order: number;
  /** Shown only to tenant-wide admins (the admin API refuses sub-account credentials there). */
  tenantWideOnly?: boolean;
}

export interface ConsolePage {
  nav?: NavEntry;
  /** Mounts the page's routes on the console router (paths relative to /console). */
  routes(router: Router, kit: ConsoleKit): void;
}

export interface Confirmation {
  title: string;
  message: string;
  /** Where the confirmed form posts, and the hidden fields it carries (with confirm=yes added). */
  action: string;
  fields: Record<string, string | string[]>;
  confirmLabel: string;
  cancelHref: string;
  danger?: boolean;
}

export interface ConsoleKit {
  api(req: Request): AdminApi;
  ctx(res: Response): ConsoleContext;
  /** Renders views/<view>.eta (which uses the console layout) with the context and `data`. */
  render(req: Request, res: Response, view: string, data?: Record<string, unknown>, status?: number): void;
  /** The server-rendered confirmation step of a destructive action (works without scripts). */
  confirm(req: Request, res: Response, c: Confirmation): void;
  /**
   * Redirects (303) to a console path with a notice the next page shows: `notice` is
   * '<area>.<key>', shown as the message <area>:notices.<key> with {count}.
   */
  done(res: Response, path: string, notice: string, count?: number): void;
  /** An admin API refusal as the form shows it: per field, and one message. */
  problems(res: Response, answer: ApiAnswer): { fields: Record<string, string>; message: string };
  /** Async route handler: errors go to the console's error page. */
  wrap(fn: (req: Request, res: Response) => Promise<unknown>): (req: Request, res: Response, next: NextFunction) => void;
}

/** A form field's value as typed (never a password), for redisplay after an error. */
export const formValue = (req: Request, name: string): string => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? String(v[0] ?? '') : '';
};

/** All values of a repeated form field (checkboxes, multi-selects). */
export const formValues = (req: Request, name: string): string[] => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
};

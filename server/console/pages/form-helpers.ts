// Small helpers the Departments, Sub-accounts and Companies pages share: a date in the person's
// language, a number field as the admin API takes it, and the error page for an id the admin API
// does not know (404, like a stranger's).
import type { Request, Response } from 'express';
import type { ConsoleKit } from '../kit';
import { formValue } from '../kit';

/** A date as the person reads it (UTC: the purge job counts in UTC, jobs/purge.ts). */
export function longDate(iso: string | null | undefined, lang: string): string {
  if (!iso) return '';
  return new Intl.DateTimeFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(iso));
}

/**
 * A limit field as the admin API takes it: empty is "no limit" (null); digits are the number;
 * anything else goes as typed so the admin API's own check answers it next to the field.
 */
export function limitValue(req: Request, name: string): number | null | string {
  const v = formValue(req, name).trim();
  if (v === '') return null;
  return /^\d{1,15}$/.test(v) ? Number(v) : v;
}

/** The console's 404 page (the admin API answered 404: missing, or another tenant's). */
export function notFoundPage(kit: ConsoleKit, req: Request, res: Response): void {
  const c = kit.ctx(res);
  kit.render(req, res, 'console/error', { title: c.t('errors.notFoundTitle'), message: c.t('errors.notFound') }, 404);
}

/** A refusal that is not about a field (403, 409…) shown as the page's error message. */
export const isProblem = (status: number) => status >= 400 && status < 500;

/** A paged list's request: the search `q`, the rows per page `size` (the API's count) and the `cursor`. */
export interface PageQuery {
  q: string;
  size: string;
  cursor: string;
}

export function pageQuery(req: Request): PageQuery {
  const param = (name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string).trim().slice(0, 200) : '');
  return { q: param('q'), size: /^\d{1,3}$/.test(param('size')) ? param('size') : '', cursor: param('cursor') };
}

/**
 * The links of a cursor-paged list (as on the Users page, users/list.ts): "Next page" carries the
 * API's nextCursor with the search and size, so it works without scripts and keeps the search;
 * "First page" drops the cursor.
 */
export function pageLinks(path: string, q: PageQuery, nextCursor: string | undefined): { next?: string; first?: string } {
  const href = (cursor?: string) => {
    const s = new URLSearchParams();
    if (q.q) s.set('q', q.q);
    if (q.size) s.set('size', q.size);
    if (cursor) s.set('cursor', cursor);
    const text = s.toString();
    return text ? `${path}?${text}` : path;
  };
  return { next: nextCursor ? href(nextCursor) : undefined, first: q.cursor ? href() : undefined };
}

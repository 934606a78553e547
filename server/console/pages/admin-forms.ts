// What the console's tenant-administration pages (tokens, audit, settings, price lists, services,
// permission profiles, SSO) share: attributing an admin API refusal to the form field it is about,
// showing a refusal that is not about a field as a page, and dates in the reader's language.
import type { Request, Response } from 'express';
import type { ApiAnswer } from '../admin-client';
import type { ConsoleKit } from '../kit';

/**
 * An admin API refusal as a form shows it. The users endpoints answer `errors: [{field, detail}]`
 * (kit.problems); the other admin endpoints answer one `detail` that starts with the attribute it
 * is about ("name is required…", "expiresAt must be in the future", "scopes: \"x\" is not a
 * scope…", docs/admin-api.md), so the detail goes beside the field it names. A 409 uniqueness
 * clash goes beside `conflictField` (the name or key that is taken).
 */
export function fieldProblems(
  kit: ConsoleKit,
  res: Response,
  answer: ApiAnswer,
  fields: readonly string[],
  conflictField?: string,
): { fields: Record<string, string>; message: string } {
  const p = kit.problems(res, answer);
  if (Object.keys(p.fields).length) return p;
  const named = /^([A-Za-z]+)\b/.exec(p.message)?.[1];
  const field = named && fields.includes(named) ? named : answer.status === 409 && conflictField ? conflictField : undefined;
  return { fields: field ? { [field]: p.message } : {}, message: p.message };
}

/**
 * A request the admin API refused (403 for a credential bound to a sub-account on a tenant-wide
 * part, 404 for an object that is not this tenant's, 409 for what the model forbids, such as
 * deleting the default price list): the console's error page with the API's
 * own words and status — the page can do nothing the API would refuse.
 */
export function refused(kit: ConsoleKit, req: Request, res: Response, answer: ApiAnswer): void {
  const t = kit.ctx(res).t;
  const status = [403, 404, 409].includes(answer.status) ? answer.status : 400;
  const message = kit.problems(res, answer).message;
  kit.render(req, res, 'console/error', { title: t(status === 404 ? 'errors.notFoundTitle' : status === 409 ? 'console-admin:conflictTitle' : 'console-admin:refusedTitle'), message }, status);
}

/** A date-time of the API (ISO 8601, UTC) as the reader's language writes it, in UTC. */
export function when(iso: string | null | undefined, lang: string): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(d)} UTC`;
}

/** A date (yyyy-mm-dd) from a date input as the API's date-time at midnight UTC, or undefined when empty. */
export const dateInput = (v: string): string | undefined => (v.trim() ? (/^\d{4}-\d{2}-\d{2}$/.test(v.trim()) ? `${v.trim()}T00:00:00Z` : v.trim()) : undefined);

/** A path segment taken from the URL for the admin API: only ids and keys, never `..` or a slash. */
export const segment = (v: unknown): string | undefined => (typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v) && !v.includes('..') ? v : undefined);

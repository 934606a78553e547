// What the console's tenant-administration pages (tokens, audit, settings, price lists, services,
// permission profiles, SSO) share: attributing an admin API refusal to the form field it is about,
// showing a refusal that is not about a field as a page, and dates in the reader's language.
import type { Request, Response, Router } from 'express';
import type { AdminApi, ApiAnswer } from '../admin-client';
import { formValue, type ConsoleKit } from '../kit';

/**
 * An admin API refusal as a form shows it: each field error of the API (`errors: [{field, path,
 * code, detail}]`, docs/admin-api.md "Field errors") beside the form field it names, in the
 * reader's language (kit.problems); one about a member this form does not show goes in the
 * message above the form, with the API's name for it.
 */
export function fieldProblems(kit: ConsoleKit, res: Response, answer: ApiAnswer, fields: readonly string[]): { fields: Record<string, string>; message: string } {
  const p = kit.problems(res, answer);
  const beside = Object.fromEntries(Object.entries(p.fields).filter(([f]) => fields.includes(f)));
  const elsewhere = Object.entries(p.fields).filter(([f]) => !fields.includes(f));
  return { fields: beside, message: elsewhere.length ? elsewhere.map(([f, m]) => `${f}: ${m}`).join(' ') : p.message };
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

/** The answer a page gives for an id or key that cannot be one (never sent to the admin API). */
export const NOT_FOUND: ApiAnswer = { status: 404, ok: false, body: {} };

/**
 * POST /console<page>/:id/delete for an object of the admin API at <api>/:id: without confirm=yes
 * the server-rendered confirmation (`<ns>:delete.title`, `.message`, `.confirm`, interpolated with
 * `words`), with it the DELETE, then the `<ns>.deleted` notice. Refusals are pages (refused).
 */
export function confirmedDelete(
  router: Router,
  kit: ConsoleKit,
  o: { page: string; api: string; ns: string; words(api: AdminApi, found: Record<string, any>): Promise<Record<string, unknown> | ApiAnswer> },
): void {
  router.post(
    `${o.page}/:id/delete`,
    kit.wrap(async (req, res) => {
      const c = kit.ctx(res);
      const id = segment(req.params.id);
      if (!id) return refused(kit, req, res, NOT_FOUND);
      const api = kit.api(req);
      if (formValue(req, 'confirm') !== 'yes') {
        const found = await api.get(`${o.api}/${id}`);
        if (!found.ok) return refused(kit, req, res, found);
        const words = await o.words(api, found.body);
        if ('status' in words && 'ok' in words) return refused(kit, req, res, words as ApiAnswer);
        return kit.confirm(req, res, {
          title: c.t(`${o.ns}:delete.title`, words),
          message: c.t(`${o.ns}:delete.message`, words),
          action: `/console${o.page}/${id}/delete`,
          fields: {},
          confirmLabel: c.t(`${o.ns}:delete.confirm`),
          cancelHref: `/console${o.page}`,
          danger: true,
        });
      }
      const answer = await api.send('DELETE', `${o.api}/${id}`);
      if (!answer.ok) return refused(kit, req, res, answer);
      kit.done(res, o.page, `${o.ns}.deleted`);
    }),
  );
}

/** The name of the list's default (price list, permission profile): where a deleted one's people go. */
export async function defaultName(api: AdminApi, path: string, key: string): Promise<string | ApiAnswer> {
  const all = await api.get(path);
  if (!all.ok) return all;
  return ((all.body[key] as Array<{ name: string; default: boolean }>).find((l) => l.default)?.name ?? '');
}

// /console/users: the list of the account's people, one page at a time from the admin API's
// GET /users (search q, state, role; cursor paging — nextCursor, and totalResults on the first
// page only, so a deep page never counts or loads the whole tenant: RFC 9865 cursors, see
// resources/service.ts). The bulk form around the rows posts to /console/users/bulk (bulk.ts).
import type { Request, Response, Router } from 'express';
import type { ConsoleKit } from '../../kit';
import type { UserRow } from './form';

export const PAGE_SIZE = 50;

export interface ListQuery {
  q: string;
  state: string;
  role: string;
  /** Rows per page when not the default (the admin API's count, 1–200). Not named `count`: that
   *  is the number a notice after a redirect carries (kit.done). */
  size: string;
  cursor: string;
}

const param = (req: Request, name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string).trim() : '');

/** The list's query string without the cursor (the filters), for links and forms. */
export function filterQuery(q: ListQuery, extra: Record<string, string> = {}): string {
  const s = new URLSearchParams();
  for (const k of ['q', 'state', 'role', 'size'] as const) if (q[k]) s.set(k, q[k]);
  for (const [k, v] of Object.entries(extra)) s.set(k, v);
  const text = s.toString();
  return text ? `?${text}` : '';
}

/** Renders the list (also after a refused bulk request, with `error`). */
export async function renderList(kit: ConsoleKit, req: Request, res: Response, o: { error?: string; status?: number } = {}): Promise<void> {
  const query: ListQuery = { q: param(req, 'q'), state: param(req, 'state'), role: param(req, 'role'), size: param(req, 'size'), cursor: param(req, 'cursor') };
  const answer = await kit.api(req).get<{ users: UserRow[]; totalResults?: number; nextCursor?: string }>('/users', {
    q: query.q,
    state: query.state,
    role: query.role,
    cursor: query.cursor,
    count: query.size || String(PAGE_SIZE),
  });
  const t = kit.ctx(res).t;
  // A bad filter or an expired cursor is the API's 400: the page says so and lists nothing.
  const error = o.error ?? (answer.ok ? undefined : t('users:errors.refused', { detail: kit.problems(res, answer).message }));
  kit.render(
    req,
    res,
    'console/users/list',
    {
      title: t('users:title'),
      query,
      users: answer.ok ? answer.body.users : [],
      total: answer.ok ? answer.body.totalResults : undefined,
      next: answer.ok && answer.body.nextCursor ? `/console/users${filterQuery(query, { cursor: answer.body.nextCursor })}` : undefined,
      first: query.cursor ? `/console/users${filterQuery(query)}` : undefined,
      error,
      back: `/console/users${filterQuery(query, query.cursor ? { cursor: query.cursor } : {})}`,
    },
    o.status ?? (answer.ok ? 200 : answer.status),
  );
}

export function listRoutes(router: Router, kit: ConsoleKit): void {
  router.get(
    '/users',
    kit.wrap((req, res) => renderList(kit, req, res)),
  );
}

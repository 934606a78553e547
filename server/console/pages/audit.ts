// The audit log (issue 11, "Audit log (filter by person, target, action, date)"): the tenant's
// entries newest first, filtered by who (a person's sign-in email or any actor id), what it was
// done to (a target id or key), the action, and a date range, a page at a time (GET /audit's
// `before` cursor). Filters are a GET form, so a filtered view is a link. Tenant-wide only: the
// admin API refuses credentials bound to a sub-account (docs/admin-api.md, "Tenant-wide only").
// test/api/console-admin-pages.test.ts, "Audit log".
import type { Request, Response } from 'express';
import type { ConsoleKit, ConsolePage } from '../kit';
import { fieldProblems, refused, when } from './admin-forms';

const PAGE = 50;
const FILTERS = ['actor', 'target', 'action', 'from', 'to'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;

const q = (req: Request, name: string) => (typeof req.query[name] === 'string' ? (req.query[name] as string).trim() : '');

/** The last day of the range is included: `to` is "strictly before" in the API, so the next midnight. */
function dayAfter(v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  const d = new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return v;
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString();
}

async function show(kit: ConsoleKit, req: Request, res: Response) {
  const c = kit.ctx(res);
  const api = kit.api(req);
  const filters = Object.fromEntries(FILTERS.map((f) => [f, q(req, f)])) as Filters;
  const before = q(req, 'before');
  const errors: Record<string, string> = {};
  // A person is named by their sign-in email; the API filters by actor id.
  let actorId = filters.actor;
  if (filters.actor.includes('@')) {
    const found = await api.get('/users', { q: filters.actor, count: '10' });
    if (!found.ok) return refused(kit, req, res, found);
    const person = (found.body.users ?? []).find((u: { email?: string }) => u.email?.toLowerCase() === filters.actor.toLowerCase());
    if (person) actorId = person.id;
    else errors.actor = c.t('audit:noSuchPerson', { email: filters.actor });
  }
  let entries: Array<Record<string, any>> = [];
  let next: string | undefined;
  let message: string | undefined;
  if (!errors.actor) {
    const answer = await api.get('/audit', {
      actor: actorId || undefined,
      target: filters.target || undefined,
      action: filters.action || undefined,
      from: filters.from || undefined,
      to: filters.to ? dayAfter(filters.to) : undefined,
      before: before || undefined,
      limit: String(PAGE),
    });
    if (answer.status === 400) {
      const p = fieldProblems(kit, res, answer, [...FILTERS, 'before']);
      Object.assign(errors, p.fields);
      message = p.message;
    } else if (!answer.ok) return refused(kit, req, res, answer);
    else {
      entries = answer.body.entries ?? [];
      next = entries.length === PAGE ? answer.body.next : undefined;
    }
  }
  // People named as actors or targets are shown by their sign-in email where the API knows them.
  const userIds = [...new Set(entries.flatMap((e) => [e.actor?.type === 'user' ? e.actor.id : undefined, e.target?.type === 'User' ? e.target.id : undefined]).filter((x): x is string => !!x))];
  const people = new Map<string, string>();
  await Promise.all(
    userIds.map(async (id) => {
      const u = await api.get(`/users/${id}`);
      if (u.ok && u.body.email) people.set(id, u.body.email);
    }),
  );
  // Tokens and SCIM clients by name (GET /tokens lists both, revoked ones included).
  const names = new Map<string, string>();
  if (entries.some((e) => e.actor?.type === 'token' || e.actor?.type === 'scimClient' || e.target?.type === 'Token' || e.target?.type === 'ScimClient')) {
    const creds = await api.get('/tokens');
    if (creds.ok) for (const k of [...(creds.body.tokens ?? []), ...(creds.body.scimClients ?? [])]) names.set(k.id, k.name);
  }
  const query = (extra: Record<string, string>) => new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), ...extra }).toString();
  kit.render(
    req,
    res,
    'console/audit/index',
    {
      title: c.t('audit:title'),
      filters,
      errors,
      message,
      entries,
      people: Object.fromEntries([...names, ...people]),
      when: (iso: string) => when(iso, c.lang),
      nextHref: next ? `/console/audit?${query({ before: next })}` : undefined,
      firstHref: before ? `/console/audit?${query({})}` : undefined,
    },
    Object.keys(errors).length ? 400 : 200,
  );
}

export const auditPage: ConsolePage = {
  nav: { path: '/audit', label: 'nav.audit', order: 100, tenantWideOnly: true },
  routes(router, kit) {
    router.get(
      '/audit',
      kit.wrap((req, res) => show(kit, req, res)),
    );
  },
};

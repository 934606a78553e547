// Departments (issue 11): the tenant's sub-accounts as accounts of their own, each blind to the
// others (docs/console/departments.md). A department is a group of kind `subAccount`
// (docs/tenancy.md): name, daily and monthly limits, members chosen from the account's people
// (they keep their access to the account above), admins, switched off and on, and purged 12
// months after it was switched off. Everything goes through the admin API's /sub-accounts
// (admin/sub-accounts.ts); the page offers switching off and on, limits and admins only where the
// API says the person may (`mayChangeState`, resources/authority.ts), and the API refuses the rest.
import type { Request, Response } from 'express';
import type { ConsoleKit, ConsolePage } from '../kit';
import { formValue, formValues } from '../kit';
import { isProblem, limitValue, longDate, notFoundPage, pageLinks, pageQuery } from './form-helpers';

/** Rows per page: departments (the list) and people (the picker); `size` in the query overrides (tests). */
const DEPARTMENTS_SHOWN = 50;
const PEOPLE_SHOWN = 200;

interface Department {
  id: string;
  name: string;
  active: boolean;
  deactivatedAt: string | null;
  purgeAt: string | null;
  dailyLimit: number | null;
  monthlyLimit: number | null;
  admins: string[];
  members?: { id: string; name: string | null }[];
  mayChangeState: boolean;
}

interface Person {
  id: string;
  displayName: string | null;
  email: string | null;
}

export const departmentsPage: ConsolePage = {
  nav: { path: '/departments', label: 'nav.departments', order: 30 },
  routes(router, kit) {
    const list = async (req: Request, res: Response, form: { fields: Record<string, string>; message?: string; values: Record<string, string> } | undefined, status = 200) => {
      const c = kit.ctx(res);
      // One page at a time (the API's cursor paging), the search kept in the page links.
      const query = pageQuery(req);
      const answer = await kit.api(req).get('/sub-accounts', { q: query.q || undefined, count: query.size || String(DEPARTMENTS_SHOWN), cursor: query.cursor || undefined });
      if (!answer.ok) return kit.render(req, res, 'console/error', { title: c.t('departments:title'), message: kit.problems(res, answer).message }, answer.status);
      const rows = (answer.body.subAccounts as Department[]).map((d) => ({ ...d, purgeDate: longDate(d.purgeAt, c.lang), deactivatedDate: longDate(d.deactivatedAt, c.lang) }));
      kit.render(
        req,
        res,
        'console/departments/list',
        { title: c.t('departments:title'), departments: rows, query, total: answer.body.totalResults, pager: pageLinks('/console/departments', query, answer.body.nextCursor), form: form ?? { fields: {}, values: {} } },
        status,
      );
    };

    router.get(
      '/departments',
      kit.wrap((req, res) => list(req, res, undefined)),
    );

    router.post(
      '/departments',
      kit.wrap(async (req, res) => {
        const body = { name: formValue(req, 'name'), dailyLimit: limitValue(req, 'dailyLimit'), monthlyLimit: limitValue(req, 'monthlyLimit') };
        const answer = await kit.api(req).send('POST', '/sub-accounts', body);
        if (answer.ok) return kit.done(res, `/departments/${answer.body.id}`, 'departments.created');
        const p = kit.problems(res, answer);
        const values = { name: formValue(req, 'name'), dailyLimit: formValue(req, 'dailyLimit'), monthlyLimit: formValue(req, 'monthlyLimit') };
        return list(req, res, { fields: p.fields, message: Object.keys(p.fields).length ? undefined : p.message, values }, answer.status);
      }),
    );

    /** The edit page: the department, and the people it may hold (its members always among them). */
    const edit = async (req: Request, res: Response, id: string, form?: { fields: Record<string, string>; message?: string; values: Record<string, string>; members?: string[]; admins?: string[] }, status = 200) => {
      const c = kit.ctx(res);
      const api = kit.api(req);
      const answer = await api.get(`/sub-accounts/${encodeURIComponent(id)}`);
      if (answer.status === 404) return notFoundPage(kit, req, res);
      if (!answer.ok) return kit.render(req, res, 'console/error', { title: c.t('departments:title'), message: kit.problems(res, answer).message }, answer.status);
      const d = answer.body as Department;
      // The people picker pages through GET /users (cursor); Save sends the members ticked on this
      // page and every current member (always listed below), so paging loses nobody.
      const query = pageQuery(req);
      const q = query.q;
      const people = await api.get('/users', { count: query.size || String(PEOPLE_SHOWN), q: q || undefined, cursor: query.cursor || undefined });
      const listed: Person[] = people.ok ? people.body.users : [];
      const total: number | undefined = people.ok ? people.body.totalResults : undefined;
      // Members are always shown (and kept by Save) even when the search or the page leaves them out.
      const seen = new Set(listed.map((p) => p.id));
      const candidates = [...listed, ...(d.members ?? []).filter((m) => !seen.has(m.id)).map((m) => ({ id: m.id, displayName: m.name, email: null }))];
      const members = new Set(form?.members ?? (d.members ?? []).map((m) => m.id));
      const admins = new Set(form?.admins ?? d.admins);
      kit.render(
        req,
        res,
        'console/departments/edit',
        {
          title: d.name,
          d: { ...d, purgeDate: longDate(d.purgeAt, c.lang), deactivatedDate: longDate(d.deactivatedAt, c.lang) },
          people: candidates.map((p) => ({ ...p, member: members.has(p.id), admin: admins.has(p.id) })),
          truncated: total !== undefined && total > listed.length,
          total,
          q,
          query,
          pager: pageLinks(`/console/departments/${encodeURIComponent(d.id)}`, query, people.ok ? people.body.nextCursor : undefined),
          form: form ?? { fields: {}, values: { name: d.name, dailyLimit: d.dailyLimit ?? '', monthlyLimit: d.monthlyLimit ?? '' } },
        },
        status,
      );
    };

    router.get(
      '/departments/:id',
      kit.wrap((req, res) => edit(req, res, String(req.params.id))),
    );

    router.post(
      '/departments/:id',
      kit.wrap(async (req, res) => {
        const id = String(req.params.id);
        const members = formValues(req, 'members');
        const admins = formValues(req, 'admins');
        const body: Record<string, unknown> = { name: formValue(req, 'name'), members };
        // Limits and admins belong to the account above: sent only when the page offered them.
        if (formValue(req, 'ownedAbove') === 'yes') Object.assign(body, { dailyLimit: limitValue(req, 'dailyLimit'), monthlyLimit: limitValue(req, 'monthlyLimit'), admins });
        const answer = await kit.api(req).send('PATCH', `/sub-accounts/${encodeURIComponent(id)}`, body);
        if (answer.ok) return kit.done(res, `/departments/${encodeURIComponent(id)}`, 'departments.saved');
        if (answer.status === 404) return notFoundPage(kit, req, res);
        const p = kit.problems(res, answer);
        const values = { name: formValue(req, 'name'), dailyLimit: formValue(req, 'dailyLimit'), monthlyLimit: formValue(req, 'monthlyLimit') };
        return edit(req, res, id, { fields: p.fields, message: Object.keys(p.fields).length && !p.fields.members && !p.fields.admins ? undefined : p.message, values, members, admins }, isProblem(answer.status) ? answer.status : 400);
      }),
    );

    // Switching off asks first (its people lose access, its tokens stop); switching on does not.
    router.post(
      '/departments/:id/state',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const id = String(req.params.id);
        const active = formValue(req, 'active') === 'yes';
        const api = kit.api(req);
        if (!active && formValue(req, 'confirm') !== 'yes') {
          const current = await api.get(`/sub-accounts/${encodeURIComponent(id)}`);
          if (!current.ok) return notFoundPage(kit, req, res);
          return kit.confirm(req, res, {
            title: c.t('departments:confirmDeactivate.title', { name: current.body.name }),
            message: c.t('departments:confirmDeactivate.message', { name: current.body.name }),
            action: `/console/departments/${encodeURIComponent(id)}/state`,
            fields: { active: 'no' },
            confirmLabel: c.t('departments:deactivate'),
            cancelHref: `/console/departments/${encodeURIComponent(id)}`,
            danger: true,
          });
        }
        const answer = await api.send('PATCH', `/sub-accounts/${encodeURIComponent(id)}`, { active });
        if (answer.status === 404) return notFoundPage(kit, req, res);
        if (!answer.ok) return kit.render(req, res, 'console/error', { title: c.t('departments:title'), message: kit.problems(res, answer).message }, answer.status);
        kit.done(res, `/departments/${encodeURIComponent(id)}`, active ? 'departments.reactivated' : 'departments.deactivated');
      }),
    );
  },
};

// Sub-accounts (issue 11): the delegated managers of today's partner portals — a sign-in for
// someone who manages some of the partner's customer companies, with or without their licences
// (docs/console/sub-accounts.md; the model in admin/managers.ts and docs/admin-api.md "Delegated
// managers"). A card per manager: name and sign-in email, Managed companies (checkboxes and a
// Save that goes through a server-rendered confirmation; public/console.js turns them into a
// selector that asks on closing), Can manage licences (a switch), Reset password and Delete (each
// confirmed). At the bottom, Create a sub-account, confirmed with the warning that a temporary
// password will be emailed. All through the admin API (/managers, PUT /managers/{id}/companies, /companies, /users).
import type { Request, Response } from 'express';
import type { ConsolePage } from '../kit';
import { formValue, formValues } from '../kit';
import { notFoundPage, pageLinks, pageQuery } from './form-helpers';

/** Manager cards per page; `size` in the query overrides (tests). */
const MANAGERS_SHOWN = 50;

interface Company {
  id: string;
  name: string;
}

interface Manager {
  id: string;
  name: string;
  email: string;
  state: string;
  canManageLicences: boolean;
  companies: Company[];
}

type CreateForm = { fields: Record<string, string>; message?: string; values: Record<string, string> };

export const subAccountsPage: ConsolePage = {
  nav: { path: '/sub-accounts', label: 'nav.subAccounts', order: 20 },
  routes(router, kit) {
    const base = '/console/sub-accounts';

    const list = async (req: Request, res: Response, opts: { form?: CreateForm; error?: string } = {}, status = 200) => {
      const c = kit.ctx(res);
      const api = kit.api(req);
      // One page of managers at a time (the API's cursor paging), the search kept in the page links.
      const query = pageQuery(req);
      const [managers, companies] = await Promise.all([
        api.get('/managers', { q: query.q || undefined, count: query.size || String(MANAGERS_SHOWN), cursor: query.cursor || undefined }),
        api.get('/companies'),
      ]);
      if (!managers.ok || !companies.ok) {
        const failed = managers.ok ? companies : managers;
        return kit.render(req, res, 'console/error', { title: c.t('subaccounts:title'), message: kit.problems(res, failed).message }, failed.status);
      }
      kit.render(
        req,
        res,
        'console/sub-accounts/list',
        {
          title: c.t('subaccounts:title'),
          managers: managers.body.managers as Manager[],
          primaryAdmin: managers.body.primaryAdmin,
          query,
          total: managers.body.totalResults,
          pager: pageLinks('/console/sub-accounts', query, managers.body.nextCursor),
          companies: companies.body.companies as Company[],
          // Licence rights are the whole account's to give (admin API: tenant-wide only).
          mayGrantLicences: c.tenantWide,
          form: opts.form ?? { fields: {}, values: {} },
          error: opts.error,
        },
        status,
      );
    };

    /** The manager a card is about, as the admin API sees it (404 page when it does not). */
    const manager = async (req: Request, id: string): Promise<Manager | undefined> => {
      // One read (GET /managers/{id}), not the list: the list comes a page at a time.
      const answer = await kit.api(req).get(`/managers/${encodeURIComponent(id)}`);
      return answer.ok ? (answer.body as Manager) : undefined;
    };

    router.get(
      '/sub-accounts',
      kit.wrap((req, res) => list(req, res)),
    );

    // Create: the confirmation warns that a temporary password goes to that address.
    router.post(
      '/sub-accounts',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const values = { email: formValue(req, 'email').trim(), name: formValue(req, 'name'), canManageLicences: formValue(req, 'canManageLicences') === 'yes' ? 'yes' : '' };
        if (formValue(req, 'confirm') !== 'yes') {
          return kit.confirm(req, res, {
            title: c.t('subaccounts:confirmCreate.title', { name: values.name.trim() || values.email }),
            message: c.t('subaccounts:confirmCreate.message', { email: values.email }),
            action: base,
            fields: values,
            confirmLabel: c.t('subaccounts:createButton'),
            cancelHref: base,
          });
        }
        const answer = await kit.api(req).send('POST', '/managers', { email: values.email, name: values.name, canManageLicences: values.canManageLicences === 'yes' });
        if (answer.ok) return kit.done(res, '/sub-accounts', 'subaccounts.created');
        const p = kit.problems(res, answer);
        // A refusal about a field the form does not show (licence rights, for a department's admin) is the form's message.
        const shown = ['email', 'name', ...(c.tenantWide ? ['canManageLicences'] : [])];
        const beside = Object.keys(p.fields).length > 0 && Object.keys(p.fields).every((f) => shown.includes(f));
        return list(req, res, { form: { fields: p.fields, message: beside ? undefined : p.message, values } }, answer.status);
      }),
    );

    // Managed companies: without scripts, Save shows what will change and asks to confirm.
    router.post(
      '/sub-accounts/:id/companies',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const id = String(req.params.id);
        const chosen = formValues(req, 'companies');
        if (formValue(req, 'confirm') !== 'yes') {
          const m = await manager(req, id);
          if (!m) return notFoundPage(kit, req, res);
          const all = await kit.api(req).get('/companies');
          const names = (all.ok ? (all.body.companies as Company[]) : []).filter((x) => chosen.includes(x.id)).map((x) => x.name);
          return kit.confirm(req, res, {
            title: c.t('subaccounts:confirmCompanies.title', { name: m.name }),
            message: names.length ? c.t('subaccounts:confirmCompanies.message', { name: m.name, companies: names.join(', ') }) : c.t('subaccounts:confirmCompanies.none', { name: m.name }),
            action: `${base}/${encodeURIComponent(id)}/companies`,
            fields: { companies: chosen, present: 'yes' },
            confirmLabel: c.t('actions.confirm'),
            cancelHref: base,
          });
        }
        // The whole set in one call and one transaction (PUT /managers/{id}/companies): a refusal
        // half-way leaves the manager's companies as they were.
        const answer = await kit.api(req).send('PUT', `/managers/${encodeURIComponent(id)}/companies`, { companies: chosen });
        // A 404 about `companies` is a company gone meanwhile: the list says so; else the manager is gone.
        const companyGone = answer.status === 404 && Array.isArray(answer.body?.errors) && answer.body.errors.some((e: { field?: string }) => e.field === 'companies');
        if (answer.status === 404 && !companyGone) return notFoundPage(kit, req, res);
        if (!answer.ok) return list(req, res, { error: kit.problems(res, answer).message }, answer.status);
        kit.done(res, '/sub-accounts', 'subaccounts.companiesSaved');
      }),
    );

    router.post(
      '/sub-accounts/:id/licences',
      kit.wrap(async (req, res) => {
        const id = String(req.params.id);
        const on = formValue(req, 'canManageLicences') === 'yes';
        const answer = await kit.api(req).send('PATCH', `/managers/${encodeURIComponent(id)}`, { canManageLicences: on });
        if (answer.status === 404) return notFoundPage(kit, req, res);
        if (!answer.ok) return list(req, res, { error: kit.problems(res, answer).message }, answer.status);
        kit.done(res, '/sub-accounts', on ? 'subaccounts.licencesOn' : 'subaccounts.licencesOff');
      }),
    );

    const confirmed = (action: 'reset' | 'delete') =>
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const id = String(req.params.id);
        const m = await manager(req, id);
        if (!m) return notFoundPage(kit, req, res);
        if (formValue(req, 'confirm') !== 'yes') {
          return kit.confirm(req, res, {
            title: c.t(`subaccounts:confirm${action === 'reset' ? 'Reset' : 'Delete'}.title`, { name: m.name }),
            message: c.t(`subaccounts:confirm${action === 'reset' ? 'Reset' : 'Delete'}.message`, { name: m.name, email: m.email }),
            action: `${base}/${encodeURIComponent(id)}/${action}`,
            fields: {},
            confirmLabel: c.t(action === 'reset' ? 'subaccounts:resetPassword' : 'actions.delete'),
            cancelHref: base,
            danger: true,
          });
        }
        const api = kit.api(req);
        const answer = action === 'reset' ? await api.send('POST', `/users/${encodeURIComponent(id)}/reset-password`) : await api.send('DELETE', `/users/${encodeURIComponent(id)}`);
        if (answer.status === 404) return notFoundPage(kit, req, res);
        if (!answer.ok) return list(req, res, { error: kit.problems(res, answer).message }, answer.status);
        kit.done(res, '/sub-accounts', action === 'reset' ? 'subaccounts.passwordReset' : 'subaccounts.deleted');
      });
    router.post('/sub-accounts/:id/reset', confirmed('reset'));
    router.post('/sub-accounts/:id/delete', confirmed('delete'));
  },
};

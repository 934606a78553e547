// Companies (issue 11): the customer companies the partner manages — groups of kind `company`
// (docs/tenancy.md "Companies and licences"; docs/console/companies.md): list, create, rename and
// delete (confirmed). Who manages each is chosen on the Sub-accounts page. Through the admin API's
// /companies (admin/companies.ts).
import type { Request, Response } from 'express';
import type { ConsolePage } from '../kit';
import { formValue } from '../kit';
import { notFoundPage } from './form-helpers';

interface Company {
  id: string;
  name: string;
  managers: number;
}

type Form = { fields: Record<string, string>; message?: string; values: Record<string, string> };

export const companiesPage: ConsolePage = {
  nav: { path: '/companies', label: 'nav.companies', order: 40 },
  routes(router, kit) {
    const list = async (req: Request, res: Response, form?: Form, status = 200) => {
      const c = kit.ctx(res);
      const answer = await kit.api(req).get('/companies');
      if (!answer.ok) return kit.render(req, res, 'console/error', { title: c.t('companies:title'), message: kit.problems(res, answer).message }, answer.status);
      kit.render(req, res, 'console/companies/list', { title: c.t('companies:title'), companies: answer.body.companies as Company[], form: form ?? { fields: {}, values: {} } }, status);
    };

    const edit = async (req: Request, res: Response, id: string, form?: Form, status = 200) => {
      const answer = await kit.api(req).get(`/companies/${encodeURIComponent(id)}`);
      if (!answer.ok) return notFoundPage(kit, req, res);
      const company = answer.body as Company;
      kit.render(req, res, 'console/companies/edit', { title: company.name, company, form: form ?? { fields: {}, values: { name: company.name } } }, status);
    };

    router.get(
      '/companies',
      kit.wrap((req, res) => list(req, res)),
    );

    router.post(
      '/companies',
      kit.wrap(async (req, res) => {
        const answer = await kit.api(req).send('POST', '/companies', { name: formValue(req, 'name') });
        if (answer.ok) return kit.done(res, '/companies', 'companies.created');
        const p = kit.problems(res, answer);
        return list(req, res, { fields: p.fields, message: Object.keys(p.fields).length ? undefined : p.message, values: { name: formValue(req, 'name') } }, answer.status);
      }),
    );

    router.get(
      '/companies/:id',
      kit.wrap((req, res) => edit(req, res, String(req.params.id))),
    );

    router.post(
      '/companies/:id',
      kit.wrap(async (req, res) => {
        const id = String(req.params.id);
        const answer = await kit.api(req).send('PATCH', `/companies/${encodeURIComponent(id)}`, { name: formValue(req, 'name') });
        if (answer.ok) return kit.done(res, '/companies', 'companies.renamed');
        if (answer.status === 404) return notFoundPage(kit, req, res);
        const p = kit.problems(res, answer);
        return edit(req, res, id, { fields: p.fields, message: Object.keys(p.fields).length ? undefined : p.message, values: { name: formValue(req, 'name') } }, answer.status);
      }),
    );

    router.post(
      '/companies/:id/delete',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const id = String(req.params.id);
        const api = kit.api(req);
        const current = await api.get(`/companies/${encodeURIComponent(id)}`);
        if (!current.ok) return notFoundPage(kit, req, res);
        const company = current.body as Company;
        if (formValue(req, 'confirm') !== 'yes') {
          return kit.confirm(req, res, {
            title: c.t('companies:confirmDelete.title', { name: company.name }),
            message: c.t('companies:confirmDelete.message', { name: company.name, count: company.managers }),
            action: `/console/companies/${encodeURIComponent(id)}/delete`,
            fields: {},
            confirmLabel: c.t('actions.delete'),
            cancelHref: '/console/companies',
            danger: true,
          });
        }
        const answer = await api.send('DELETE', `/companies/${encodeURIComponent(id)}`);
        if (answer.status === 404) return notFoundPage(kit, req, res);
        if (!answer.ok) return kit.render(req, res, 'console/error', { title: c.t('companies:title'), message: kit.problems(res, answer).message }, answer.status);
        kit.done(res, '/companies', 'companies.deleted');
      }),
    );
  },
};

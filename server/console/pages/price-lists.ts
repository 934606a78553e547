// Price lists (issue 11, "Price lists (one default)"): list, create, rename, make default, delete.
// The tenant always has exactly one default — the admin API makes the switch atomic and refuses
// deleting the default, so the page offers no Delete on it; deleting another list asks first and
// says its people move to the default (docs/admin-api.md, "Price lists"). Tenant-wide only.
// test/api/console-admin-pages.test.ts, "Price lists".
import type { Request, Response } from 'express';
import { formValue, type ConsoleKit, type ConsolePage } from '../kit';
import { fieldProblems, refused, segment, when } from './admin-forms';

const notFound = { status: 404, ok: false, body: {} };

async function listPage(kit: ConsoleKit, req: Request, res: Response, form: { name: string; error?: string; message?: string } = { name: '' }, status = 200) {
  const c = kit.ctx(res);
  const answer = await kit.api(req).get('/price-lists');
  if (!answer.ok) return refused(kit, req, res, answer);
  kit.render(req, res, 'console/price-lists/index', { title: c.t('price-lists:title'), lists: answer.body.priceLists, form, when: (iso: string) => when(iso, c.lang) }, status);
}

async function editPage(kit: ConsoleKit, req: Request, res: Response, id: string, form?: { name: string; error?: string; message?: string }, status = 200) {
  const c = kit.ctx(res);
  const answer = await kit.api(req).get(`/price-lists/${id}`);
  if (!answer.ok) return refused(kit, req, res, answer);
  kit.render(req, res, 'console/price-lists/edit', { title: c.t('price-lists:edit.title', { name: answer.body.name }), list: answer.body, form: form ?? { name: answer.body.name } }, status);
}

export const priceListsPage: ConsolePage = {
  nav: { path: '/price-lists', label: 'nav.priceLists', order: 50, tenantWideOnly: true },
  routes(router, kit) {
    router.get(
      '/price-lists',
      kit.wrap((req, res) => listPage(kit, req, res)),
    );

    router.post(
      '/price-lists',
      kit.wrap(async (req, res) => {
        const name = formValue(req, 'name');
        const answer = await kit.api(req).send('POST', '/price-lists', { name });
        if (!answer.ok) {
          if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, ['name'], 'name');
          return listPage(kit, req, res, { name, error: p.fields.name ?? p.message }, answer.status);
        }
        kit.done(res, '/price-lists', 'price-lists.created');
      }),
    );

    router.get(
      '/price-lists/:id',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, notFound);
        return editPage(kit, req, res, id);
      }),
    );

    router.post(
      '/price-lists/:id',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, notFound);
        const name = formValue(req, 'name');
        const answer = await kit.api(req).send('PATCH', `/price-lists/${id}`, { name });
        if (!answer.ok) {
          if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, ['name'], 'name');
          return editPage(kit, req, res, id, { name, error: p.fields.name ?? p.message }, answer.status);
        }
        kit.done(res, '/price-lists', 'price-lists.renamed');
      }),
    );

    // Making a list the default moves nobody (people without a list of their own follow the default).
    router.post(
      '/price-lists/:id/default',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, notFound);
        const answer = await kit.api(req).send('PATCH', `/price-lists/${id}`, { default: true });
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, '/price-lists', 'price-lists.madeDefault');
      }),
    );

    router.post(
      '/price-lists/:id/delete',
      kit.wrap(async (req, res) => {
        const c = kit.ctx(res);
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, notFound);
        const api = kit.api(req);
        if (formValue(req, 'confirm') !== 'yes') {
          const [found, all] = await Promise.all([api.get(`/price-lists/${id}`), api.get('/price-lists')]);
          if (!found.ok) return refused(kit, req, res, found);
          if (!all.ok) return refused(kit, req, res, all);
          const fallback = (all.body.priceLists as Array<{ name: string; default: boolean }>).find((l) => l.default);
          return kit.confirm(req, res, {
            title: c.t('price-lists:delete.title', { name: found.body.name }),
            message: c.t('price-lists:delete.message', { name: found.body.name, fallback: fallback?.name ?? '' }),
            action: `/console/price-lists/${id}/delete`,
            fields: {},
            confirmLabel: c.t('price-lists:delete.confirm'),
            cancelHref: '/console/price-lists',
            danger: true,
          });
        }
        const answer = await api.send('DELETE', `/price-lists/${id}`);
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, '/price-lists', 'price-lists.deleted');
      }),
    );
  },
};

// Price lists (issue 11, "Price lists (one default)"): list, create, rename, make default, delete.
// The tenant always has exactly one default — the admin API makes the switch atomic and refuses
// deleting the default, so the page offers no Delete on it; deleting another list asks first and
// says its people move to the default (docs/admin-api.md, "Price lists"). Tenant-wide only.
// test/api/console-admin-pages.test.ts, "Price lists".
import type { Request, Response } from 'express';
import { formValue, type ConsoleKit, type ConsolePage } from '../kit';
import { confirmedDelete, fieldProblems, NOT_FOUND, refused, segment, defaultName, when } from './admin-forms';


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
          const p = fieldProblems(kit, res, answer, ['name']);
          return listPage(kit, req, res, { name, error: p.fields.name ?? p.message }, answer.status);
        }
        kit.done(res, '/price-lists', 'price-lists.created');
      }),
    );

    router.get(
      '/price-lists/:id',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, NOT_FOUND);
        return editPage(kit, req, res, id);
      }),
    );

    router.post(
      '/price-lists/:id',
      kit.wrap(async (req, res) => {
        const id = segment(req.params.id);
        if (!id) return refused(kit, req, res, NOT_FOUND);
        const name = formValue(req, 'name');
        const answer = await kit.api(req).send('PATCH', `/price-lists/${id}`, { name });
        if (!answer.ok) {
          if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, ['name']);
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
        if (!id) return refused(kit, req, res, NOT_FOUND);
        const answer = await kit.api(req).send('PATCH', `/price-lists/${id}`, { default: true });
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, '/price-lists', 'price-lists.madeDefault');
      }),
    );

    confirmedDelete(router, kit, {
      page: '/price-lists',
      api: '/price-lists',
      ns: 'price-lists',
      words: async (api, found) => {
        const fallback = await defaultName(api, '/price-lists', 'priceLists');
        return typeof fallback === 'string' ? { name: found.name, fallback } : fallback;
      },
    });
  },
};

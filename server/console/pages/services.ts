// Services (issue 11): what the tenant assigns to its people — list, create (key, name,
// description), change the name and description (the key is immutable: users hold it), delete
// behind a confirmation that says the service is taken from everyone who has it
// (docs/admin-api.md, "Services"). Changing services is tenant-wide only, so the page is too.
// test/api/console-admin-pages.test.ts, "Services".
import type { Request, Response } from 'express';
import { formValue, type ConsoleKit, type ConsolePage } from '../kit';
import { confirmedDelete, fieldProblems, NOT_FOUND, refused, segment } from './admin-forms';

const FIELDS = ['key', 'name', 'description'];
interface Form {
  values: { key: string; name: string; description: string };
  errors: Record<string, string>;
  message?: string;
}
const blank = (): Form => ({ values: { key: '', name: '', description: '' }, errors: {} });

async function listPage(kit: ConsoleKit, req: Request, res: Response, form = blank(), status = 200) {
  const answer = await kit.api(req).get('/services');
  if (!answer.ok) return refused(kit, req, res, answer);
  kit.render(req, res, 'console/services/index', { title: kit.ctx(res).t('services:title'), services: answer.body.services, form }, status);
}

async function editPage(kit: ConsoleKit, req: Request, res: Response, key: string, form?: Form, status = 200) {
  const answer = await kit.api(req).get(`/services/${key}`);
  if (!answer.ok) return refused(kit, req, res, answer);
  const s = answer.body;
  kit.render(req, res, 'console/services/edit', { title: kit.ctx(res).t('services:edit.title', { name: s.name }), service: s, form: form ?? { values: { key: s.key, name: s.name, description: s.description ?? '' }, errors: {} } }, status);
}

const values = (req: Request) => ({ key: formValue(req, 'key'), name: formValue(req, 'name'), description: formValue(req, 'description') });

export const servicesPage: ConsolePage = {
  nav: { path: '/services', label: 'nav.services', order: 60, tenantWideOnly: true },
  routes(router, kit) {
    router.get(
      '/services',
      kit.wrap((req, res) => listPage(kit, req, res)),
    );

    router.post(
      '/services',
      kit.wrap(async (req, res) => {
        const v = values(req);
        const answer = await kit.api(req).send('POST', '/services', { key: v.key.trim(), name: v.name, description: v.description.trim() || null });
        if (!answer.ok) {
          if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, FIELDS);
          return listPage(kit, req, res, { values: v, errors: p.fields, message: p.message }, answer.status);
        }
        kit.done(res, '/services', 'services.created');
      }),
    );

    router.get(
      '/services/:key',
      kit.wrap(async (req, res) => {
        const key = segment(req.params.key);
        return key ? editPage(kit, req, res, key) : refused(kit, req, res, NOT_FOUND);
      }),
    );

    router.post(
      '/services/:key',
      kit.wrap(async (req, res) => {
        const key = segment(req.params.key);
        if (!key) return refused(kit, req, res, NOT_FOUND);
        const v = { ...values(req), key };
        const answer = await kit.api(req).send('PATCH', `/services/${key}`, { name: v.name, description: v.description.trim() || null });
        if (!answer.ok) {
          if (answer.status !== 400) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, FIELDS);
          return editPage(kit, req, res, key, { values: v, errors: p.fields, message: p.message }, 400);
        }
        kit.done(res, '/services', 'services.changed');
      }),
    );

    confirmedDelete(router, kit, { page: '/services', api: '/services', ns: 'services', words: async (_api, found) => ({ name: found.name }) });
  },
};

// Permission profiles (issue 11): list, create with permissions chosen from the operator's
// catalogue (GET /permissions), change, make default, delete behind a confirmation that says its
// people move to the default. The built-in "enterprise" profile grants every permission — also
// those the operator adds later — and the page says so wherever it appears; its permissions
// cannot be changed (docs/admin-api.md, "Permission profiles"). Changing profiles is tenant-wide
// only, so the page is too. test/api/console-admin-pages.test.ts, "Permission profiles".
import type { Request, Response } from 'express';
import { formValue, formValues, type ConsoleKit, type ConsolePage } from '../kit';
import { confirmedDelete, fieldProblems, NOT_FOUND, refused, segment, defaultName } from './admin-forms';

const FIELDS = ['key', 'name', 'description', 'permissions'];
interface Form {
  values: { key: string; name: string; description: string; permissions: string[] };
  errors: Record<string, string>;
  message?: string;
}
const blank = (): Form => ({ values: { key: '', name: '', description: '', permissions: [] }, errors: {} });
const values = (req: Request) => ({ key: formValue(req, 'key'), name: formValue(req, 'name'), description: formValue(req, 'description'), permissions: formValues(req, 'permissions') });

async function catalogue(kit: ConsoleKit, req: Request) {
  const answer = await kit.api(req).get('/permissions');
  return answer.ok ? (answer.body.permissions as Array<{ key: string; description: string }>) : [];
}

async function listPage(kit: ConsoleKit, req: Request, res: Response, form = blank(), status = 200) {
  const [answer, permissions] = await Promise.all([kit.api(req).get('/permission-profiles'), catalogue(kit, req)]);
  if (!answer.ok) return refused(kit, req, res, answer);
  kit.render(req, res, 'console/permission-profiles/index', { title: kit.ctx(res).t('permission-profiles:title'), profiles: answer.body.permissionProfiles, permissions, form }, status);
}

async function editPage(kit: ConsoleKit, req: Request, res: Response, key: string, form?: Form, status = 200) {
  const [answer, permissions] = await Promise.all([kit.api(req).get(`/permission-profiles/${key}`), catalogue(kit, req)]);
  if (!answer.ok) return refused(kit, req, res, answer);
  const p = answer.body;
  kit.render(
    req,
    res,
    'console/permission-profiles/edit',
    { title: kit.ctx(res).t('permission-profiles:edit.title', { name: p.name }), profile: p, permissions, form: form ?? { values: { key: p.key, name: p.name, description: p.description ?? '', permissions: p.permissions }, errors: {} } },
    status,
  );
}

export const permissionProfilesPage: ConsolePage = {
  nav: { path: '/permission-profiles', label: 'nav.profiles', order: 70, tenantWideOnly: true },
  routes(router, kit) {
    router.get(
      '/permission-profiles',
      kit.wrap((req, res) => listPage(kit, req, res)),
    );

    router.post(
      '/permission-profiles',
      kit.wrap(async (req, res) => {
        const v = values(req);
        const answer = await kit.api(req).send('POST', '/permission-profiles', { key: v.key.trim(), name: v.name, description: v.description.trim() || null, permissions: v.permissions });
        if (!answer.ok) {
          if (![400, 409].includes(answer.status)) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, FIELDS);
          return listPage(kit, req, res, { values: v, errors: p.fields, message: p.message }, answer.status);
        }
        kit.done(res, '/permission-profiles', 'permission-profiles.created');
      }),
    );

    router.get(
      '/permission-profiles/:key',
      kit.wrap(async (req, res) => {
        const key = segment(req.params.key);
        return key ? editPage(kit, req, res, key) : refused(kit, req, res, NOT_FOUND);
      }),
    );

    router.post(
      '/permission-profiles/:key',
      kit.wrap(async (req, res) => {
        const key = segment(req.params.key);
        if (!key) return refused(kit, req, res, NOT_FOUND);
        const v = { ...values(req), key };
        const change: Record<string, unknown> = { name: v.name, description: v.description.trim() || null };
        // The built-in profile's form has no permission boxes: it grants every permission.
        if (formValue(req, 'builtIn') !== 'yes') change.permissions = v.permissions;
        const answer = await kit.api(req).send('PATCH', `/permission-profiles/${key}`, change);
        if (!answer.ok) {
          if (answer.status !== 400) return refused(kit, req, res, answer);
          const p = fieldProblems(kit, res, answer, FIELDS);
          return editPage(kit, req, res, key, { values: v, errors: p.fields, message: p.message }, 400);
        }
        kit.done(res, '/permission-profiles', 'permission-profiles.changed');
      }),
    );

    router.post(
      '/permission-profiles/:key/default',
      kit.wrap(async (req, res) => {
        const key = segment(req.params.key);
        if (!key) return refused(kit, req, res, NOT_FOUND);
        const answer = await kit.api(req).send('PATCH', `/permission-profiles/${key}`, { default: true });
        if (!answer.ok) return refused(kit, req, res, answer);
        kit.done(res, '/permission-profiles', 'permission-profiles.madeDefault');
      }),
    );

    confirmedDelete(router, kit, {
      page: '/permission-profiles',
      api: '/permission-profiles',
      ns: 'permission-profiles',
      words: async (api, found) => {
        const fallback = await defaultName(api, '/permission-profiles', 'permissionProfiles');
        return typeof fallback === 'string' ? { name: found.name, fallback } : fallback;
      },
    });
  },
};

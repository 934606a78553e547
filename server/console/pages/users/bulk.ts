// POST /console/users/bulk: Delete or Force logout for the rows ticked in the list. The first post
// shows the server-rendered confirmation saying how many people it affects; the confirmed post
// calls the admin API's all-or-nothing endpoint (POST /users/delete, POST /users/force-logout), so
// a refusal — the primary admin among them, someone a sub-account admin does not fully
// administer — changes nobody and is shown as the API's message.
import type { Router } from 'express';
import { formValue, formValues, type ConsoleKit } from '../../kit';
import { renderList } from './list';

const ACTIONS = {
  delete: { path: '/users/delete', title: 'users:bulk.deleteTitle', message: 'users:bulk.delete', confirm: 'users:bulk.deleteConfirm', notice: 'users.bulkDeleted', danger: true },
  forceLogout: { path: '/users/force-logout', title: 'users:bulk.forceLogoutTitle', message: 'users:bulk.forceLogout', confirm: 'users:bulk.forceLogoutConfirm', notice: 'users.bulkSignedOut', danger: false },
} as const;

/** Where to go back to: the list with its filters, never another site. */
const backTo = (v: string) => (/^\/console\/users(\?[^\s]*)?$/.test(v) ? v : '/console/users');

export function bulkRoutes(router: Router, kit: ConsoleKit): void {
  router.post(
    '/users/bulk',
    kit.wrap(async (req, res) => {
      const t = kit.ctx(res).t;
      const name = formValue(req, 'action');
      const action = name === 'delete' || name === 'forceLogout' ? ACTIONS[name] : undefined;
      const ids = [...new Set(formValues(req, 'ids'))];
      const back = backTo(formValue(req, 'back'));
      if (!action) return kit.render(req, res, 'console/error', { title: t('errors.badRequestTitle'), message: t('errors.badRequest') }, 400);
      if (!ids.length) return renderList(kit, req, res, { error: t('users:list.noneSelected'), status: 400 });
      if (formValue(req, 'confirm') !== 'yes') {
        return kit.confirm(req, res, {
          title: t(action.title),
          message: t(action.message, { count: ids.length }),
          action: '/console/users/bulk',
          fields: { action: name, ids, back },
          confirmLabel: t(action.confirm),
          cancelHref: back,
          danger: action.danger,
        });
      }
      const answer = await kit.api(req).send<{ deleted?: number; users?: number }>('POST', action.path, { ids });
      if (!answer.ok) {
        return kit.render(req, res, 'console/error', { title: t(action.title), message: t('users:errors.refused', { detail: kit.problems(res, answer).message }) }, answer.status);
      }
      kit.done(res, back.slice('/console'.length), action.notice, answer.body.deleted ?? answer.body.users ?? ids.length);
    }),
  );
}

// /console/users/{id}: one person — their details (PATCH /users/{id}) and what an admin does about
// their way in: Activate, which is also "resend the activation email" (POST /users/{id}/activation:
// the admin API's one way to activate a pending person is to send them a new link, the older one
// stops working — so one button, not two that do the same), Reset password
// (POST /users/{id}/reset-password), a temporary password (POST /users/{id}/password), Force
// logout, Deactivate/Reactivate (PATCH active) and Delete. Every destructive step is a
// server-rendered confirmation first. The primary admin's page offers none of the actions that
// would touch them, and says why; a forged post still goes to the admin API, which refuses it
// (test/api/console-users.test.ts), and the refusal is shown.
import type { Request, Response, Router } from 'express';
import { formValue, type ConsoleKit } from '../../kit';
import { Choices, loadChoices } from './choices';
import { formOfUser, nameOf, patchBody, typedForm, UserForm, UserRow } from './form';

interface PersonView {
  form?: UserForm;
  errors?: Record<string, string>;
  message?: string;
  passwordError?: string;
  status?: number;
}

type Action = {
  /** Confirmation texts (users:confirm.<key>Title / users:confirm.<key>); none: no confirmation. */
  confirm?: string;
  danger?: boolean;
  call(kit: ConsoleKit, req: Request, id: string): ReturnType<ReturnType<ConsoleKit['api']>['send']>;
  notice: string;
  /** Where to go after it is done (default: the person's page). */
  after?: string;
};

const ACTIONS: Record<string, Action> = {
  activate: { confirm: 'activate', call: (kit, req, id) => kit.api(req).send('POST', `/users/${id}/activation`), notice: 'users.activationSent' },
  'reset-password': { confirm: 'reset', call: (kit, req, id) => kit.api(req).send('POST', `/users/${id}/reset-password`), notice: 'users.passwordReset' },
  'force-logout': { confirm: 'forceLogout', call: (kit, req, id) => kit.api(req).send('POST', `/users/${id}/force-logout`), notice: 'users.signedOut' },
  deactivate: { confirm: 'deactivate', danger: true, call: (kit, req, id) => kit.api(req).send('PATCH', `/users/${id}`, { active: false }), notice: 'users.deactivated' },
  reactivate: { call: (kit, req, id) => kit.api(req).send('PATCH', `/users/${id}`, { active: true }), notice: 'users.reactivated' },
  delete: { confirm: 'delete', danger: true, call: (kit, req, id) => kit.api(req).send('DELETE', `/users/${id}`), notice: 'users.deleted', after: '/users' },
};

export function personRoutes(router: Router, kit: ConsoleKit): void {
  const ID = /^[0-9a-fA-F-]{36}$/;

  /** The person as the admin API shows them to this admin; undefined after rendering the not-found page. */
  const load = async (req: Request, res: Response): Promise<UserRow | undefined> => {
    const id = String(req.params.id);
    const answer = ID.test(id) ? await kit.api(req).get<UserRow>(`/users/${id}`) : undefined;
    if (answer?.ok) return answer.body;
    const t = kit.ctx(res).t;
    kit.render(req, res, 'console/error', { title: t('users:errors.notFoundTitle'), message: t('users:errors.notFound') }, answer && answer.status !== 404 ? answer.status : 404);
    return undefined;
  };

  const render = (req: Request, res: Response, user: UserRow, choices: Choices, v: PersonView = {}) => {
    const c = kit.ctx(res);
    const self = user.id === c.userId;
    kit.render(
      req,
      res,
      'console/users/person',
      {
        title: nameOf(user),
        user,
        choices,
        form: v.form ?? formOfUser(user, choices.defaultProfile),
        errors: v.errors ?? {},
        message: v.message,
        passwordError: v.passwordError,
        // Only the primary admin changes the primary admin (docs/admin-api.md, "Users").
        editable: !user.primaryAdmin || self,
        actions: !user.primaryAdmin,
        self,
      },
      v.status ?? 200,
    );
  };

  router.get(
    '/users/:id',
    kit.wrap(async (req, res) => {
      const user = await load(req, res);
      if (user) render(req, res, user, await loadChoices(kit.api(req), kit.ctx(res).tenantWide));
    }),
  );

  router.post(
    '/users/:id',
    kit.wrap(async (req, res) => {
      const user = await load(req, res);
      if (!user) return;
      const api = kit.api(req);
      const choices = await loadChoices(api, kit.ctx(res).tenantWide);
      const form = typedForm(req);
      const body = patchBody(form, user, { mayChoosePriceList: choices.priceLists !== undefined, servicesShown: formValue(req, 'servicesShown') === '1', defaultProfile: choices.defaultProfile });
      if (!Object.keys(body).length) return kit.done(res, `/users/${user.id}`, 'users.saved');
      const answer = await api.send('PATCH', `/users/${user.id}`, body);
      if (answer.ok) return kit.done(res, `/users/${user.id}`, 'users.saved');
      const p = kit.problems(res, answer);
      const t = kit.ctx(res).t;
      render(req, res, user, choices, { form, errors: p.fields, message: Object.keys(p.fields).length ? undefined : t('users:errors.refused', { detail: p.message }), status: answer.status });
    }),
  );

  router.post(
    '/users/:id/password',
    kit.wrap(async (req, res) => {
      const user = await load(req, res);
      if (!user) return;
      const api = kit.api(req);
      const answer = await api.send('POST', `/users/${user.id}/password`, { password: formValue(req, 'password') });
      if (answer.ok) return kit.done(res, `/users/${user.id}`, 'users.passwordSet');
      const p = kit.problems(res, answer);
      const t = kit.ctx(res).t;
      // The password typed is never shown again, only what is wrong with it.
      render(req, res, user, await loadChoices(api, kit.ctx(res).tenantWide), {
        passwordError: p.fields.password,
        message: p.fields.password ? undefined : t('users:errors.refused', { detail: p.message }),
        status: answer.status,
      });
    }),
  );

  router.post(
    '/users/:id/:action',
    kit.wrap(async (req, res) => {
      const action = Object.prototype.hasOwnProperty.call(ACTIONS, String(req.params.action)) ? ACTIONS[String(req.params.action)] : undefined;
      const t = kit.ctx(res).t;
      if (!action) return kit.render(req, res, 'console/error', { title: t('errors.notFoundTitle'), message: t('errors.notFound') }, 404);
      const user = await load(req, res);
      if (!user) return;
      if (action.confirm && formValue(req, 'confirm') !== 'yes') {
        const vars = { name: nameOf(user), email: user.email ?? '' };
        return kit.confirm(req, res, {
          title: t(`users:confirm.${action.confirm}Title`, vars),
          message: t(`users:confirm.${action.confirm}`, vars),
          action: `/console/users/${user.id}/${req.params.action}`,
          fields: {},
          confirmLabel: t('actions.confirm'),
          cancelHref: `/console/users/${user.id}`,
          danger: action.danger,
        });
      }
      const answer = await action.call(kit, req, user.id);
      if (answer.ok) return kit.done(res, action.after ?? `/users/${user.id}`, action.notice);
      const api = kit.api(req);
      // A refusal that names its rule by a code (the resend's `ssoRequired` on email) reads in the
      // reader's language (locales/<lang>/api-errors.json); otherwise the API's words.
      const problems = kit.problems(res, answer);
      const detail = Object.values(problems.fields)[0] ?? problems.message;
      render(req, res, user, await loadChoices(api, kit.ctx(res).tenantWide), { message: t('users:errors.refused', { detail }), status: answer.status });
    }),
  );
}

// /console/users/new: a new person, by the admin API's POST /users. Either the activation email
// (pending until they choose a password) or "activate now": the admin API generates a password,
// answers it once and emails it to the credentials address chosen here (prefilled with the
// tenant's, GET /settings). The password is shown on the answer to this POST only — never kept
// in the session, never in a URL, never cached (Cache-Control: no-store) — with a Close button.
import type { Router } from 'express';
import type { ConsoleKit } from '../../kit';
import { loadChoices } from './choices';
import { createBody, nameOf, typedForm, UserForm, UserRow } from './form';

export function newUserRoutes(router: Router, kit: ConsoleKit): void {
  router.get(
    '/users/new',
    kit.wrap(async (req, res) => {
      const c = kit.ctx(res);
      const choices = await loadChoices(kit.api(req), c.tenantWide);
      const form: UserForm = {
        givenName: '',
        familyName: '',
        email: '',
        role: 'user',
        notificationEmail: '',
        externalContact: '',
        priceList: '',
        permissionProfile: choices.defaultProfile ?? '',
        services: [],
        activation: 'email',
        credentialsEmail: choices.credentialsEmail ?? '',
      };
      kit.render(req, res, 'console/users/new', { title: c.t('users:newUser'), form, choices, errors: {} });
    }),
  );

  router.post(
    '/users/new',
    kit.wrap(async (req, res) => {
      const c = kit.ctx(res);
      const api = kit.api(req);
      const form = typedForm(req);
      const choices = await loadChoices(api, c.tenantWide);
      const answer = await api.send<{ user: UserRow; activation: string; password?: string }>('POST', '/users', createBody(form, choices.priceLists !== undefined));
      if (!answer.ok) {
        const p = kit.problems(res, answer);
        // Errors without a field of the form (a refusal of the rules) are shown above it.
        const shown = new Set(['givenName', 'familyName', 'email', 'role', 'notificationEmail', 'externalContact', 'priceList', 'services', 'permissionProfile', 'activation', 'credentialsEmail']);
        const message = Object.keys(p.fields).some((f) => shown.has(f)) && !Object.keys(p.fields).some((f) => !shown.has(f)) ? undefined : p.message;
        return kit.render(req, res, 'console/users/new', { title: c.t('users:newUser'), form, choices, errors: p.fields, message }, answer.status);
      }
      const { user, activation, password } = answer.body;
      if (activation !== 'now') return kit.done(res, `/users/${user.id}`, 'users.created');
      res.set('Cache-Control', 'no-store');
      kit.render(req, res, 'console/users/credentials', {
        title: c.t('users:new.credentialsTitle', { name: nameOf(user) }),
        user,
        password,
        sentTo: user.credentialsEmail ?? choices.credentialsEmail,
      });
    }),
  );
}

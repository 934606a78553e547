// Admin API for people's access (issue 5): force logout of one or many, an admin password reset
// (temporary password by email), and resending the activation email.
//   POST /api/v1/users/force-logout        {"ids": [...]}  all or nothing
//   POST /api/v1/users/{id}/force-logout
//   POST /api/v1/users/{id}/reset-password
//   POST /api/v1/users/{id}/activation
// Who may act on whom is decided by accounts/admin-access.ts: a credential bound to a sub-account
// sees only people of its subtree (others are 404) and changes only those it fully administers
// (403); nobody but the primary admin themselves can force out or reset the primary admin.
import type { Router } from 'express';
import { notFound } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { object } from '../openapi/schema-kit';
import { isUuid } from '../scim/members';
import type { AdminAccess } from '../accounts/admin-access';
import { AdminRequest, handle } from './admin-router';

export const MAX_FORCE_LOGOUT_IDS = 1000;

export function accessRoutes(deps: { admin: AdminAccess }) {
  const { admin } = deps;
  const userId = (req: AdminRequest) => {
    const id = String(req.params.id).toLowerCase();
    if (!isUuid(id)) throw notFound(`User ${req.params.id} not found`);
    return id;
  };

  return (router: Router, api: ApiSection) => {
    api.describe(router, {
      method: 'post',
      path: '/users/force-logout',
      summary: 'End the sessions and sign-in links of several users',
      body: { schema: object({ ids: { type: 'array', minItems: 1, maxItems: MAX_FORCE_LOGOUT_IDS, description: 'user ids; one that is no user of this tenant is 404' } }, ['ids']), examples: [{ ids: ['0190b0a0-0000-7000-8000-000000000001'] }] },
      responses: { 200: { description: '{users, …} what was ended', schema: { type: 'object' } }, 404: { description: 'One of them is no user of this tenant' } },
    });
    router.post(
      '/users/force-logout',
      handle(async (req, res) => {
        const body = req.body as { ids: unknown[] };
        const bad = body.ids.filter((i: unknown) => typeof i !== 'string' || !isUuid(i));
        if (bad.length) throw notFound(`No such user: ${bad.map(String).join(', ')}`);
        const out = await admin.forceLogout(req.tenantId!, body.ids as string[], req.scope!.actor);
        res.json({ users: new Set((body.ids as string[]).map((i) => i.toLowerCase())).size, ...out });
      }),
    );
    api.describe(router, { method: 'post', path: '/users/:id/force-logout', summary: "End a user's sessions and sign-in links", responses: { 200: { description: '{users: 1, …}', schema: { type: 'object' } }, 404: { description: 'No such user' } } });
    router.post(
      '/users/:id/force-logout',
      handle(async (req, res) => {
        const out = await admin.forceLogout(req.tenantId!, [userId(req)], req.scope!.actor);
        res.json({ users: 1, ...out });
      }),
    );
    api.describe(router, { method: 'post', path: '/users/:id/reset-password', summary: 'Email a user a password reset link', responses: { 202: { description: 'Queued', schema: { type: 'object' } }, 404: { description: 'No such user' }, 409: { description: 'Not possible for this user now' } } });
    router.post(
      '/users/:id/reset-password',
      handle(async (req, res) => {
        res.status(202).json(await admin.resetPassword(req.tenantId!, userId(req), req.scope!.actor));
      }),
    );
    api.describe(router, { method: 'post', path: '/users/:id/activation', summary: 'Send a pending user their activation email again', responses: { 202: { description: 'Queued', schema: { type: 'object' } }, 404: { description: 'No such user' }, 409: { description: 'Already active, or SSO is required for the email domain (errors: email, ssoRequired)' } } });
    router.post(
      '/users/:id/activation',
      handle(async (req, res) => {
        res.status(202).json(await admin.resendActivation(req.tenantId!, userId(req), req.scope!.actor));
      }),
    );
  };
}

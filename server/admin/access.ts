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
import { invalidValue, notFound } from '../errors';
import { isObject } from '../scim/normalize';
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

  return (router: Router) => {
    router.post(
      '/users/force-logout',
      handle(async (req, res) => {
        const body = req.body;
        if (!isObject(body) || !Array.isArray(body.ids) || body.ids.length === 0) throw invalidValue('The body must be {"ids": ["<user id>", ...]} with at least one id');
        if (body.ids.length > MAX_FORCE_LOGOUT_IDS) throw invalidValue(`At most ${MAX_FORCE_LOGOUT_IDS} ids per request`);
        const bad = body.ids.filter((i: unknown) => typeof i !== 'string' || !isUuid(i));
        if (bad.length) throw notFound(`No such user: ${bad.map(String).join(', ')}`);
        const out = await admin.forceLogout(req.tenantId!, body.ids as string[], req.scope!.actor);
        res.json({ users: new Set((body.ids as string[]).map((i) => i.toLowerCase())).size, ...out });
      }),
    );
    router.post(
      '/users/:id/force-logout',
      handle(async (req, res) => {
        const out = await admin.forceLogout(req.tenantId!, [userId(req)], req.scope!.actor);
        res.json({ users: 1, ...out });
      }),
    );
    router.post(
      '/users/:id/reset-password',
      handle(async (req, res) => {
        res.status(202).json(await admin.resetPassword(req.tenantId!, userId(req), req.scope!.actor));
      }),
    );
    router.post(
      '/users/:id/activation',
      handle(async (req, res) => {
        res.status(202).json(await admin.resendActivation(req.tenantId!, userId(req), req.scope!.actor));
      }),
    );
  };
}

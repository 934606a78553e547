// Admin API for people's access (issue 5): force logout of one or many, an admin password reset
// (temporary password by email), and resending the activation email.
//   POST /api/v1/users/force-logout        {"ids": [...]}  all or nothing
//   POST /api/v1/users/{id}/force-logout
//   POST /api/v1/users/{id}/reset-password
//   POST /api/v1/users/{id}/activation
// A credential bound to a sub-account acts only on people of its subtree (others are 404, like
// everywhere). Nobody but the primary admin themselves can force out or reset the primary admin.
import type { Router } from 'express';
import { invalidValue, notFound } from '../errors';
import { isObject } from '../scim/normalize';
import { isUuid } from '../scim/members';
import type { AccessService, Visibility } from '../front-door/access';
import { visibleIds } from '../store/visibility';
import { AdminRequest, handle } from './admin-router';

export const MAX_FORCE_LOGOUT_IDS = 1000;

export function accessRoutes(deps: { access: AccessService }) {
  const { access } = deps;
  /** Only what the credential may see: the subtree of a sub-account-bound token. */
  const visibility = (req: AdminRequest): Visibility | undefined => {
    const sub = req.scope!.actor.subAccountId;
    return sub ? (trx, ids) => visibleIds(trx, 'User', req.tenantId!, sub, ids) : undefined;
  };
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
        const out = await access.forceLogout(req.tenantId!, body.ids as string[], req.scope!.actor, visibility(req));
        res.json({ users: new Set((body.ids as string[]).map((i) => i.toLowerCase())).size, ...out });
      }),
    );
    router.post(
      '/users/:id/force-logout',
      handle(async (req, res) => {
        const out = await access.forceLogout(req.tenantId!, [userId(req)], req.scope!.actor, visibility(req));
        res.json({ users: 1, ...out });
      }),
    );
    router.post(
      '/users/:id/reset-password',
      handle(async (req, res) => {
        res.status(202).json(await access.adminResetPassword(req.tenantId!, userId(req), req.scope!.actor, visibility(req)));
      }),
    );
    router.post(
      '/users/:id/activation',
      handle(async (req, res) => {
        res.status(202).json(await access.resendActivation(req.tenantId!, userId(req), req.scope!.actor, visibility(req)));
      }),
    );
  };
}

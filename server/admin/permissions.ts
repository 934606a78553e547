// GET /api/v1/users/{id}/permissions (issue 4, "Licence management"): for each company the user
// manages (is a member of) — and every company for the tenant's primary admin — whether it may
// manage that company's licences: always for the primary admin, otherwise when the user's
// canManageLicences is on. A user of another tenant is 404.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { notFound } from '../errors';
import { isUuid } from '../scim/members';
import { inTenant } from '../store/scope';
import { defaultPriceList } from '../store/price-lists-repo';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';

const USER_EXT = 'urn:provisio:params:scim:schemas:extension:2.0:User';

export function permissionsRoutes(deps: { knex: Knex }) {
  return (router: Router) => {
    tenantWideOnly(router, '/users/:id/price-list');
    // Which price list applies to a user (issue 4, "Price lists"): its own, else the default.
    router.get(
      '/users/:id/price-list',
      handle(async (req, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw notFound(`User ${req.params.id} not found`);
        const out = await inTenant(deps.knex, req.tenantId!, async (trx) => {
          const user = (await trx.raw(`SELECT data -> ? ->> 'priceList' AS list FROM users WHERE tenant_id = ? AND id = ?`, [USER_EXT, req.tenantId!, id])).rows[0];
          if (!user) return undefined;
          if (user.list) {
            const own = (await trx.raw('SELECT id, name FROM price_lists WHERE tenant_id = ? AND id = ?', [req.tenantId!, user.list])).rows[0];
            if (own) return { priceList: { id: own.id, name: own.name }, source: 'assigned' };
          }
          const d = await defaultPriceList(trx, req.tenantId!);
          return { priceList: d ?? null, source: 'default' };
        });
        if (!out) throw notFound(`User ${req.params.id} not found`);
        res.json(out);
      }),
    );
    tenantWideOnly(router, '/users/:id/permissions');
    router.get(
      '/users/:id/permissions',
      handle(async (req, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw notFound(`User ${req.params.id} not found`);
        const out = await inTenant(deps.knex, req.tenantId!, async (trx) => {
          const user = (
            await trx.raw(`SELECT is_primary_admin, (data -> ? ->> 'canManageLicences')::boolean AS can FROM users WHERE tenant_id = ? AND id = ?`, [
              USER_EXT,
              req.tenantId!,
              id,
            ])
          ).rows[0];
          if (!user) return undefined;
          const companies = user.is_primary_admin
            ? (await trx.raw(`SELECT id, display_name FROM groups WHERE tenant_id = ? AND kind = 'company' ORDER BY display_name_ci, id`, [req.tenantId!])).rows
            : (
                await trx.raw(
                  `SELECT g.id, g.display_name FROM groups g JOIN group_user_members m ON m.tenant_id = g.tenant_id AND m.group_id = g.id
                    WHERE g.tenant_id = ? AND g.kind = 'company' AND m.user_id = ? ORDER BY g.display_name_ci, g.id`,
                  [req.tenantId!, id],
                )
              ).rows;
          const manage = user.is_primary_admin === true || user.can === true;
          return { companies: companies.map((c: { id: string; display_name: string }) => ({ id: c.id, displayName: c.display_name, manageLicences: manage })) };
        });
        if (!out) throw notFound(`User ${req.params.id} not found`);
        res.json(out);
      }),
    );
  };
}

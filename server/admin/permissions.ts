// GET /api/v1/users/{id}/permissions (issue 4, "Licence management"): for each company the user
// manages (is a member of) — and every company for the tenant's primary admin — whether it may
// manage that company's licences: always for the primary admin, otherwise when the user's
// canManageLicences is on. A user of another tenant is 404.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { notFound } from '../errors';
import { isUuid } from '../scim/members';
import { inTenant } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import { defaultPriceList } from '../store/price-lists-repo';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';


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
          const own = await tenancy.assignedPriceList(trx, req.tenantId!, id);
          if (own === undefined) return undefined;
          if (own) return { priceList: { id: own.id, name: own.name }, source: 'assigned' };
          return { priceList: (await defaultPriceList(trx, req.tenantId!)) ?? null, source: 'default' };
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
        const out = await inTenant(deps.knex, req.tenantId!, (trx) => tenancy.licenceFacts(trx, req.tenantId!, id));
        if (!out) throw notFound(`User ${req.params.id} not found`);
        const manage = out.primaryAdmin || out.canManage;
        res.json({ companies: out.companies.map((c) => ({ ...c, manageLicences: manage })) });
      }),
    );
  };
}

// What applies to a user (issues 4 and 10): GET /api/v1/users/{id}/permissions — role, permission
// profile, services, price list, and for each company the user manages (is a member of; every
// company for the tenant's primary admin) whether it may manage that company's licences (always
// for the primary admin, otherwise when the user's canManageLicences is on) — and
// GET /api/v1/users/{id}/price-list. A user of another tenant is 404.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { notFound } from '../errors';
import { isUuid } from '../scim/members';
import { inTenant } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import { defaultPriceList } from '../store/price-lists-repo';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';
import type { Assignments } from '../accounts/assignments';
import { activeSubAccountsOf } from '../store/authority-repo';

export function permissionsRoutes(deps: { knex: Knex; assignments: Pick<Assignments, 'read'> }) {
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
    // Everything the partner's product asks about a person, in one call and one transaction
    // (issue 10): role, permission profile and what it grants, services, the price list that
    // applies, licence rights per managed company, and the limits of the sub-accounts they work in.
    router.get(
      '/users/:id/permissions',
      handle(async (req, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw notFound(`User ${req.params.id} not found`);
        const tenantId = req.tenantId!;
        const out = await inTenant(deps.knex, tenantId, async (trx) => {
          const licences = await tenancy.licenceFacts(trx, tenantId, id);
          if (!licences) return undefined;
          const assigned = await deps.assignments.read(trx, tenantId, id);
          const own = await tenancy.assignedPriceList(trx, tenantId, id);
          const priceList = own ? { id: own.id, name: own.name, source: 'assigned' } : { ...((await defaultPriceList(trx, tenantId)) ?? { id: null, name: null }), source: 'default' };
          const subAccounts = await activeSubAccountsOf(trx, tenantId, id);
          const manage = licences.primaryAdmin || licences.canManage;
          return {
            role: licences.role,
            profile: assigned?.profile ?? null,
            services: assigned?.services ?? [],
            priceList,
            companies: licences.companies.map((c) => ({ ...c, manageLicences: manage })),
            subAccounts: subAccounts.map((s) => ({ id: s.id, name: s.name, dailyLimit: s.dailyLimit, monthlyLimit: s.monthlyLimit })),
          };
        });
        if (!out) throw notFound(`User ${req.params.id} not found`);
        res.json(out);
      }),
    );
  };
}

// What applies to a user (issues 4 and 10): GET /api/v1/users/{id}/permissions — role, permission
// profile, services, price list, and for each company the user manages (is a member of; every
// company for the tenant's primary admin) whether it may manage that company's licences (always
// for the primary admin, otherwise when the user's canManageLicences is on) — and
// GET /api/v1/users/{id}/price-list. A user of another tenant is 404.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { notFound } from '../errors';
import { isUuid } from '../scim/members';
import { inTenant, TenantReads } from '../store/scope';
import { priceListOf } from '../store/tenancy-repo';
import { permissionFactsOf } from '../store/permissions-repo';
import type { ApiSection } from '../openapi/describe';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';
import type { Assignments } from '../accounts/assignments';

export function permissionsRoutes(deps: { knex: Knex; reads: TenantReads; assignments: Pick<Assignments, 'present'> }) {
  return (router: Router, api: ApiSection) => {
    tenantWideOnly(router, '/users/:id/price-list');
    api.describe(router, {
      method: 'get',
      path: '/users/:id/price-list',
      summary: 'Which price list applies to a user (their own, else the default)',
      responses: { 200: { description: '{priceList, source}', schema: { type: 'object', properties: { priceList: { type: ['object', 'null'] }, source: { type: 'string' } } } }, 404: { description: 'No such user' } },
    });
    // Which price list applies to a user (issue 4, "Price lists"): its own, else the default.
    router.get(
      '/users/:id/price-list',
      handle(async (req, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw notFound(`User ${req.params.id} not found`);
        const out = await inTenant(deps.knex, req.tenantId!, async (trx) => {
          const applied = await priceListOf(trx, req.tenantId!, id);
          return applied && { priceList: applied.id === null ? null : { id: applied.id, name: applied.name }, source: applied.source };
        });
        if (!out) throw notFound(`User ${req.params.id} not found`);
        res.json(out);
      }),
    );
    tenantWideOnly(router, '/users/:id/permissions');
    // Everything the partner's product asks about a person, in one call and one transaction
    // (issue 10): role, permission profile and what it grants, services, the price list that
    // applies, licence rights per managed company, and the limits of the sub-accounts they work in.
    api.describe(router, {
      method: 'get',
      path: '/users/:id/permissions',
      summary: "Everything a product asks about a person, in one call: role, profile and permissions, services, price list, companies, sub-accounts' limits",
      responses: { 200: { description: 'The facts', schema: { type: 'object', properties: { role: { type: 'string' }, companies: { type: 'array' }, subAccounts: { type: 'array' } } } }, 404: { description: 'No such user' } },
    });
    router.get(
      '/users/:id/permissions',
      handle(async (req, res) => {
        const id = String(req.params.id).toLowerCase();
        if (!isUuid(id)) throw notFound(`User ${req.params.id} not found`);
        const tenantId = req.tenantId!;
        // One statement (store/permissions-repo.ts): this is the product's hot path. Read without a
        // transaction, with the tenant setting in the statement's own pipeline (store/scope.ts
        // TenantReads): one round trip instead of three (docs/performance.md, issue 12).
        const facts = await deps.reads.run(tenantId, (db) => permissionFactsOf(db, tenantId, id));
        const manage = facts && (facts.primaryAdmin || facts.canManageLicences);
        const out = facts && {
          role: facts.role,
          ...deps.assignments.present(facts.assignments),
          priceList: facts.priceList,
          companies: facts.companies.map((c) => ({ ...c, manageLicences: manage })),
          subAccounts: facts.subAccounts.map((s) => ({ id: s.id, name: s.name, dailyLimit: s.dailyLimit, monthlyLimit: s.monthlyLimit })),
        };
        if (!out) throw notFound(`User ${req.params.id} not found`);
        res.json(out);
      }),
    );
  };
}

// Admin API: tenant settings — /api/v1/settings. Today: groupKindRules, the rules that give
// IdP-pushed groups a kind from their displayName (issue 4, "Kinds of groups"). Tenant-wide
// credentials only: a token bound to a sub-account gets 403.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { forbidden, invalidValue, methodNotAllowed } from '../errors';
import { isObject } from '../scim/normalize';
import { parseKindRules } from '../resources/group-rules';
import type { AuditRepo } from '../store/audit-repo';
import { inTenant } from '../store/scope';
import * as tenancy from '../store/tenancy-repo';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';

const SETTINGS = ['groupKindRules'];

export function settingsRoutes(deps: { knex: Knex; audit: AuditRepo; clock: () => Date }) {
  return (router: Router) => {
    tenantWideOnly(router, '/settings');
    router.all('/settings', (req, _res, next) => next(['GET', 'PATCH'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH'])));
    router.get(
      '/settings',
      handle(async (req, res) => {
        const settings = await inTenant(deps.knex, req.tenantId!, (trx) => tenancy.settings(trx, req.tenantId!));
        res.json({ groupKindRules: settings.groupKindRules ?? [] });
      }),
    );
    router.patch(
      '/settings',
      handle(async (req, res) => {
        if (req.scope!.actor.subAccountId) throw forbidden('Tenant settings can only be changed by tenant-wide credentials or tenant admins');
        const body = req.body;
        if (!isObject(body)) throw invalidValue('The body must be a JSON object');
        const unknown = Object.keys(body).filter((k) => !SETTINGS.includes(k));
        if (unknown.length) throw invalidValue(`Unknown setting ${unknown.map((k) => `"${k}"`).join(', ')}; accepted: ${SETTINGS.join(', ')}`);
        const patch: Record<string, unknown> = {};
        if ('groupKindRules' in body) patch.groupKindRules = parseKindRules(body.groupKindRules);
        const at = deps.clock();
        const settings = await inTenant(deps.knex, req.tenantId!, async (trx) => {
          const merged = await tenancy.mergeSettings(trx, req.tenantId!, patch);
          const actor = req.scope!.actor;
          await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action: 'settings.update', targetType: 'Tenant', targetId: req.tenantId!, changes: { set: patch } });
          return merged;
        });
        res.json({ groupKindRules: settings.groupKindRules ?? [] });
      }),
    );
  };
}

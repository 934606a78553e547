// GET /api/v1/audit: the tenant's audit log, newest first, filtered by actor, target, action and
// time (issue 4, "Audit"). Paged by `before` (the id of the last entry of the previous page).
import type { Knex } from 'knex';
import type { Router } from 'express';
import { fieldRule, invalidValue } from '../errors';
import { isUuid } from '../scim/members';
import { AuditRepo } from '../store/audit-repo';
import { inTenant } from '../store/scope';
import type { ApiSection } from '../openapi/describe';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';

const MAX = 1000;

function one(q: Record<string, unknown>, name: string): string | undefined {
  const v = q[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw invalidValue(`${name} must be given once`);
  return v;
}

function date(q: Record<string, unknown>, name: string): Date | undefined {
  const v = one(q, name);
  if (v === undefined) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw fieldRule(name, 'format', 'must be a date-time such as 2026-01-31T00:00:00Z');
  return d;
}

export function auditRoutes(deps: { knex: Knex; audit: AuditRepo }) {
  return (router: Router, api: ApiSection) => {
    tenantWideOnly(router, '/audit');
    api.describe(router, {
      method: 'get',
      path: '/audit',
      summary: 'Read the audit log, newest first',
      query: {
        actor: { description: 'entries of this actor id' },
        target: { description: 'entries about this target id' },
        action: { description: 'entries of this action (user.patch, token.create, …)' },
        from: { description: 'at or after this date-time', schema: { type: 'string', format: 'date-time' } },
        to: { description: 'before this date-time', schema: { type: 'string', format: 'date-time' } },
        before: { description: 'the `next` of the previous page (an entry id)' },
        limit: { description: `entries per page, 1 to ${MAX} (default 100)`, schema: { type: 'integer', minimum: 1, maximum: MAX } },
      },
      responses: { 200: { description: 'The entries, and `next` when there may be more', schema: { type: 'object', properties: { entries: { type: 'array', items: { type: 'object' } }, next: { type: 'string' } } } }, 400: { description: 'A query parameter is not right' } },
    });
    router.get(
      '/audit',
      handle(async (req, res) => {
        const q = req.query as Record<string, unknown>;
        const limitRaw = one(q, 'limit');
        const limit = limitRaw === undefined ? 100 : Number(limitRaw);
        if (!Number.isInteger(limit) || limit < 1 || limit > MAX) throw fieldRule('limit', 'range', `must be between 1 and ${MAX}`);
        const before = one(q, 'before');
        if (before !== undefined && !isUuid(before)) throw fieldRule('before', 'format', 'must be the id of an audit entry');
        const scope = req.scope!;
        const rows = await inTenant(deps.knex, scope.tenantId, (trx) =>
          deps.audit.list(trx, scope.tenantId, {
            actor: one(q, 'actor'),
            target: one(q, 'target'),
            action: one(q, 'action'),
            from: date(q, 'from'),
            to: date(q, 'to'),
            before,
            limit,
          }),
        );
        res.json({
          entries: rows.map((r) => ({
            id: r.id,
            at: new Date(r.at).toISOString(),
            actor: { type: r.actor_type, id: r.actor_id },
            action: r.action,
            target: { type: r.target_type, id: r.target_id },
            changes: r.changes,
          })),
          ...(rows.length === limit ? { next: rows[rows.length - 1].id } : {}),
        });
      }),
    );
  };
}

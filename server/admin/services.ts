// Admin API: the tenant's services (issue 10, "Services (assigned to people)") — /api/v1/services.
//
//   POST   /services        {"key", "name", "description"?}  → 201 the service
//   GET    /services                                          → {"services": [...]}, by name
//   GET    /services/{key}                                    → the service
//   PATCH  /services/{key}  {"name"?, "description"?}         → 200 the service (`key` is immutable)
//   DELETE /services/{key}                                    → 204, taken away from every user
//
// A user holds a service as a SCIM `entitlements` element {"type": "service", "value": <key>}
// (resources/assignments.ts). Keys are slugs (ASSIGNMENT_KEY), unique per tenant ignoring case,
// kept lower-cased. Writes need a tenant-wide credential (a bound one gets 403 before anything is
// read); reads are open to bound credentials too, which assign services to their people. Deleting
// a service removes it from every user who has it, in the same transaction, each user changed
// audited. Another tenant's service is 404 like a missing one. test/api/services.test.ts
import type { Knex } from 'knex';
import type { Response, Router } from 'express';
import { methodNotAllowed, notFound, onField, uniqueness } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { DATE, KEY, list, object, patch, S, shape, SN } from '../openapi/schema-kit';
import { isUniqueViolation } from '../store/db';
import { ServiceRow, ServicesRepo } from '../store/services-repo';
import { inTenant } from '../store/scope';
import { SERVICES_ATTRIBUTE } from '../resources/assignments';
import type { ChangeRecorder } from '../resources/service';
import { AdminRequest, handle, requireTenantWide } from './admin-router';
import { Audit, auditIn, auditUsers, checkSameKey, DESCRIPTION_SCHEMA, descriptionOf, NAME_SCHEMA, nameOf } from './catalogue-fields';

export interface ServiceRoutesDeps {
  knex: Knex;
  services: ServicesRepo;
  clock: () => Date;
  audit?: Audit;
  /** SCIM events for the users a deleted service is taken from (events/producer.ts). */
  events?: Pick<ChangeRecorder, 'rewritten'>;
}

export function serviceJson(row: ServiceRow) {
  return {
    key: row.key,
    name: row.name,
    description: row.description ?? null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const notFoundService = (key: string) => notFound(`Service ${key} not found`);
const duplicate = (key: string) => onField(uniqueness(`A service with the key "${key}" already exists in this tenant`), 'key');
const SERVICE = shape({ key: S, name: S, description: SN, createdAt: DATE, updatedAt: DATE });

export function serviceRoutes(deps: ServiceRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, services, clock } = deps;
  const target = (key: string) => ({ type: 'Service', id: key });

  return (router, api) => {
    router.all('/services', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/services/:key', (req, _res, next) =>
      next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])),
    );

    api.describe(router, { method: 'get', path: '/services', summary: 'List the services, by name', responses: { 200: { description: 'The services', schema: list('services', SERVICE) } } });
    router.get(
      '/services',
      handle(async (req, res) => {
        const rows = await inTenant(knex, req.tenantId!, (trx) => services.list(trx, req.tenantId!));
        res.json({ services: rows.map(serviceJson) });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/services',
      summary: 'Create a service (tenant-wide credentials)',
      body: { schema: object({ key: KEY, name: NAME_SCHEMA, description: DESCRIPTION_SCHEMA }, ['key', 'name']), examples: [{ key: 'm365', name: 'Microsoft 365', description: 'Mail and Office' }] },
      responses: { 201: { description: 'Created', schema: SERVICE }, 409: { description: 'The key is taken (errors: key, taken)' } },
    });
    router.post(
      '/services',
      handle(async (req, res: Response) => {
        requireTenantWide(req);
        const body = req.body as Record<string, unknown>;
        const key = String(body.key).toLowerCase();
        const name = nameOf(body.name);
        const description = body.description === undefined ? null : descriptionOf(body.description);
        const at = clock();
        let row: ServiceRow;
        try {
          row = await inTenant(knex, req.tenantId!, async (trx) => {
            if (await services.get(trx, req.tenantId!, key)) throw duplicate(key);
            const created = await services.insert(trx, req.tenantId!, { key, name, description, at });
            await auditIn(deps.audit, trx, req, at, 'service.create', target(key), { set: { key, name, description } });
            return created;
          });
        } catch (err) {
          // A concurrent create of the same key.
          if (isUniqueViolation(err)) throw duplicate(key);
          throw err;
        }
        res.status(201).setHeader('Location', `/api/v1/services/${row.key}`);
        res.json(serviceJson(row));
      }),
    );

    api.describe(router, { method: 'get', path: '/services/:key', summary: 'Read a service', responses: { 200: { description: 'The service', schema: SERVICE }, 404: { description: 'No such service' } } });
    router.get(
      '/services/:key',
      handle(async (req, res) => {
        const key = String(req.params.key);
        const row = await inTenant(knex, req.tenantId!, (trx) => services.get(trx, req.tenantId!, key));
        if (!row) throw notFoundService(key);
        res.json(serviceJson(row));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/services/:key',
      summary: 'Rename a service or change its description (its key is immutable)',
      body: {
        schema: patch({ key: { ...KEY, description: 'the same key (any case) changes nothing; another is refused (code immutable)' }, name: NAME_SCHEMA, description: DESCRIPTION_SCHEMA }),
        examples: [{ name: 'Microsoft 365 E3' }, { description: null }],
      },
      responses: { 200: { description: 'The service', schema: SERVICE }, 404: { description: 'No such service' } },
    });
    router.patch(
      '/services/:key',
      handle(async (req: AdminRequest, res) => {
        requireTenantWide(req);
        const key = String(req.params.key).toLowerCase();
        const body = req.body as Record<string, unknown>;
        const set: { name?: string; description?: string | null } = {};
        if (body.name !== undefined) set.name = nameOf(body.name);
        if (body.description !== undefined) set.description = descriptionOf(body.description);
        const at = clock();
        const row = await inTenant(knex, req.tenantId!, async (trx) => {
          const existing = await services.get(trx, req.tenantId!, key, 'UPDATE');
          if (!existing) throw notFoundService(key);
          checkSameKey(body.key, existing.key, 'service');
          const changed = Object.fromEntries(Object.entries(set).filter(([k, v]) => (existing as unknown as Record<string, unknown>)[k] !== v));
          if (!Object.keys(changed).length) return existing;
          const updated = await services.update(trx, req.tenantId!, existing.key, changed, at);
          await auditIn(deps.audit, trx, req, at, 'service.update', target(existing.key), { set: changed });
          return updated!;
        });
        res.json(serviceJson(row));
      }),
    );

    api.describe(router, { method: 'delete', path: '/services/:key', summary: 'Delete a service (taken away from every user)', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such service' } } });
    router.delete(
      '/services/:key',
      handle(async (req, res) => {
        requireTenantWide(req);
        const key = String(req.params.key).toLowerCase();
        const at = clock();
        await inTenant(knex, req.tenantId!, async (trx) => {
          // FOR UPDATE: waits for user writes that validated this service (existingServiceKeys),
          // whose users the statement below then sees.
          const existing = await services.get(trx, req.tenantId!, key, 'UPDATE');
          if (!existing) throw notFoundService(key);
          const changed = await services.detachUsers(trx, req.tenantId!, existing.key, at);
          await services.delete(trx, req.tenantId!, existing.key);
          await auditUsers(
            deps.audit,
            trx,
            req,
            at,
            changed.map((u) => ({
              id: u.id,
              changes: { ...(u.entitlements ? { set: { [SERVICES_ATTRIBUTE]: u.entitlements } } : { removed: [SERVICES_ATTRIBUTE] }), cause: { serviceDeleted: existing.key } },
            })),
          );
          await deps.events?.rewritten(trx, req.tenantId!, 'User', changed.map((u) => u.id), [SERVICES_ATTRIBUTE]);
          await auditIn(deps.audit, trx, req, at, 'service.delete', target(existing.key), { name: existing.name, usersChanged: changed.length });
        });
        res.status(204).end();
      }),
    );
  };
}

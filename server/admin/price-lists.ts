// Admin API: price lists (issue 4, "Price lists") — /api/v1/price-lists.
//
//   POST   /price-lists        {"name"}                     → 201 {id, name, default: false, createdAt}
//   GET    /price-lists                                     → {"priceLists": [...]} (exactly one default)
//   GET    /price-lists/{id}                                → the list
//   PATCH  /price-lists/{id}   {"name"} and/or {"default": true} → 200 the list
//   DELETE /price-lists/{id}                                → 204
//
// Names are trimmed, 1–200 characters, unique per tenant case-insensitively (409 uniqueness).
// Changing the default is one transaction: the previous default loses the flag as the new one
// gains it. The default cannot be deleted (409: make another list the default first), nor unset
// with {"default": false} (same reason). Deleting a list that users have moves them to the
// default, in the same transaction (store/price-lists-repo.ts, detachUsers). Another tenant's
// list is 404 like a missing one. Every change is recorded in the audit log with its actor.
import type { Knex } from 'knex';
import type { Response, Router } from 'express';
import { v7 as uuidv7 } from 'uuid';
import { conflict, methodNotAllowed, notFound, onField, uniqueness } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { DATE, list, object, patch, bool, S, shape, text } from '../openapi/schema-kit';
import { isUniqueViolation } from '../store/db';
import type { AuditRepo } from '../store/audit-repo';
import { PriceListRow, PriceListsRepo } from '../store/price-lists-repo';
import { inTenant, Tx } from '../store/scope';
import type { ChangeRecorder } from '../resources/service';
import { AdminRequest, handle, tenantWideOnly } from './admin-router';

export interface PriceListRoutesDeps {
  knex: Knex;
  priceLists: PriceListsRepo;
  clock: () => Date;
  /** Where changes are recorded, in the transaction that makes them. */
  audit?: Pick<AuditRepo, 'record'>;
  /** SCIM events for the users a deleted list is taken from (events/producer.ts). */
  events?: Pick<ChangeRecorder, 'rewritten'>;
}

import { PROVISIO_USER_URN as USER_EXTENSION } from '../scim/urns';
export const MAX_PRICE_LIST_NAME = 200;

export function priceListJson(row: PriceListRow) {
  return { id: row.id, name: row.name, default: row.is_default === true, createdAt: new Date(row.created_at).toISOString() };
}

/** The body schemas (openapi/describe.ts): validated before the handlers run. */
const NAME = text(MAX_PRICE_LIST_NAME, 'trimmed; unique in the tenant, ignoring case');
const PRICE_LIST = shape({ id: S, name: S, default: { type: 'boolean' }, createdAt: DATE });

const notFoundList = (id: string) => notFound(`Price list ${id} not found`);
const duplicate = (name: string) => onField(uniqueness(`A price list named "${name}" already exists in this tenant`), 'name');

export function priceListRoutes(deps: PriceListRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, priceLists, clock } = deps;

  const audit = async (trx: Tx, req: AdminRequest, at: Date, action: string, targetType: string, targetId: string, changes: Record<string, unknown>) => {
    if (!deps.audit) return;
    const actor = req.scope!.actor;
    await deps.audit.record(trx, req.tenantId!, at, { actorType: actor.type, actorId: actor.id, action, targetType, targetId, changes });
  };

  /** Runs a write; a unique violation on the name (a concurrent create or rename) is 409. */
  const write = async <T>(req: AdminRequest, name: string | undefined, fn: (trx: Tx) => Promise<T>): Promise<T> => {
    try {
      return await inTenant(knex, req.tenantId!, fn);
    } catch (err) {
      if (name !== undefined && isUniqueViolation(err)) throw duplicate(name);
      throw err;
    }
  };

  return (router, api) => {
    tenantWideOnly(router, '/price-lists');
    router.all('/price-lists', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/price-lists/:id', (req, _res, next) =>
      next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])),
    );

    api.describe(router, { method: 'get', path: '/price-lists', summary: 'List the price lists (exactly one is the default)', responses: { 200: { description: 'The price lists', schema: list('priceLists', PRICE_LIST) } } });
    router.get(
      '/price-lists',
      handle(async (req, res) => {
        const rows = await inTenant(knex, req.tenantId!, (trx) => priceLists.list(trx, req.tenantId!));
        res.json({ priceLists: rows.map(priceListJson) });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/price-lists',
      summary: 'Create a price list',
      body: { schema: object({ name: NAME }, ['name']), examples: [{ name: 'Partners 2027' }] },
      responses: { 201: { description: 'Created', schema: PRICE_LIST }, 409: { description: 'A list of this name exists (errors: name, taken)' } },
    });
    router.post(
      '/price-lists',
      handle(async (req, res: Response) => {
        const name = (req.body.name as string).trim();
        const at = clock();
        const row = await write(req, name, async (trx) => {
          if (await priceLists.nameTaken(trx, req.tenantId!, name)) throw duplicate(name);
          const created = await priceLists.insert(trx, req.tenantId!, { id: uuidv7(), name, at });
          await audit(trx, req, at, 'priceList.create', 'PriceList', created.id, { set: { name } });
          return created;
        });
        res.status(201).setHeader('Location', `/api/v1/price-lists/${row.id}`);
        res.json(priceListJson(row));
      }),
    );

    api.describe(router, { method: 'get', path: '/price-lists/:id', summary: 'Read a price list', responses: { 200: { description: 'The list', schema: PRICE_LIST }, 404: { description: 'No such list in this tenant' } } });
    router.get(
      '/price-lists/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const row = await inTenant(knex, req.tenantId!, (trx) => priceLists.get(trx, req.tenantId!, id));
        if (!row) throw notFoundList(id);
        res.json(priceListJson(row));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/price-lists/:id',
      summary: 'Rename a price list and/or make it the default',
      body: { schema: patch({ name: NAME, default: bool('true makes this list the default (false on the default is 409)') }), examples: [{ name: 'Partners 2028' }, { default: true }] },
      responses: { 200: { description: 'The list', schema: PRICE_LIST }, 404: { description: 'No such list' }, 409: { description: 'The name is taken, or the default cannot be unset' } },
    });
    router.patch(
      '/price-lists/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const body = req.body as { name?: string; default?: boolean };
        const name = body.name?.trim();
        const at = clock();
        const row = await write(req, name, async (trx) => {
          await priceLists.lockAll(trx, req.tenantId!, 'NO KEY UPDATE');
          const existing = await priceLists.get(trx, req.tenantId!, id);
          if (!existing) throw notFoundList(id);
          if (body.default === false && existing.is_default) {
            throw conflict('A tenant always has one default price list: make another list the default instead of unsetting this one');
          }
          const set: Record<string, unknown> = {};
          if (name !== undefined && name !== existing.name) {
            if (await priceLists.nameTaken(trx, req.tenantId!, name, existing.id)) throw duplicate(name);
            await priceLists.rename(trx, req.tenantId!, existing.id, name, at);
            set.name = name;
          }
          if (body.default === true && !existing.is_default) {
            await priceLists.makeDefault(trx, req.tenantId!, existing.id, at);
            set.default = true;
          }
          if (Object.keys(set).length) await audit(trx, req, at, 'priceList.update', 'PriceList', existing.id, { set });
          return (await priceLists.get(trx, req.tenantId!, existing.id))!;
        });
        res.json(priceListJson(row));
      }),
    );

    api.describe(router, { method: 'delete', path: '/price-lists/:id', summary: 'Delete a price list (its users move to the default)', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such list' }, 409: { description: 'The default list cannot be deleted' } } });
    router.delete(
      '/price-lists/:id',
      handle(async (req, res) => {
        const id = String(req.params.id);
        const at = clock();
        await inTenant(knex, req.tenantId!, async (trx) => {
          // FOR UPDATE: also waits for user writes that validated this list (priceListExists).
          await priceLists.lockAll(trx, req.tenantId!, 'UPDATE');
          const existing = await priceLists.get(trx, req.tenantId!, id);
          if (!existing) throw notFoundList(id);
          if (existing.is_default) {
            throw conflict(`"${existing.name}" is the default price list and cannot be deleted: make another list the default first`);
          }
          const moved = await priceLists.detachUsers(trx, req.tenantId!, existing.id, at);
          await priceLists.delete(trx, req.tenantId!, existing.id);
          for (const userId of moved) {
            await audit(trx, req, at, 'user.patch', 'User', userId, { removed: [`${USER_EXTENSION}:priceList`], cause: { priceListDeleted: existing.id } });
          }
          await deps.events?.rewritten(trx, req.tenantId!, 'User', moved, [USER_EXTENSION]);
          await audit(trx, req, at, 'priceList.delete', 'PriceList', existing.id, { name: existing.name, usersMoved: moved.length });
        });
        res.status(204).end();
      }),
    );
  };
}

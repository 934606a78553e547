// Admin API: sub-accounts — groups of kind `subAccount`, the accounts a tenant delegates
// (docs/tenancy.md "Sub-accounts"; docs/admin-api.md "Sub-accounts"); the console's Departments
// page calls these. Every write goes through the same resource service as SCIM /Groups, so every
// rule holds: tenancy (another tenant's is 404), the authority rule (only the account above
// switches one on or off, deletes it or changes its admins and limits; a bound credential changes
// only people it fully administers), the primary admin, admins being members, audit.
//
//   GET    /sub-accounts?q&count&cursor                   → {"subAccounts": [row…], totalResults?, nextCursor?} (no members)
//   POST   /sub-accounts      {name, dailyLimit?, monthlyLimit?, parent?, members?, admins?} → 201 row
//   GET    /sub-accounts/{id}                             → row with members
//   PATCH  /sub-accounts/{id} {name?, dailyLimit?, monthlyLimit?, active?, members?, admins?} → row
//   DELETE /sub-accounts/{id}                             → 204
//
// `members` is the whole list of the sub-account's user members (groups inside it are kept);
// `admins` the whole list of its admins. A PATCH is one SCIM PATCH: all of it or nothing.
import type { Knex } from 'knex';
import type { Router } from 'express';
import { methodNotAllowed, onField, ScimError } from '../errors';
import { subAccountsActorMayChange } from '../resources/authority';
import type { ResourceKind } from '../resources/kinds';
import type { ResourceService, Scope } from '../resources/service';
import type { ApiSection } from '../openapi/describe';
import { bool, DATEN, list, object, patch, S, shape, SN, uuid } from '../openapi/schema-kit';
import { isObject, JsonObject } from '../scim/normalize';
import { PROVISIO_GROUP_URN } from '../scim/urns';
import { inTenant } from '../store/scope';
import { handle } from './admin-router';
import { extOf, filterString, GROUP_NAME, GroupFields, IDS, LIMIT, groupId, kindFilter, listPage, MAX_LISTED, memberOps, membersOf, newGroup, patchOf, purgeAt, requireKind, setOp } from './group-fields';

export interface SubAccountRoutesDeps {
  knex: Knex;
  service: ResourceService;
  groups: ResourceKind;
}

const FIELDS = ['name', 'dailyLimit', 'monthlyLimit', 'parent', 'members', 'admins', 'active'];
const CREATE_FIELDS = FIELDS.filter((f) => f !== 'active');
const PATCH_FIELDS = FIELDS.filter((f) => f !== 'parent');

const ids = (v: unknown): string[] => (Array.isArray(v) ? v.filter(isObject).map((a) => String(a.value)) : []);

const SUB_ACCOUNT = shape({ id: S, name: S, parent: SN, active: { type: 'boolean' }, deactivatedAt: DATEN, purgeAt: DATEN, dailyLimit: { type: ['integer', 'null'] }, monthlyLimit: { type: ['integer', 'null'] }, admins: { type: 'array', items: S }, mayChangeState: { type: 'boolean' } });

/** A sub-account's SCIM representation → the row the API answers. */
export function subAccountRow(r: JsonObject, withMembers: boolean, mayChangeState: boolean): JsonObject {
  const ext = extOf(r);
  const deactivatedAt = typeof ext.deactivatedAt === 'string' ? ext.deactivatedAt : null;
  const id = String(r.id);
  return {
    id,
    name: r.displayName as string,
    parent: typeof ext.parent === 'string' ? ext.parent : null,
    active: ext.active !== false,
    deactivatedAt,
    purgeAt: deactivatedAt ? purgeAt(deactivatedAt) : null,
    dailyLimit: typeof ext.dailyLimit === 'number' ? ext.dailyLimit : null,
    monthlyLimit: typeof ext.monthlyLimit === 'number' ? ext.monthlyLimit : null,
    admins: ids(ext.admins),
    ...(withMembers ? { members: membersOf(r).users, subGroups: membersOf(r).groups } : {}),
    mayChangeState,
  };
}

/** Pins a service error to the field it is about (the service speaks SCIM attribute names). */
function asFieldError(err: unknown): unknown {
  if (!(err instanceof ScimError) || err.fields || err.status >= 500) return err;
  const m = err.message;
  const field = /admins/.test(m) ? 'admins' : /parent/.test(m) ? 'parent' : /dailyLimit/.test(m) ? 'dailyLimit' : /monthlyLimit/.test(m) ? 'monthlyLimit' : /displayName|group with these values/.test(m) ? 'name' : /members/.test(m) ? 'members' : undefined;
  return field && err.status === 400 ? onField(err, field) : err;
}

export function subAccountRoutes(deps: SubAccountRoutesDeps) {
  const { service, groups } = deps;
  /** The rows, each saying whether the caller may switch it on or off (resources/authority.ts). */
  const rows = async (scope: Scope, resources: JsonObject[], withMembers: boolean) => {
    const may = await inTenant(deps.knex, scope.tenantId, (trx) => subAccountsActorMayChange(trx, scope.tenantId, scope.actor, resources.map((r) => String(r.id))));
    return resources.map((r) => subAccountRow(r, withMembers, may.has(String(r.id))));
  };
  const one = async (scope: Scope, r: JsonObject) => (await rows(scope, [r], true))[0];
  const read = async (scope: Scope, id: string, withMembers: boolean) =>
    requireKind((await service.get(scope, groups, id, withMembers ? {} : { excludedAttributes: ['members'] })).resource, 'subAccount', id);

  return (router: Router, api: ApiSection) => {
    router.all('/sub-accounts', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/sub-accounts/:id', (req, _res, next) => next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])));

    api.describe(router, { method: 'get', path: '/sub-accounts', summary: 'List the sub-accounts the credential sees (without members)', responses: { 200: { description: 'The sub-accounts', schema: list('subAccounts', SUB_ACCOUNT) } } });
    router.get(
      '/sub-accounts',
      handle(async (req, res) => {
        const { paged, q } = listPage(req.query);
        const filter = q ? `${kindFilter('subAccount')} and displayName co ${filterString(q)}` : kindFilter('subAccount');
        const base = { filter, sortBy: 'displayName', sortOrder: 'ascending' as const, excludedAttributes: ['members'] };
        const list = await service.query(req.scope!, groups, paged ? { ...base, ...paged } : { ...base, startIndex: 1, count: MAX_LISTED });
        res.json({
          subAccounts: await rows(req.scope!, list.Resources as JsonObject[], false),
          ...(list.totalResults !== undefined ? { totalResults: list.totalResults } : {}),
          ...(list.nextCursor ? { nextCursor: list.nextCursor } : {}),
        });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/sub-accounts',
      summary: 'Create a sub-account',
      body: {
        schema: object({ name: GROUP_NAME, dailyLimit: LIMIT, monthlyLimit: LIMIT, parent: { ...uuid('the id of a sub-account'), type: ['string', 'null'] }, members: IDS, admins: IDS }, ['name']),
        examples: [{ name: 'Sales', dailyLimit: 50, monthlyLimit: null }],
      },
      responses: { 201: { description: 'Created', schema: SUB_ACCOUNT }, 409: { description: 'A group of this name exists' } },
    });
    router.post(
      '/sub-accounts',
      handle(async (req, res) => {
        const f = new GroupFields(req.body, CREATE_FIELDS, 'sub-account');
        const name = f.name('name', true);
        const ext: JsonObject = {};
        for (const l of ['dailyLimit', 'monthlyLimit']) {
          const v = f.limit(l);
          if (typeof v === 'number') ext[l] = v;
        }
        const parent = f.body.parent;
        if (typeof parent === 'string') ext.parent = parent.toLowerCase();
        // A bound credential's new sub-account sits under its own by default, so it is the account
        // above the new one (it may switch it on and off) — not merely a group nested in it.
        else if (req.scope!.actor.subAccountId) ext.parent = req.scope!.actor.subAccountId;
        const admins = f.ids('admins') ?? [];
        const members = [...new Set([...(f.ids('members') ?? []), ...admins])];
        if (admins.length) ext.admins = admins.map((value) => ({ value }));
        f.done();
        let created;
        try {
          created = await service.create(req.scope!, groups, newGroup('subAccount', name!, ext, members), {});
        } catch (err) {
          throw asFieldError(err);
        }
        const row = await one(req.scope!, created.resource);
        res.status(201).setHeader('Location', `/api/v1/sub-accounts/${row.id}`);
        res.json(row);
      }),
    );

    api.describe(router, { method: 'get', path: '/sub-accounts/:id', summary: 'Read a sub-account, with its members', responses: { 200: { description: 'The sub-account', schema: SUB_ACCOUNT }, 404: { description: 'No such sub-account' } } });
    router.get(
      '/sub-accounts/:id',
      handle(async (req, res) => {
        res.json(await one(req.scope!, await read(req.scope!, groupId(req.params.id, 'subAccount'), true)));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/sub-accounts/:id',
      summary: 'Change a sub-account: one SCIM PATCH, all of it or nothing',
      body: {
        schema: patch({ name: GROUP_NAME, dailyLimit: LIMIT, monthlyLimit: LIMIT, active: bool('false switches it off (purged after months)'), members: IDS, admins: IDS }),
        examples: [{ active: false }, { name: 'Sales EMEA', monthlyLimit: 1000 }],
      },
      responses: { 200: { description: 'The sub-account', schema: SUB_ACCOUNT }, 404: { description: 'No such sub-account' } },
    });
    router.patch(
      '/sub-accounts/:id',
      handle(async (req, res) => {
        const id = groupId(req.params.id, 'subAccount');
        const f = new GroupFields(req.body, PATCH_FIELDS, 'sub-account');
        const name = f.name('name', false);
        const daily = f.limit('dailyLimit');
        const monthly = f.limit('monthlyLimit');
        const active = f.flag('active');
        const members = f.ids('members');
        const admins = f.ids('admins');
        f.done();
        const current = await read(req.scope!, id, members !== undefined);
        const ops: JsonObject[] = [];
        if (name !== undefined) ops.push(setOp('displayName', name));
        if (daily !== undefined) ops.push(setOp(`${PROVISIO_GROUP_URN}:dailyLimit`, daily));
        if (monthly !== undefined) ops.push(setOp(`${PROVISIO_GROUP_URN}:monthlyLimit`, monthly));
        if (active !== undefined) ops.push(setOp(`${PROVISIO_GROUP_URN}:active`, active));
        // Members first, so new admins are members when the service checks admins ⊆ members.
        if (members !== undefined) ops.push(...memberOps(membersOf(current).users.map((u) => u.id), [...new Set([...members, ...(admins ?? [])])]));
        if (admins !== undefined) ops.push(admins.length ? setOp(`${PROVISIO_GROUP_URN}:admins`, admins.map((value) => ({ value }))) : setOp(`${PROVISIO_GROUP_URN}:admins`, null));
        if (ops.length) {
          try {
            await service.patch(req.scope!, groups, id, patchOf(ops), undefined, undefined);
          } catch (err) {
            throw asFieldError(err);
          }
        }
        res.json(await one(req.scope!, await read(req.scope!, id, true)));
      }),
    );

    api.describe(router, { method: 'delete', path: '/sub-accounts/:id', summary: 'Delete a sub-account', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such sub-account' } } });
    router.delete(
      '/sub-accounts/:id',
      handle(async (req, res) => {
        const id = groupId(req.params.id, 'subAccount');
        await read(req.scope!, id, false);
        await service.delete(req.scope!, groups, id, undefined);
        res.status(204).end();
      }),
    );
  };
}

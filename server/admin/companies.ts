// Admin API: companies — groups of kind `company`, the customer companies a tenant manages
// (docs/tenancy.md "Companies and licences"; docs/admin-api.md "Companies"); the console's
// Companies page calls these. Writes go through the resource service like SCIM /Groups: tenancy,
// a bound credential's subtree, audit. Who manages a company is set per person
// (PUT /managers/{id}/companies, managers.ts).
//
//   GET    /companies                 → {"companies": [{id, name, managers}]}
//   POST   /companies      {name}     → 201 {id, name, managers: 0}
//   PATCH  /companies/{id} {name}     → the company
//   DELETE /companies/{id}            → 204 (its people stay; they only stop managing it)
import type { Router } from 'express';
import { methodNotAllowed, onField, ScimError } from '../errors';
import type { ResourceKind } from '../resources/kinds';
import type { ResourceService, Scope } from '../resources/service';
import type { JsonObject } from '../scim/normalize';
import type { ApiSection } from '../openapi/describe';
import { list, object, S, shape } from '../openapi/schema-kit';
import { handle } from './admin-router';
import { GROUP_NAME, GroupFields, groupId, kindFilter, MAX_LISTED, membersOf, newGroup, patchOf, requireKind, setOp } from './group-fields';

export interface CompanyRoutesDeps {
  service: ResourceService;
  groups: ResourceKind;
}

const COMPANY = shape({ id: S, name: S, managers: { type: 'integer' } });

export const companyRow = (r: JsonObject) => ({ id: String(r.id), name: r.displayName as string, managers: membersOf(r).users.length });

const nameError = (err: unknown) => (err instanceof ScimError && err.status < 500 && !err.fields && err.status !== 403 && err.status !== 404 ? onField(err, 'name') : err);

/** Every company the scope sees, by name (with members: the managers are counted). */
export async function listCompanies(service: ResourceService, groups: ResourceKind, scope: Scope): Promise<JsonObject[]> {
  const list = await service.query(scope, groups, { filter: kindFilter('company'), sortBy: 'displayName', sortOrder: 'ascending', startIndex: 1, count: MAX_LISTED });
  return list.Resources as JsonObject[];
}

export function companyRoutes(deps: CompanyRoutesDeps) {
  const { service, groups } = deps;
  const read = async (scope: Scope, id: string) => requireKind((await service.get(scope, groups, id, {})).resource, 'company', id);

  return (router: Router, api: ApiSection) => {
    router.all('/companies', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/companies/:id', (req, _res, next) => next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])));

    api.describe(router, { method: 'get', path: '/companies', summary: 'List the companies, by name', responses: { 200: { description: 'The companies', schema: list('companies', COMPANY) } } });
    router.get(
      '/companies',
      handle(async (req, res) => {
        res.json({ companies: (await listCompanies(service, groups, req.scope!)).map(companyRow) });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/companies',
      summary: 'Create a company',
      body: { schema: object({ name: GROUP_NAME }, ['name']), examples: [{ name: 'Acme Ltd' }] },
      responses: { 201: { description: 'Created', schema: COMPANY }, 409: { description: 'A group of this name exists (errors: name, taken)' } },
    });
    router.post(
      '/companies',
      handle(async (req, res) => {
        const f = new GroupFields(req.body, ['name'], 'company');
        const name = f.name('name', true);
        f.done();
        let created;
        try {
          created = await service.create(req.scope!, groups, newGroup('company', name!), {});
        } catch (err) {
          throw nameError(err);
        }
        const row = companyRow(created.resource);
        res.status(201).setHeader('Location', `/api/v1/companies/${row.id}`);
        res.json(row);
      }),
    );

    api.describe(router, { method: 'get', path: '/companies/:id', summary: 'Read a company', responses: { 200: { description: 'The company', schema: COMPANY }, 404: { description: 'No such company' } } });
    router.get(
      '/companies/:id',
      handle(async (req, res) => {
        res.json(companyRow(await read(req.scope!, groupId(req.params.id, 'company'))));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/companies/:id',
      summary: 'Rename a company',
      body: { schema: object({ name: GROUP_NAME }, ['name']), examples: [{ name: 'Acme Group' }] },
      responses: { 200: { description: 'The company', schema: COMPANY }, 404: { description: 'No such company' }, 409: { description: 'The name is taken' } },
    });
    router.patch(
      '/companies/:id',
      handle(async (req, res) => {
        const id = groupId(req.params.id, 'company');
        const f = new GroupFields(req.body, ['name'], 'company');
        const name = f.name('name', true);
        f.done();
        await read(req.scope!, id);
        try {
          await service.patch(req.scope!, groups, id, patchOf([setOp('displayName', name!)]), undefined, undefined);
        } catch (err) {
          throw nameError(err);
        }
        res.json(companyRow(await read(req.scope!, id)));
      }),
    );

    api.describe(router, { method: 'delete', path: '/companies/:id', summary: 'Delete a company (its people stay)', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such company' } } });
    router.delete(
      '/companies/:id',
      handle(async (req, res) => {
        const id = groupId(req.params.id, 'company');
        await read(req.scope!, id);
        await service.delete(req.scope!, groups, id, undefined);
        res.status(204).end();
      }),
    );
  };
}

// Admin API: delegated managers — the console's "Sub-accounts" page (issue 11). In today's partner
// portals a "sub-account" is a sign-in for someone who manages some of the partner's customer
// companies, and may or may not manage their licences. In Provisio's model (docs/tenancy.md) that
// is a person (role `user`) who is a member of those companies (groups of kind `company`), with
// `canManageLicences` on or off. Who counts as a delegated manager: a person whose licence rights
// were decided — `canManageLicences` present, true or false. Everyone created here has it, and
// choosing someone's companies here decides it (off) when it was not yet. An admin of the account
// is not listed: they administer everything. Writes go through the resource service (SCIM rules:
// tenancy, the authority rule, the primary admin, audit; only tenant-wide credentials change
// `canManageLicences`).
//
//   GET   /managers?q&count&cursor                → {managers: [row…], primaryAdmin: {id, name, email}, totalResults?, nextCursor?}
//   POST  /managers      {email, name, canManageLicences?} → 201 row; a temporary password is
//                                                    emailed to `email` (never answered)
//   GET   /managers/{id}                          → row (any person the credential sees; a page's
//                                                    confirmation reads one without listing them all)
//   PATCH /managers/{id} {name?, canManageLicences?, companies?: [company ids]} → row
//   PUT   /managers/{id}/companies {companies: [company ids]} → row
//
// Reset password and delete are the users API's (POST /users/{id}/reset-password, DELETE /users/{id}).
// Setting the companies (PUT, or PATCH's `companies`) is one transaction (ResourceService.
// changeGroupsOf): every company's membership and the licence decision commit together or not at
// all, with one audit entry on the person (`user.companies`, naming the companies added and
// removed) — a failure half-way (a company deleted meanwhile, a refusal of the authority rule)
// leaves nothing half-changed. PUT answers 404 naming every id that is not a company the
// credential sees (unknown and another tenant's read the same) before anything changes; PATCH
// keeps its 400 on field `companies` for the same case (it was published so).
// test/api/manager-companies.test.ts
import type { Router } from 'express';
import type { PasswordPolicy } from '../accounts/passwords';
import { invalidFields, methodNotAllowed, notFound, onField, ScimError } from '../errors';
import type { ResourceKind } from '../resources/kinds';
import type { ResourceService, Scope } from '../resources/service';
import { parseAddress } from '../scim/email-address';
import { isUuid } from '../scim/members';
import { isObject, JsonObject } from '../scim/normalize';
import { PROVISIO_USER_URN, USER_URN } from '../scim/urns';
import { handle } from './admin-router';
import type { ApiSection } from '../openapi/describe';
import { bool, list, object, patch, S, shape, text } from '../openapi/schema-kit';
import { EMAIL_ADDRESS_FORMAT } from '../openapi/validator';
import { listCompanies } from './companies';
import { filterString, GROUP_NAME, GroupFields, IDS, listPage, MAX_LISTED, membersOf, patchOf, setOp } from './group-fields';
import { fieldOfError, stateOf } from './user-fields';

export interface ManagerRoutesDeps {
  service: ResourceService;
  users: ResourceKind;
  groups: ResourceKind;
  passwords: PasswordPolicy;
}

const LICENCES = `${PROVISIO_USER_URN}:canManageLicences`;
const PROJECTION = { excludedAttributes: ['groups'] };

const extOf = (r: JsonObject): JsonObject => (isObject(r[PROVISIO_USER_URN]) ? (r[PROVISIO_USER_URN] as JsonObject) : {});
const isAdmin = (r: JsonObject) => Array.isArray(r.roles) && r.roles.some((x) => isObject(x) && x.value === 'admin');
const nameOf = (r: JsonObject) => (typeof r.displayName === 'string' && r.displayName) || (isObject(r.name) && typeof r.name.formatted === 'string' && r.name.formatted) || String(r.userName);

const MANAGER = shape({ id: S, name: S, email: S, state: S, canManageLicences: { type: 'boolean' }, companies: { type: 'array', items: shape({ id: S, name: S }) } });

function managerRow(r: JsonObject, companies: JsonObject[]): JsonObject {
  const id = String(r.id);
  return {
    id,
    name: nameOf(r),
    email: String(r.userName),
    state: stateOf(r),
    canManageLicences: extOf(r).canManageLicences === true,
    companies: companies.filter((c) => membersOf(c).users.some((u) => u.id === id)).map((c) => ({ id: String(c.id), name: c.displayName as string })),
  };
}

function asFieldError(err: unknown): unknown {
  if (!(err instanceof ScimError) || err.fields || err.status >= 500) return err;
  if (/canManageLicences/.test(err.message)) return onField(err, 'canManageLicences');
  const field = fieldOfError(err);
  return field ? onField(err, field === 'givenName' ? 'name' : field) : err;
}

export function managerRoutes(deps: ManagerRoutesDeps) {
  const { service, users, groups } = deps;

  const readUser = async (scope: Scope, raw: unknown) => {
    const id = String(raw).toLowerCase();
    if (!isUuid(id)) throw notFound(`User ${raw} not found`);
    return (await service.get(scope, users, id, PROJECTION)).resource;
  };

  /**
   * One transaction for the person's whole set of companies (and `ops` on the person): the
   * memberships to add and remove are worked out from `companies` as read (what the credential
   * sees); re-adding or re-removing is a no-op, so a concurrent change to another company stays.
   */
  const setCompanies = (scope: Scope, person: JsonObject, companies: JsonObject[], wanted: string[], ops: JsonObject[]) => {
    const id = String(person.id);
    const want = new Set(wanted);
    const add: string[] = [];
    const remove: string[] = [];
    for (const c of companies) {
      const has = membersOf(c).users.some((u) => u.id === id);
      if (has !== want.has(String(c.id))) (has ? remove : add).push(String(c.id));
    }
    return service.changeGroupsOf(scope, users, groups, id, { add, remove, userPatch: ops, action: 'companies' });
  };

  return (router: Router, api: ApiSection) => {
    router.all('/managers', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/managers/:id', (req, _res, next) => next(['GET', 'PATCH'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH'])));
    router.all('/managers/:id/companies', (req, _res, next) => next(req.method === 'PUT' ? undefined : methodNotAllowed(['PUT'])));

    api.describe(router, {
      method: 'get',
      path: '/managers',
      summary: 'List the delegated managers, and the primary admin',
      description: 'Without count or cursor: the whole list (up to 500). With them: RFC 9865 cursor paging, as GET /users.',
      query: {
        q: { description: 'Search in the sign-in email and the name' },
        count: { description: 'Page size, 1 to 200', schema: { type: 'integer', minimum: 1, maximum: 200 } },
        cursor: { description: 'Empty for the first page, then nextCursor' },
      },
      responses: { 200: { description: 'The managers', schema: list('managers', MANAGER) } },
    });
    router.get(
      '/managers',
      handle(async (req, res) => {
        const scope = req.scope!;
        const { paged, q } = listPage(req.query);
        // Admins are left out by the filter, not after it, so a page holds `count` managers.
        const search = q ? ` and (userName co ${filterString(q)} or displayName co ${filterString(q)})` : '';
        const base = { filter: `${LICENCES} pr and not (roles.value eq "admin")${search}`, sortBy: 'userName', sortOrder: 'ascending' as const, ...PROJECTION };
        const [people, admin, companies] = await Promise.all([
          service.query(scope, users, paged ? { ...base, ...paged } : { ...base, startIndex: 1, count: MAX_LISTED }),
          service.query(scope, users, { filter: `${PROVISIO_USER_URN}:primaryAdmin eq true`, sortOrder: 'ascending', startIndex: 1, count: 1, ...PROJECTION }),
          listCompanies(service, groups, scope),
        ]);
        const primary = (admin.Resources as JsonObject[])[0];
        res.json({
          managers: (people.Resources as JsonObject[]).filter((r) => !isAdmin(r)).map((r) => managerRow(r, companies)),
          // The primary admin manages every company of the tenant, always with licence rights
          // (store/permissions-repo.ts); a bound credential may not see them (null).
          primaryAdmin: primary ? { id: String(primary.id), name: nameOf(primary), email: String(primary.userName) } : null,
          ...(people.totalResults !== undefined ? { totalResults: people.totalResults } : {}),
          ...(people.nextCursor ? { nextCursor: people.nextCursor } : {}),
        });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/managers',
      summary: 'Create a delegated manager (a temporary password is emailed to them)',
      body: {
        schema: object({ email: { ...text(254), format: EMAIL_ADDRESS_FORMAT, description: 'an email address mail can go to' }, name: GROUP_NAME, canManageLicences: bool() }, ['email', 'name']),
        examples: [{ email: 'jo@example.com', name: 'Jo Martin', canManageLicences: true }],
      },
      responses: { 201: { description: 'Created', schema: MANAGER }, 409: { description: 'Someone has this email address' } },
    });
    router.post(
      '/managers',
      handle(async (req, res) => {
        const f = new GroupFields(req.body, ['email', 'name', 'canManageLicences'], 'delegated manager');
        const name = f.name('name', true);
        // The schema's format checked it (openapi/validator.ts); this is its normal form.
        const parsed = parseAddress(f.body.email);
        const email = parsed.ok ? parsed.address : undefined;
        const licences = f.flag('canManageLicences') ?? false;
        f.done();
        const resource: JsonObject = {
          schemas: [USER_URN, PROVISIO_USER_URN],
          userName: email!,
          displayName: name!,
          name: { formatted: name! },
          emails: [{ value: email!, type: 'work', primary: true }],
          roles: [{ value: 'user' }],
          // Active now with a generated temporary password, mailed to the manager's own address
          // (accounts/write-hooks.ts); they choose their own at the first sign-in.
          [PROVISIO_USER_URN]: { canManageLicences: licences, credentialsEmail: email!, activationMode: 'generatedCredentials' },
        };
        let created;
        try {
          created = await service.create(req.scope!, users, resource, PROJECTION, { context: { generatedPassword: deps.passwords.generate(), sendActivationEmail: true } });
        } catch (err) {
          throw asFieldError(err);
        }
        res.status(201).json(managerRow(created.resource, []));
      }),
    );

    api.describe(router, {
      method: 'get',
      path: '/managers/:id',
      summary: 'Read one person as a manager row (any person the credential sees)',
      responses: { 200: { description: 'The manager', schema: MANAGER }, 404: { description: 'No such person' } },
    });
    router.get(
      '/managers/:id',
      handle(async (req, res) => {
        const scope = req.scope!;
        res.json(managerRow(await readUser(scope, req.params.id), await listCompanies(service, groups, scope)));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/managers/:id',
      summary: "Rename a delegated manager, set their licence rights or the companies they manage",
      body: { schema: patch({ name: GROUP_NAME, canManageLicences: bool(), companies: IDS }), examples: [{ canManageLicences: false }, { companies: ['0190b0a0-0000-7000-8000-000000000001'] }] },
      responses: { 200: { description: 'The manager', schema: MANAGER }, 404: { description: 'No such person' } },
    });
    router.patch(
      '/managers/:id',
      handle(async (req, res) => {
        const scope = req.scope!;
        const f = new GroupFields(req.body, ['name', 'canManageLicences', 'companies'], 'delegated manager');
        const name = f.name('name', false);
        const licences = f.flag('canManageLicences');
        const wanted = f.ids('companies');
        f.done();
        const person = await readUser(scope, req.params.id);
        const id = String(person.id);
        const companies = await listCompanies(service, groups, scope);
        if (wanted) {
          const known = new Set(companies.map((c) => String(c.id)));
          const unknown = wanted.filter((c) => !known.has(c));
          if (unknown.length) throw invalidFields([{ field: 'companies', path: '/companies', code: 'notFound', detail: `are not companies of this account: ${unknown.join(', ')}` }]);
        }
        const ops: JsonObject[] = [];
        if (name !== undefined) ops.push(setOp('displayName', name), setOp('name.formatted', name));
        if (licences !== undefined) ops.push(setOp(LICENCES, licences));
        else if (wanted && extOf(person).canManageLicences === undefined) ops.push(setOp(LICENCES, false));
        try {
          if (wanted) await setCompanies(scope, person, companies, wanted, ops);
          else if (ops.length) await service.patch(scope, users, id, patchOf(ops), undefined, undefined);
        } catch (err) {
          throw asFieldError(err);
        }
        res.json(managerRow(await readUser(scope, id), await listCompanies(service, groups, scope)));
      }),
    );

    api.describe(router, {
      method: 'put',
      path: '/managers/:id/companies',
      summary: "Set a manager's whole set of companies in one transaction",
      body: { schema: object({ companies: IDS }, ['companies']), examples: [{ companies: [] }, { companies: ['0190b0a0-0000-7000-8000-000000000001'] }] },
      responses: { 200: { description: 'The manager', schema: MANAGER }, 404: { description: 'No such person, or an id that is not a company of this account (field companies)' } },
    });
    router.put(
      '/managers/:id/companies',
      handle(async (req, res) => {
        const scope = req.scope!;
        const f = new GroupFields(req.body, ['companies'], 'delegated manager');
        if (f.body.companies === undefined) f.fail('companies', 'is required: the list of company ids this person manages ([] for none)');
        const wanted = f.ids('companies');
        f.done();
        const person = await readUser(scope, req.params.id);
        const companies = await listCompanies(service, groups, scope);
        const known = new Set(companies.map((c) => String(c.id)));
        const unknown = wanted!.filter((c) => !known.has(c));
        // Unknown ids and another tenant's read the same (no hint of existence); nothing changes.
        if (unknown.length) throw onField(notFound(`No such company: ${unknown.join(', ')}`), 'companies');
        const ops = extOf(person).canManageLicences === undefined && !isAdmin(person) ? [setOp(LICENCES, false)] : [];
        try {
          await setCompanies(scope, person, companies, wanted!, ops);
        } catch (err) {
          throw asFieldError(err);
        }
        res.json(managerRow(await readUser(scope, String(person.id)), await listCompanies(service, groups, scope)));
      }),
    );
  };
}

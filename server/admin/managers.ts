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
//   GET   /managers                               → {managers: [row…], primaryAdmin: {id, name, email}}
//   POST  /managers      {email, name, canManageLicences?} → 201 row; a temporary password is
//                                                    emailed to `email` (never answered)
//   PATCH /managers/{id} {name?, canManageLicences?, companies?: [company ids]} → row
//
// Reset password and delete are the users API's (POST /users/{id}/reset-password, DELETE /users/{id}).
// A PATCH's `companies` changes one company's membership per changed company, each its own
// transaction and audit entry (group.patch); every id is checked before any change is made.
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
import { GROUP_NAME, GroupFields, IDS, MAX_LISTED, membersOf, memberOps, patchOf, setOp } from './group-fields';
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

  return (router: Router, api: ApiSection) => {
    router.all('/managers', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/managers/:id', (req, _res, next) => next(req.method === 'PATCH' ? undefined : methodNotAllowed(['PATCH'])));

    api.describe(router, { method: 'get', path: '/managers', summary: 'List the delegated managers, and the primary admin', responses: { 200: { description: 'The managers', schema: list('managers', MANAGER) } } });
    router.get(
      '/managers',
      handle(async (req, res) => {
        const scope = req.scope!;
        const [people, admin, companies] = await Promise.all([
          service.query(scope, users, { filter: `${LICENCES} pr`, sortBy: 'userName', sortOrder: 'ascending', startIndex: 1, count: MAX_LISTED, ...PROJECTION }),
          service.query(scope, users, { filter: `${PROVISIO_USER_URN}:primaryAdmin eq true`, sortOrder: 'ascending', startIndex: 1, count: 1, ...PROJECTION }),
          listCompanies(service, groups, scope),
        ]);
        const primary = (admin.Resources as JsonObject[])[0];
        res.json({
          managers: (people.Resources as JsonObject[]).filter((r) => !isAdmin(r)).map((r) => managerRow(r, companies)),
          // The primary admin manages every company of the tenant, always with licence rights
          // (store/permissions-repo.ts); a bound credential may not see them (null).
          primaryAdmin: primary ? { id: String(primary.id), name: nameOf(primary), email: String(primary.userName) } : null,
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
          if (ops.length) await service.patch(scope, users, id, patchOf(ops), undefined, undefined);
          if (wanted) {
            const want = new Set(wanted);
            for (const c of companies) {
              const has = membersOf(c).users.some((u) => u.id === id);
              if (has === want.has(String(c.id))) continue;
              await service.patch(scope, groups, String(c.id), patchOf(memberOps(has ? [id] : [], has ? [] : [id])), undefined, undefined);
            }
          }
        } catch (err) {
          throw asFieldError(err);
        }
        res.json(managerRow(await readUser(scope, id), await listCompanies(service, groups, scope)));
      }),
    );
  };
}

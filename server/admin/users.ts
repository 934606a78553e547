// Admin API: users (issue 10, "Users in the admin API"; docs/admin-api.md "Users") — what the
// console calls. Every write goes through the same resource service as SCIM, so every rule holds
// here too: tenancy, the primary admin, the authority rule of sub-account credentials, audit, and
// the account hooks (activation email, generated credentials, sessions ended on deactivation).
//
//   GET    /users?q&state&role&subAccount&company&count&cursor  → {users, totalResults?, nextCursor?}
//   POST   /users                {fields…, activation}           → 201 {user, password?}
//   GET    /users/{id}                                            → the user
//   PATCH  /users/{id}           {fields…}                        → the user
//   DELETE /users/{id}                                            → 204
//   POST   /users/{id}/password  {"password"}                     → 204 (temporary, to change)
//   POST   /users/delete         {"ids": [...]}                   → {"deleted": n}, all or nothing
//
// A form's errors come back per field (`errors: [{field, detail}]`, user-fields.ts).
import type { Router } from 'express';
import { invalidValue, methodNotAllowed, notFound, onField, ScimError } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { object } from '../openapi/schema-kit';
import type { AdminAccess } from '../accounts/admin-access';
import type { PasswordPolicy } from '../accounts/passwords';
import type { People } from '../accounts/people';
import type { ResourceKind } from '../resources/kinds';
import type { ResourceService } from '../resources/service';
import { isUuid } from '../scim/members';
import { isObject, JsonObject } from '../scim/normalize';
import { Projection } from '../scim/projection';
import { PROVISIO_USER_URN } from '../scim/urns';
import { AdminRequest, handle } from './admin-router';
import { fieldOfError, listFilter, NEW_USER_SCHEMA, parseNewUser, parseUserPatch, USER_PATCH_SCHEMA, userRow, USER_STATES, UserState } from './user-fields';

const USER = { type: 'object', properties: { id: { type: 'string' }, givenName: { type: ['string', 'null'] }, familyName: { type: ['string', 'null'] }, displayName: { type: ['string', 'null'] }, email: { type: ['string', 'null'] }, role: { enum: ['admin', 'user'] }, state: { enum: [...USER_STATES] }, primaryAdmin: { type: 'boolean' }, services: { type: 'array', items: { type: 'string' } } } };

export const MAX_BULK_DELETE = 1000;
export const USERS_PAGE = { defaultCount: 50, maxCount: 200 };

/** A user's `groups` are not shown in these rows: leaving them out saves a query per page. */
const PROJECTION: Projection = { excludedAttributes: ['groups'] };

export interface UserRoutesDeps {
  service: ResourceService;
  users: ResourceKind;
  people: People;
  admin: AdminAccess;
  passwords: PasswordPolicy;
}

/** Pins a service error to the form field it is about, when there is one. */
function asFieldError(err: unknown): unknown {
  if (!(err instanceof ScimError)) return err;
  const field = fieldOfError(err);
  return field ? onField(err, field) : err;
}

export function userRoutes(deps: UserRoutesDeps) {
  const { service, users } = deps;
  const userId = (req: AdminRequest) => {
    const id = String(req.params.id).toLowerCase();
    if (!isUuid(id)) throw notFound(`User ${req.params.id} not found`);
    return id;
  };
  const rows = async (req: AdminRequest, resources: JsonObject[]) => {
    const signIns = await deps.people.lastSignIns(req.tenantId!, resources.map((r) => r.id as string));
    return resources.map((r) => userRow(r, signIns.get(r.id as string) ?? null));
  };
  const one = async (req: AdminRequest, resource: JsonObject) => (await rows(req, [resource]))[0];

  return (router: Router, api: ApiSection) => {
    router.all('/users', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));

    api.describe(router, {
      method: 'get',
      path: '/users',
      summary: 'List users, a page at a time',
      query: {
        q: { description: 'search in names and email (at most 200 characters)' },
        state: { description: 'pending, active or inactive', schema: { enum: [...USER_STATES] } },
        role: { description: 'admin or user', schema: { enum: ['admin', 'user'] } },
        subAccount: { description: 'members of this sub-account (id)' },
        company: { description: 'members of this company (id)' },
        count: { description: `page size, 1 to ${USERS_PAGE.maxCount} (default ${USERS_PAGE.defaultCount})`, schema: { type: 'integer', minimum: 1, maximum: USERS_PAGE.maxCount } },
        cursor: { description: 'nextCursor of the previous page' },
      },
      responses: { 200: { description: 'A page of users', schema: { type: 'object', required: ['users'], properties: { users: { type: 'array', items: USER }, totalResults: { type: 'integer' }, nextCursor: { type: 'string' } } } }, 400: { description: 'A query parameter is not right' } },
    });
    router.get(
      '/users',
      handle(async (req, res) => {
        const q = req.query as Record<string, unknown>;
        const text = (name: string) => (typeof q[name] === 'string' && (q[name] as string).trim() !== '' ? (q[name] as string).trim() : undefined);
        const state = text('state');
        if (state && !USER_STATES.includes(state as UserState)) throw invalidValue(`state must be one of ${USER_STATES.join(', ')}`);
        const role = text('role');
        if (role && role !== 'admin' && role !== 'user') throw invalidValue('role must be admin or user');
        const group = text('subAccount') ?? text('company');
        if (group && !isUuid(group)) throw invalidValue('subAccount and company take the id of a sub-account or company');
        const search = text('q');
        if (search && search.length > 200) throw invalidValue('q must be at most 200 characters');
        const countText = text('count');
        if (countText !== undefined && !/^\d{1,4}$/.test(countText)) throw invalidValue(`count must be a whole number from 1 to ${USERS_PAGE.maxCount}`);
        const count = Math.min(Math.max(Number(countText ?? USERS_PAGE.defaultCount), 1), USERS_PAGE.maxCount);
        const list = await service.query(req.scope!, users, {
          filter: listFilter({ search, state: state as UserState | undefined, role, group: group?.toLowerCase() }),
          sortOrder: 'ascending',
          count,
          cursor: text('cursor') ?? '',
          ...PROJECTION,
        });
        res.json({
          users: await rows(req, list.Resources as JsonObject[]),
          ...(list.totalResults !== undefined ? { totalResults: list.totalResults } : {}),
          ...(list.nextCursor ? { nextCursor: list.nextCursor } : {}),
        });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/users',
      summary: 'Create a user (and say how they get in)',
      body: { schema: NEW_USER_SCHEMA, examples: [{ givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', role: 'user', services: ['m365'], activation: 'email' }] },
      responses: { 201: { description: 'Created: {user, activation, password?} (password only for activation "now")', schema: { type: 'object', properties: { user: USER, activation: { type: 'string' }, password: { type: 'string' } } } }, 409: { description: 'Someone has this email (errors: email, taken)' } },
    });
    router.post(
      '/users',
      handle(async (req, res) => {
        const form = parseNewUser(req.body);
        // "Activate now": the password is made here so it can be answered once (and is emailed to
        // the credentials address by the account hooks); "later": pending, no email yet.
        const generatedPassword = form.activation === 'now' ? deps.passwords.generate() : undefined;
        let created;
        try {
          created = await service.create(req.scope!, users, form.resource, PROJECTION, { context: { generatedPassword, sendActivationEmail: form.activation !== 'later' } });
        } catch (err) {
          throw asFieldError(err);
        }
        const user = await one(req, created.resource);
        // requireSso keeps someone whose organisation signs them in pending, with no password.
        const activeNow = form.activation === 'now' && isObject(created.resource[PROVISIO_USER_URN]) && created.resource[PROVISIO_USER_URN].activationState === 'active';
        res.status(201).setHeader('Location', `/api/v1/users/${user.id}`);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ user, activation: form.activation, ...(activeNow ? { password: generatedPassword } : {}) });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/users/delete',
      summary: 'Delete several users: all of them or none',
      body: { schema: object({ ids: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: MAX_BULK_DELETE } }, ['ids']), examples: [{ ids: ['0190b0a0-0000-7000-8000-000000000001'] }] },
      responses: { 200: { description: '{deleted: n}', schema: { type: 'object', properties: { deleted: { type: 'integer' } } } }, 404: { description: 'One of them is not a user of this tenant (nothing deleted)' } },
    });
    router.post(
      '/users/delete',
      handle(async (req, res) => {
        const body = req.body as { ids: string[] };
        res.json({ deleted: await service.deleteAll(req.scope!, users, body.ids as string[]) });
      }),
    );

    router.all('/users/:id', (req, _res, next) => next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])));

    api.describe(router, { method: 'get', path: '/users/:id', summary: 'Read a user', responses: { 200: { description: 'The user', schema: USER }, 404: { description: 'No such user' } } });
    router.get(
      '/users/:id',
      handle(async (req, res) => {
        res.json(await one(req, (await service.get(req.scope!, users, userId(req), PROJECTION)).resource));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/users/:id',
      summary: 'Change a user (null clears a field)',
      body: { schema: USER_PATCH_SCHEMA, examples: [{ familyName: 'Byron', services: [] }, { active: false }] },
      responses: { 200: { description: 'The user', schema: USER }, 404: { description: 'No such user' }, 409: { description: 'Someone has this email' } },
    });
    router.patch(
      '/users/:id',
      handle(async (req, res) => {
        const id = userId(req);
        const ops = parseUserPatch(req.body);
        let changed;
        try {
          changed = await service.patch(req.scope!, users, id, ops, undefined, PROJECTION);
        } catch (err) {
          throw asFieldError(err);
        }
        res.json(await one(req, changed.resource));
      }),
    );

    api.describe(router, { method: 'delete', path: '/users/:id', summary: 'Delete a user', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such user' } } });
    router.delete(
      '/users/:id',
      handle(async (req, res) => {
        await service.delete(req.scope!, users, userId(req), undefined);
        res.status(204).end();
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/users/:id/password',
      summary: 'Give an active user a temporary password (to change at their next sign-in)',
      body: { schema: object({ password: { type: 'string', minLength: 1, maxLength: 1000, description: 'checked against the password policy (code weak)' } }, ['password']), examples: [{ password: 'correct horse battery staple 42' }] },
      responses: { 204: { description: 'Set' }, 404: { description: 'No such user' }, 409: { description: 'Not activated yet, or SSO is required for them' } },
    });
    router.post(
      '/users/:id/password',
      handle(async (req, res) => {
        const body = req.body as { password: string };
        await deps.admin.setTemporaryPassword(req.tenantId!, userId(req), req.scope!.actor, body.password);
        res.status(204).end();
      }),
    );
  };
}

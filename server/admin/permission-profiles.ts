// Admin API: permission profiles (issue 10, "Permission profiles") — /api/v1/permission-profiles —
// and the operator's permission catalogue they are made of — GET /api/v1/permissions.
//
//   POST   /permission-profiles        {"key", "name", "description"?, "permissions": [...]} → 201
//   GET    /permission-profiles                         → {"permissionProfiles": [...]}, enterprise first
//   GET    /permission-profiles/{key}                   → the profile
//   PATCH  /permission-profiles/{key}  {"name"?, "description"?, "permissions"?, "default"?} → 200
//   DELETE /permission-profiles/{key}                   → 204, its users moved to the default
//
// Every tenant has the built-in `enterprise` profile, which grants every permission of the
// catalogue, also those the operator adds later (its grant is worked out when read). It cannot be
// deleted, nor its permissions changed (409); its name and description can. Custom profiles
// grant a subset (an unknown permission is 400 invalidValue). Exactly one profile is the default,
// the one a new user gets: `enterprise` from birth; `"default": true` on another takes the flag
// from the previous one in one step, `"default": false` on a custom default hands it back to
// `enterprise`. Deleting a custom profile moves its users to the default, in the same
// transaction, audited; the default itself is not deleted (409). Writes need a tenant-wide
// credential; reads are open to bound credentials. test/api/permission-profiles.test.ts
import type { Knex } from 'knex';
import type { Response, Router } from 'express';
import { conflict, fieldRule, methodNotAllowed, notFound, onField, uniqueness } from '../errors';
import type { ApiSection } from '../openapi/describe';
import { bool, DATE, KEY, list, object, patch, S, shape, SN } from '../openapi/schema-kit';
import { isUniqueViolation } from '../store/db';
import { ENTERPRISE_PROFILE, PermissionProfilesRepo, ProfileRow } from '../store/permission-profiles-repo';
import { inTenant } from '../store/scope';
import { PROVISIO_USER_URN } from '../scim/urns';
import { grantedPermissions } from '../resources/assignments';
import type { Permission } from '../permission-catalogue';
import { handle, requireTenantWide } from './admin-router';
import type { ChangeRecorder } from '../resources/service';
import { Audit, auditIn, auditUsers, checkSameKey, DESCRIPTION_SCHEMA, descriptionOf, NAME_SCHEMA, nameOf } from './catalogue-fields';

export interface ProfileRoutesDeps {
  knex: Knex;
  profiles: PermissionProfilesRepo;
  /** The operator's permission catalogue (config: PERMISSIONS_FILE). */
  permissions: readonly Permission[];
  clock: () => Date;
  audit?: Audit;
  /** SCIM events for the users a deleted profile is moved from (events/producer.ts). */
  events?: Pick<ChangeRecorder, 'rewritten'>;
}

const notFoundProfile = (key: string) => notFound(`Permission profile ${key} not found`);
const duplicate = (key: string) => onField(uniqueness(`A permission profile with the key "${key}" already exists in this tenant`), 'key');
const PERMISSIONS = { type: 'array', items: { type: 'string' }, maxItems: 1000, description: 'permission keys of the catalogue (GET /api/v1/permissions), any case; duplicates merged' };
const PROFILE = shape({ key: S, name: S, description: SN, permissions: { type: 'array', items: S }, builtIn: { type: 'boolean' }, default: { type: 'boolean' }, createdAt: DATE, updatedAt: DATE });

export function permissionProfileRoutes(deps: ProfileRoutesDeps): (router: Router, api: ApiSection) => void {
  const { knex, profiles, clock } = deps;
  const catalogue = deps.permissions.map((p) => p.key);
  const target = (key: string) => ({ type: 'PermissionProfile', id: key });

  const json = (row: ProfileRow) => ({
    key: row.key,
    name: row.name,
    description: row.description ?? null,
    permissions: grantedPermissions({ builtIn: row.built_in, permissions: row.permissions ?? [] }, catalogue),
    builtIn: row.built_in === true,
    default: row.is_default === true,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  });

  /** A list of permission keys (the schema checked it is one) of the catalogue, in the catalogue's order, duplicates merged. */
  const parsePermissions = (value: unknown): string[] => {
    const wanted = new Set<string>();
    const unknown: string[] = [];
    for (const v of value as unknown[]) {
      const key = typeof v === 'string' ? v.trim().toLowerCase() : undefined;
      if (key !== undefined && catalogue.includes(key)) wanted.add(key);
      else unknown.push(JSON.stringify(v));
    }
    if (unknown.length) throw fieldRule('permissions', 'notInCatalogue', `${unknown.join(', ')} ${unknown.length === 1 ? 'is not a permission' : 'are not permissions'} of the catalogue (GET /api/v1/permissions lists them)`);
    return catalogue.filter((k) => wanted.has(k));
  };

  return (router, api) => {
    router.all('/permissions', (req, _res, next) => next(req.method === 'GET' ? undefined : methodNotAllowed(['GET'])));
    api.describe(router, { method: 'get', path: '/permissions', summary: "The operator's permission catalogue profiles are made of", responses: { 200: { description: 'The permissions', schema: list('permissions', shape({ key: S })) } } });
    router.get('/permissions', (_req, res) => {
      res.json({ permissions: deps.permissions });
    });

    router.all('/permission-profiles', (req, _res, next) => next(['GET', 'POST'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'POST'])));
    router.all('/permission-profiles/:key', (req, _res, next) =>
      next(['GET', 'PATCH', 'DELETE'].includes(req.method) ? undefined : methodNotAllowed(['GET', 'PATCH', 'DELETE'])),
    );

    api.describe(router, { method: 'get', path: '/permission-profiles', summary: 'List the permission profiles, enterprise first', responses: { 200: { description: 'The profiles', schema: list('permissionProfiles', PROFILE) } } });
    router.get(
      '/permission-profiles',
      handle(async (req, res) => {
        const rows = await inTenant(knex, req.tenantId!, (trx) => profiles.list(trx, req.tenantId!));
        res.json({ permissionProfiles: rows.map(json) });
      }),
    );

    api.describe(router, {
      method: 'post',
      path: '/permission-profiles',
      summary: 'Create a permission profile (tenant-wide credentials)',
      body: {
        schema: object({ key: KEY, name: NAME_SCHEMA, description: DESCRIPTION_SCHEMA, permissions: PERMISSIONS }, ['key', 'name', 'permissions']),
        examples: [{ key: 'support', name: 'Support desk', permissions: [] }],
      },
      responses: { 201: { description: 'Created', schema: PROFILE }, 409: { description: 'The key is taken (errors: key, taken)' } },
    });
    router.post(
      '/permission-profiles',
      handle(async (req, res: Response) => {
        requireTenantWide(req);
        const body = req.body as Record<string, unknown>;
        const key = String(body.key).toLowerCase();
        const name = nameOf(body.name);
        const description = body.description === undefined ? null : descriptionOf(body.description);
        const permissions = parsePermissions(body.permissions);
        const at = clock();
        let row: ProfileRow;
        try {
          row = await inTenant(knex, req.tenantId!, async (trx) => {
            if (await profiles.get(trx, req.tenantId!, key)) throw duplicate(key);
            const created = await profiles.insert(trx, req.tenantId!, { key, name, description, permissions, at });
            await auditIn(deps.audit, trx, req, at, 'permissionProfile.create', target(key), { set: { key, name, description, permissions } });
            return created;
          });
        } catch (err) {
          if (isUniqueViolation(err)) throw duplicate(key);
          throw err;
        }
        res.status(201).setHeader('Location', `/api/v1/permission-profiles/${row.key}`);
        res.json(json(row));
      }),
    );

    api.describe(router, { method: 'get', path: '/permission-profiles/:key', summary: 'Read a permission profile', responses: { 200: { description: 'The profile', schema: PROFILE }, 404: { description: 'No such profile' } } });
    router.get(
      '/permission-profiles/:key',
      handle(async (req, res) => {
        const key = String(req.params.key);
        const row = await inTenant(knex, req.tenantId!, (trx) => profiles.get(trx, req.tenantId!, key));
        if (!row) throw notFoundProfile(key);
        res.json(json(row));
      }),
    );

    api.describe(router, {
      method: 'patch',
      path: '/permission-profiles/:key',
      summary: 'Change a permission profile, or make it the default',
      body: {
        schema: patch({ key: { ...KEY, description: 'the same key (any case) changes nothing; another is refused (code immutable)' }, name: NAME_SCHEMA, description: DESCRIPTION_SCHEMA, permissions: PERMISSIONS, default: bool() }),
        examples: [{ name: 'Support' }, { default: true }],
      },
      responses: { 200: { description: 'The profile', schema: PROFILE }, 404: { description: 'No such profile' }, 409: { description: 'The built-in profile’s permissions, or its default, cannot change so' } },
    });
    router.patch(
      '/permission-profiles/:key',
      handle(async (req, res) => {
        requireTenantWide(req);
        const key = String(req.params.key).toLowerCase();
        const body = req.body as Record<string, unknown>;
        const name = body.name !== undefined ? nameOf(body.name) : undefined;
        const description = body.description !== undefined ? descriptionOf(body.description) : undefined;
        const permissions = body.permissions !== undefined ? parsePermissions(body.permissions) : undefined;
        const at = clock();
        const row = await inTenant(knex, req.tenantId!, async (trx) => {
          await profiles.lockAll(trx, req.tenantId!, 'NO KEY UPDATE');
          const existing = await profiles.get(trx, req.tenantId!, key);
          if (!existing) throw notFoundProfile(key);
          checkSameKey(body.key, existing.key, 'permission profile');
          if (permissions !== undefined && existing.built_in) {
            throw conflict(`"${existing.key}" is the built-in profile: it grants every permission of the catalogue, and its permissions cannot be changed. Create a custom profile to grant fewer`);
          }
          if (body.default === false && existing.is_default && existing.built_in) {
            throw conflict(`"${existing.key}" is the default while no custom profile is: make a custom profile the default instead`);
          }
          const set: Record<string, unknown> = {};
          if (name !== undefined && name !== existing.name) set.name = name;
          if (description !== undefined && description !== (existing.description ?? null)) set.description = description;
          if (permissions !== undefined && JSON.stringify(permissions) !== JSON.stringify(grantedPermissions({ builtIn: false, permissions: existing.permissions ?? [] }, catalogue))) {
            set.permissions = permissions;
          }
          if (Object.keys(set).length) await profiles.update(trx, req.tenantId!, existing.key, set as { name?: string; description?: string | null; permissions?: string[] }, at);
          if (body.default === true && !existing.is_default) {
            await profiles.makeDefault(trx, req.tenantId!, existing.key, at);
            set.default = true;
          } else if (body.default === false && existing.is_default) {
            // While no custom profile is the default, enterprise is.
            await profiles.makeDefault(trx, req.tenantId!, ENTERPRISE_PROFILE, at);
            set.default = false;
          }
          if (Object.keys(set).length) await auditIn(deps.audit, trx, req, at, 'permissionProfile.update', target(existing.key), { set });
          return (await profiles.get(trx, req.tenantId!, existing.key))!;
        });
        res.json(json(row));
      }),
    );

    api.describe(router, { method: 'delete', path: '/permission-profiles/:key', summary: 'Delete a custom profile (its users move to the default)', responses: { 204: { description: 'Deleted' }, 404: { description: 'No such profile' }, 409: { description: 'The built-in or default profile cannot be deleted' } } });
    router.delete(
      '/permission-profiles/:key',
      handle(async (req, res) => {
        requireTenantWide(req);
        const key = String(req.params.key).toLowerCase();
        const at = clock();
        await inTenant(knex, req.tenantId!, async (trx) => {
          // FOR UPDATE: also waits for user writes that validated this profile (profileExists).
          await profiles.lockAll(trx, req.tenantId!, 'UPDATE');
          const existing = await profiles.get(trx, req.tenantId!, key);
          if (!existing) throw notFoundProfile(key);
          if (existing.built_in) throw conflict(`"${existing.key}" is the built-in profile and cannot be deleted`);
          if (existing.is_default) {
            throw conflict(`"${existing.key}" is the default profile and cannot be deleted: make another profile the default first (or send "default": false to hand it back to "${ENTERPRISE_PROFILE}")`);
          }
          const to = (await profiles.list(trx, req.tenantId!)).find((p) => p.is_default)!.key;
          const moved = await profiles.moveUsers(trx, req.tenantId!, existing.key, to, at);
          await profiles.delete(trx, req.tenantId!, existing.key);
          const changes = { set: { [`${PROVISIO_USER_URN}:permissionProfile`]: to }, cause: { permissionProfileDeleted: existing.key } };
          await auditUsers(deps.audit, trx, req, at, moved.map((id) => ({ id, changes })));
          await deps.events?.rewritten(trx, req.tenantId!, 'User', moved, [PROVISIO_USER_URN]);
          await auditIn(deps.audit, trx, req, at, 'permissionProfile.delete', target(existing.key), { name: existing.name, usersMoved: moved.length, movedTo: to });
        });
        res.status(204).end();
      }),
    );
  };
}

// What a person is assigned (issue 10): their permission profile and their services, read in one
// statement — GET /api/v1/users/{id}/permissions is on the partner product's hot path — and the
// names of their services for the account page.
import type { Sql } from './filter-sql';
import type { Db } from './scope';
import { PROVISIO_USER_URN } from '../scim/urns';

export interface AssignmentsRow {
  /** Null only if the user's profile is missing, which the write rules and deletes never leave. */
  profile: { key: string; name: string; builtIn: boolean; permissions: string[] } | null;
  /** The catalogue's services the user holds, by name then key. */
  services: { key: string; name: string }[];
}

/**
 * The keys of a user's services, as SQL over `u.data`: the values of `entitlements` elements of
 * type `service` or without a type (resources/assignments.ts reads them the same way).
 */
const SERVICE_KEYS = `SELECT lower(e ->> 'value') FROM jsonb_array_elements(CASE WHEN jsonb_typeof(u.data -> 'entitlements') = 'array' THEN u.data -> 'entitlements' ELSE '[]'::jsonb END) AS e
  WHERE coalesce(lower(e ->> 'type'), 'service') = 'service'`;

/**
 * The user's profile (their `permissionProfile`; the tenant's default for a user without one,
 * which only a row written outside the service could be) and services, as a query of one row
 * (none when the tenant has no such user): run alone here, and inside the one-statement
 * permissions answer (store/permissions-repo.ts).
 */
export function assignmentsQuery(tenantId: string, userId: string): Sql {
  return {
    sql: `SELECT p.key AS profile_key, p.name AS profile_name, p.built_in, p.permissions,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('key', s.key, 'name', s.name) ORDER BY s.name, s.key), '[]'::jsonb)
               FROM services s WHERE s.tenant_id = u.tenant_id AND s.key = ANY (ARRAY(${SERVICE_KEYS}))) AS services
       FROM users u
       LEFT JOIN permission_profiles p ON p.tenant_id = u.tenant_id
            AND p.key = coalesce(lower(u.data -> '${PROVISIO_USER_URN}' ->> 'permissionProfile'),
                                 (SELECT d.key FROM permission_profiles d WHERE d.tenant_id = u.tenant_id AND d.is_default))
      WHERE u.tenant_id = ? AND u.id = ?`,
    bindings: [tenantId, userId],
  };
}

/** One row of assignmentsQuery, as read from pg or from jsonb. */
export function assignmentsFrom(r: { profile_key: string | null; profile_name: string | null; built_in: boolean | null; permissions: string[] | null; services: unknown }): AssignmentsRow {
  return {
    profile: r.profile_key === null ? null : { key: r.profile_key, name: r.profile_name ?? r.profile_key, builtIn: r.built_in === true, permissions: r.permissions ?? [] },
    services: (typeof r.services === 'string' ? JSON.parse(r.services) : r.services) as AssignmentsRow['services'],
  };
}

export async function assignmentsOf(db: Db, tenantId: string, userId: string): Promise<AssignmentsRow | undefined> {
  const q = assignmentsQuery(tenantId, userId);
  const r = (await db.raw(q.sql, q.bindings)).rows[0];
  return r ? assignmentsFrom(r) : undefined;
}

/** The names of the services a person holds, by name (the account page). */
export async function serviceNamesOf(db: Db, tenantId: string, userId: string): Promise<string[]> {
  const res = await db.raw(
    `SELECT s.name FROM users u JOIN services s ON s.tenant_id = u.tenant_id AND s.key = ANY (ARRAY(${SERVICE_KEYS}))
      WHERE u.tenant_id = ? AND u.id = ? ORDER BY s.name, s.key`,
    [tenantId, userId],
  );
  return res.rows.map((r: { name: string }) => r.name);
}

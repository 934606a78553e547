// Everything GET /api/v1/users/{id}/permissions answers (issue 10), in ONE statement: the
// partner's product asks it on its hot path, and each round trip to the database costs more than
// the work of the query (bench/run.js, "permissions"; docs/performance.md). The parts are the
// queries of their own homes — assignments-repo.ts (profile, services), tenancy-repo.ts (price
// list, companies), authority-repo.ts (active sub-accounts) — nested here as subqueries, so each
// rule is written once and this answer cannot drift from the other paths that read them.
import { PROVISIO_USER_URN as USER_EXT } from '../scim/urns';
import { ActiveSubAccount, activeSubAccountFrom, activeSubAccountsQuery } from './authority-repo';
import { AssignmentsRow, assignmentsFrom, assignmentsQuery } from './assignments-repo';
import { AppliedPriceList, companiesQuery, priceListQuery } from './tenancy-repo';
import { statementName } from './prepared';
import type { Db } from './scope';

export interface PermissionFacts {
  primaryAdmin: boolean;
  /** The stored role; the primary admin is always an admin (resources/roles.ts). */
  role: 'admin' | 'user';
  canManageLicences: boolean;
  assignments: AssignmentsRow;
  priceList: AppliedPriceList;
  companies: { id: string; displayName: string }[];
  subAccounts: ActiveSubAccount[];
}

/** The facts of one person of the tenant, or undefined when the tenant has no such user. */
export async function permissionFactsOf(db: Db, tenantId: string, userId: string): Promise<PermissionFacts | undefined> {
  const assignments = assignmentsQuery(tenantId, userId);
  const price = priceListQuery(tenantId, userId);
  const companies = companiesQuery(tenantId, userId);
  const subs = activeSubAccountsQuery(tenantId, userId);
  // A named statement (store/prepared.ts): its text is fixed and every part is a lookup by the
  // tenant and the user's id, so one generic plan suits every call. Unnamed, it was planned on
  // every call — a third of its time, row-level security adding its conditions to each of the six
  // tables it reads (docs/performance.md, "Membership PATCH and the permissions answer"). Behind a
  // transaction pooler the client drops the name (store/pg-client.ts; test/api/permissions-answer
  // .test.ts in the api:pgbouncer project).
  const sql = `SELECT u.is_primary_admin, u.role, (u.data -> ? ->> 'canManageLicences')::boolean AS can_manage,
            (SELECT to_jsonb(a) FROM (${assignments.sql}) a) AS assignments,
            (SELECT to_jsonb(p) FROM (${price.sql}) p) AS price_list,
            (SELECT coalesce(jsonb_agg(jsonb_build_object('id', c.id, 'displayName', c.display_name) ORDER BY c.display_name_ci, c.id), '[]'::jsonb)
               FROM (${companies.sql}) c) AS companies,
            (SELECT coalesce(jsonb_agg(to_jsonb(s) ORDER BY s.display_name_ci, s.id), '[]'::jsonb) FROM (${subs.sql}) s) AS sub_accounts
       FROM users u WHERE u.tenant_id = ? AND u.id = ?`;
  const res = await db.raw(sql, [USER_EXT, ...assignments.bindings, ...price.bindings, ...companies.bindings, ...subs.bindings, tenantId, userId]).options({ name: statementName(sql) });
  const r = res.rows[0];
  if (!r) return undefined;
  return {
    primaryAdmin: r.is_primary_admin === true,
    role: r.role === 'admin' || r.is_primary_admin === true ? 'admin' : 'user',
    canManageLicences: r.can_manage === true,
    assignments: assignmentsFrom(r.assignments),
    priceList: r.price_list,
    companies: r.companies,
    subAccounts: (r.sub_accounts as Parameters<typeof activeSubAccountFrom>[0][]).map(activeSubAccountFrom),
  };
}

// Users' email lookups through the user_emails side table (migrations/0018_user_emails.ts, kept
// exact by a trigger on users.folded): `emails eq`, `emails.value eq` and
// `emails[type eq "work"].value eq` — Okta's and Entra's ways of matching a person — become one
// btree probe on (tenant_id, value_ci), which row-level security lets PostgreSQL use (text
// equality is leakproof; jsonb containment is not). A NOT around it stays exact: `IN` over a
// subquery that never yields NULL is false, never unknown, for users without a match.
import type { ValueIndexCompiler } from './filter-sql';

export const userEmailsIndex: ValueIndexCompiler = {
  hasValue(alias, tenantId, value, type) {
    const typed = type === undefined ? '' : ' AND ue.type_ci = ?';
    return {
      sql: `(${alias}.id IN (SELECT ue.user_id FROM user_emails ue WHERE ue.tenant_id = ? AND ue.value_ci = ?${typed}))`,
      bindings: type === undefined ? [tenantId, value] : [tenantId, value, type],
    };
  },
};

// "Every statement filters on the tenant" as a check the API suite runs on every statement the
// server sends (test/support/harness.ts listens to the pool's queries): a statement that touches a
// table with a tenant_id column must name tenant_id, or carry the marker `/* cross-tenant: <why> */`
// that a deliberate cross-tenant lookup (a token by its hash, a session by its id, the mail
// worker's claim…) writes into its SQL. The check is by text, per statement; row-level security
// stays the second wall behind it (test/api/rls.test.ts). The checker's own table:
// test/unit/sql-scope.test.ts.

export const CROSS_TENANT_MARKER = /\/\*\s*cross-tenant:\s*\w[^*]*\*\//;

/** The tenant tables a statement reads or writes (FROM, JOIN, UPDATE, INTO, DELETE FROM). */
export function tablesOf(sql: string, tenantTables: ReadonlySet<string>): string[] {
  const found = new Set<string>();
  const re = /\b(?:from|join|update|into)\s+"?([a-z_][a-z0-9_]*)"?/gi;
  for (const m of sql.matchAll(re)) {
    const name = m[1].toLowerCase();
    if (tenantTables.has(name)) found.add(name);
  }
  return [...found];
}

/** Why a statement breaks the rule, or undefined when it keeps it. */
export function unscopedStatement(sql: string, tenantTables: ReadonlySet<string>): string | undefined {
  const touched = tablesOf(sql, tenantTables);
  if (!touched.length) return undefined;
  if (CROSS_TENANT_MARKER.test(sql)) return undefined;
  if (/\btenant_id\b/i.test(sql)) return undefined;
  return `touches ${touched.join(', ')} without tenant_id or a /* cross-tenant: … */ marker`;
}

// The statement check the API suite applies to every statement the server sends
// (test/support/sql-scope.ts): a tenant table needs tenant_id or a cross-tenant marker.
import { tablesOf, unscopedStatement } from '../support/sql-scope';

const TENANT = new Set(['users', 'groups', 'group_user_members', 'sessions', 'outbox', 'api_tokens']);

describe('unscopedStatement', () => {
  it.each([
    ['a tenant-filtered read', 'SELECT id FROM users WHERE tenant_id = ? AND id = ?'],
    ['a knex builder delete', 'delete from "groups" where "tenant_id" = ? and "id" = ?'],
    ['an insert naming the column', 'INSERT INTO outbox (tenant_id, id) VALUES (?, ?)'],
    ['a join whose ON names it', 'SELECT g.id FROM group_user_members m JOIN groups g ON g.tenant_id = m.tenant_id WHERE m.tenant_id = ?'],
    ['a marked cross-tenant lookup', 'SELECT * FROM api_tokens /* cross-tenant: the token names its tenant */ WHERE token_hash = ?'],
    ['no tenant table at all', 'SELECT 1'],
    ['the transaction start', "BEGIN; SELECT set_config('provisio.tenant_id', 'x', true);"],
    ['a table that is not a tenant table', 'INSERT INTO rate_limits (key, points) VALUES (?, ?)'],
  ])('keeps the rule: %s', (_name, sql) => {
    expect(unscopedStatement(sql, TENANT)).toBeUndefined();
  });

  it.each([
    ['a lookup by id alone', 'SELECT * FROM users WHERE id = ?', 'users'],
    ['a purge without a marker', 'DELETE FROM sessions WHERE expires_at <= ?', 'sessions'],
    ['an update by hash', 'UPDATE outbox SET status = ? WHERE id = ?', 'outbox'],
    ['a marker without a reason', 'SELECT * FROM api_tokens /* cross-tenant: */ WHERE token_hash = ?', 'api_tokens'],
    ['a quoted table name', 'select * from "groups" where "id" = ?', 'groups'],
  ])('breaks the rule: %s', (_name, sql, table) => {
    expect(unscopedStatement(sql, TENANT)).toMatch(new RegExp(`touches ${table}`));
  });

  it('finds every tenant table a statement names', () => {
    expect(tablesOf('SELECT 1 FROM users u JOIN groups g ON true WHERE x IN (SELECT user_id FROM group_user_members)', TENANT).sort()).toEqual(['group_user_members', 'groups', 'users']);
  });
});

// The API suite on PostgreSQL through PgBouncer in transaction pooling (test/support/pgbouncer.js):
// the harness creates each test file's database directly and points the server at PgBouncer.
process.env.TEST_DB = 'postgres';
process.env.TEST_POOLER = 'pgbouncer';

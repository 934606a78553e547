// jest globalSetup/globalTeardown of the api:pgbouncer project: one PgBouncer for the run
// (test/support/pgbouncer.js). Its port reaches the test workers through the environment, which
// they inherit (jest starts them after the global set-up); test/support/harness.ts reads it.
const { startPgBouncer } = require('./pgbouncer');

module.exports = async function setup() {
  const bouncer = await startPgBouncer();
  process.env.TEST_PGBOUNCER_PORT = String(bouncer.port);
  globalThis.__provisioPgBouncer = bouncer;
};

module.exports.teardown = async function teardown() {
  await globalThis.__provisioPgBouncer?.stop();
};

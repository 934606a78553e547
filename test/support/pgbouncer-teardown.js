// jest globalTeardown of the api:pgbouncer project (test/support/pgbouncer-global.js).
module.exports = require('./pgbouncer-global').teardown;

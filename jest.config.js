// Four projects: pure unit tables once, the API suite twice — on the embedded database (PGlite)
// and on a real PostgreSQL — so every behaviour is proven on both (README, "Tests"), and the
// front door's pages in real Chromium (Debian's /usr/bin/chromium through playwright-core), on
// the embedded database only. A missing Chromium fails the browser tests (test/support/chromium.ts).
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest'] };
// openid-client 6, jose 6, oauth4webapi and oidc-provider 9 ship ES modules only; jest's module
// system cannot require() them on Node 20, so swc compiles them to CommonJS like our own code.
const ESM_PACKAGES = ['openid-client', 'oauth4webapi', 'jose', 'oidc-provider', 'koa', '@koa', 'quick-lru', 'eta', 'nanoid'];
const common = {
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json', 'cjs', 'mjs'],
};
const PGBOUNCER_FILES = ['rls', 'isolation', 'users', 'groups', 'patch', 'permissions-answer', 'bulk', 'front-door', 'mail', 'sub-accounts', 'process', 'tenant-config-cache'];
module.exports = {
  testTimeout: 60000,
  // On a 2-core machine jest would run every file in its own process, one after another ("in
  // band"). Memory a file leaves behind (each embedded database's WASM heap, a module registry per
  // file) then piles up over the run's ~400 files, every later file runs slower under a growing
  // heap, and anything a failed file leaves running keeps jest from exiting at all. A memory limit
  // makes jest use a worker process instead and replace it once it holds more than this after a
  // file; at the end jest stops the worker whatever it still runs.
  workerIdleMemoryLimit: '1200MB',
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'api:pglite',
      testMatch: ['<rootDir>/test/api/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/env-pglite.js'],
    },
    {
      ...common,
      displayName: 'api:postgres',
      testMatch: ['<rootDir>/test/api/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/env-postgres.js'],
    },
    {
      // A representative part of the API suite through PgBouncer in transaction pooling
      // (DATABASE_POOLER=transaction, docs/operations.md), started for the run by
      // test/support/pgbouncer-global.js. Chosen for what a pooler can break: the tenant set per
      // transaction (rls, isolation), named statements on the hot reads and member writes (users,
      // groups, patch, the permissions answer, bulk), sessions and sign-in (front-door), the outbox worker (mail), the
      // tenancy paths (sub-accounts), the server process started with the setting (process), the tenant config cache
      // trusted across instances without LISTEN/NOTIFY (tenant-config-cache); and
      // test/pooler/, which shows what breaks without the setting.
      ...common,
      displayName: 'api:pgbouncer',
      testMatch: [...PGBOUNCER_FILES.map((f) => `<rootDir>/test/api/${f}.test.ts`), '<rootDir>/test/pooler/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/env-pgbouncer.js'],
      globalSetup: '<rootDir>/test/support/pgbouncer-global.js',
      globalTeardown: '<rootDir>/test/support/pgbouncer-teardown.js',
    },
    {
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/env-pglite.js'],
    },
  ],
};

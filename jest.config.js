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
module.exports = {
  testTimeout: 60000,
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
      ...common,
      displayName: 'browser',
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      setupFiles: ['<rootDir>/test/support/env-pglite.js'],
    },
  ],
};

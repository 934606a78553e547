// Three projects: pure unit tables once, and the API suite twice — on the embedded database
// (PGlite) and on a real PostgreSQL — so every behaviour is proven on both (README, "Tests").
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest'] };
const common = {
  transform,
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
  ],
};

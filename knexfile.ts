// knex CLI configuration (e.g. `npx knex migrate:status`); the server itself migrates at start
// through server/store/migrations.ts, which this file shares. Needs DATABASE_URL.
import { migrationSource } from './server/store/migrations';

module.exports = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { migrationSource, tableName: 'knex_migrations' },
};

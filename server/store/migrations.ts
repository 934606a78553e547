// The migration list. Migrations are imported, not discovered on disk, so the same names are
// recorded whether they run from TypeScript (tests, tsx) or compiled JavaScript (npm start):
// knex stores file names with their extension otherwise, and a .ts name recorded in development
// would not match the .js one in production ("migration directory is corrupt").
import type { Knex } from 'knex';
import * as m0001 from '../../migrations/0001_init';
import * as m0002 from '../../migrations/0002_row_level_security';
import * as m0003 from '../../migrations/0003_price_lists_audit';
import * as m0004 from '../../migrations/0004_folded_columns';
import * as m0005 from '../../migrations/0005_login_email';
import * as m0006 from '../../migrations/0006_sub_accounts';
import * as m0007 from '../../migrations/0007_front_door';
import * as m0008 from '../../migrations/0008_sso_trust_email';
import * as m0009 from '../../migrations/0009_authority';
import * as m0010 from '../../migrations/0010_sso_policy';
import * as m0011 from '../../migrations/0011_roles';
import * as m0012 from '../../migrations/0012_oauth_clients';
import * as m0013 from '../../migrations/0013_scim_issuers';
import * as m0014 from '../../migrations/0014_services';
import * as m0015 from '../../migrations/0015_permission_profiles';
import * as m0016 from '../../migrations/0016_last_sign_in';
import * as m0017 from '../../migrations/0017_last_account';
import * as m0018 from '../../migrations/0018_user_emails';
import * as m0019 from '../../migrations/0019_event_streams';
import * as m0021 from '../../migrations/0021_agents';
import * as m0022 from '../../migrations/0022_oauth_authorization_code';
import * as m0023 from '../../migrations/0023_resource_counts';
import * as m0024 from '../../migrations/0024_tenant_config_version';

const MIGRATIONS: Record<string, Knex.Migration> = {
  '0001_init': m0001,
  '0002_row_level_security': m0002,
  '0003_price_lists_audit': m0003,
  '0004_folded_columns': m0004,
  '0005_login_email': m0005,
  '0006_sub_accounts': m0006,
  '0007_front_door': m0007,
  '0008_sso_trust_email': m0008,
  '0009_authority': m0009,
  '0010_sso_policy': m0010,
  '0011_roles': m0011,
  '0012_oauth_clients': m0012,
  '0013_scim_issuers': m0013,
  '0014_services': m0014,
  '0015_permission_profiles': m0015,
  '0016_last_sign_in': m0016,
  '0017_last_account': m0017,
  '0018_user_emails': m0018,
  '0019_event_streams': m0019,
  '0021_agents': m0021,
  '0022_oauth_authorization_code': m0022,
  '0023_resource_counts': m0023,
  '0024_tenant_config_version': m0024,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS).sort(),
  getMigrationName: (name) => name,
  getMigration: async (name) => MIGRATIONS[name],
};

/** Brings the schema up to date; returns the names of the migrations it ran. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, log] = await knex.migrate.latest({ migrationSource, tableName: 'knex_migrations' });
  return log as string[];
}

// Permission profiles (issue 10, "Permission profiles"; migrations/0015_permission_profiles.ts):
// each tenant's profiles, exactly one of them the default (a partial unique index keeps it to
// one), the built-in `enterprise` among them from birth. A user's profile is the Provisio User
// extension's `permissionProfile` (the profile key), stored on the user. Every function takes the
// tenant and runs in the caller's transaction — opened by inTenant, or asOwner when a tenant is born.
import type { Db } from './scope';
import { statementName } from './prepared';
import { PROVISIO_USER_URN } from '../scim/urns';

/** The built-in profile every tenant has: every permission of the catalogue, never narrowed. */
export const ENTERPRISE_PROFILE = 'enterprise';

export interface ProfileRow {
  key: string;
  name: string;
  description: string | null;
  /** A custom profile's grant; empty for `enterprise`, whose grant is the whole catalogue. */
  permissions: string[];
  built_in: boolean;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['key', 'name', 'description', 'permissions', 'built_in', 'is_default', 'created_at', 'updated_at'];

/**
 * Whether `key` (lower-case) names a profile of the tenant. For validating a user's
 * `permissionProfile` in the transaction that writes the user: the row is locked FOR KEY SHARE
 * until that transaction ends, so a concurrent delete of the profile waits for the user write
 * and then moves that user too — no user keeps a deleted profile.
 */
export async function profileExists(db: Db, tenantId: string, key: string): Promise<boolean> {
  const res = await db.raw(PROFILE_EXISTS.sql, [tenantId, key]).options({ name: PROFILE_EXISTS.name });
  return res.rows.length > 0;
}

// One of the two runs on every user create, so both are named (store/prepared.ts): parsed and
// planned once per connection instead of on every create (docs/performance.md, "Naming the
// create's statements"). Each is a primary-key or partial-index lookup whatever the tenant.
const named = (sql: string) => ({ sql, name: statementName(sql) });
const PROFILE_EXISTS = named('SELECT 1 FROM permission_profiles WHERE tenant_id = ? AND key = ? FOR KEY SHARE');
const DEFAULT_PROFILE = named('SELECT key FROM permission_profiles WHERE tenant_id = ? AND is_default FOR KEY SHARE');

/** The key of the tenant's default profile (what a new user gets), locked like profileExists. */
export async function defaultProfileKey(db: Db, tenantId: string): Promise<string | undefined> {
  const res = await db.raw(DEFAULT_PROFILE.sql, [tenantId]).options({ name: DEFAULT_PROFILE.name });
  return res.rows[0]?.key;
}

export class PermissionProfilesRepo {
  /** `enterprise` first, then by name and key: the order a console shows. */
  async list(db: Db, tenantId: string): Promise<ProfileRow[]> {
    return db('permission_profiles')
      .where({ tenant_id: tenantId })
      .orderBy([{ column: 'built_in', order: 'desc' }, { column: 'name' }, { column: 'key' }])
      .select(COLUMNS);
  }

  async get(db: Db, tenantId: string, key: string): Promise<ProfileRow | undefined> {
    return db('permission_profiles').where({ tenant_id: tenantId, key: key.toLowerCase() }).first(COLUMNS);
  }

  /**
   * Locks every profile of the tenant for the rest of the transaction, so changes of the default
   * and deletes are serialized per tenant (a tenant has a handful). `UPDATE` for a delete, which
   * must also wait for user writes that validated the profile (profileExists).
   */
  async lockAll(db: Db, tenantId: string, mode: 'NO KEY UPDATE' | 'UPDATE'): Promise<void> {
    await db.raw(`SELECT key FROM permission_profiles WHERE tenant_id = ? ORDER BY key FOR ${mode}`, [tenantId]);
  }

  async insert(
    db: Db,
    tenantId: string,
    row: { key: string; name: string; description?: string | null; permissions?: string[]; builtIn?: boolean; isDefault?: boolean; at?: Date },
  ): Promise<ProfileRow> {
    const [out] = await db('permission_profiles')
      .insert({
        tenant_id: tenantId,
        key: row.key,
        name: row.name,
        description: row.description ?? null,
        permissions: row.permissions ?? [],
        built_in: row.builtIn === true,
        is_default: row.isDefault === true,
        ...(row.at ? { created_at: row.at, updated_at: row.at } : {}),
      })
      .returning(COLUMNS);
    return out;
  }

  /** The built-in profile a tenant is born with, the default until a custom one is made so. */
  async insertEnterprise(db: Db, tenantId: string): Promise<ProfileRow> {
    return this.insert(db, tenantId, { key: ENTERPRISE_PROFILE, name: 'Enterprise', builtIn: true, isDefault: true });
  }

  async update(db: Db, tenantId: string, key: string, set: { name?: string; description?: string | null; permissions?: string[] }, at: Date): Promise<void> {
    await db('permission_profiles').where({ tenant_id: tenantId, key }).update({ ...set, updated_at: at });
  }

  /**
   * Makes `key` the default. Two statements in this order: the one-default index is checked row
   * by row, so the previous default must lose the flag before the new one gets it. Callers hold
   * lockAll, so two concurrent changes cannot interleave.
   */
  async makeDefault(db: Db, tenantId: string, key: string, at: Date): Promise<void> {
    await db('permission_profiles').where({ tenant_id: tenantId, is_default: true }).whereNot({ key }).update({ is_default: false, updated_at: at });
    await db('permission_profiles').where({ tenant_id: tenantId, key, is_default: false }).update({ is_default: true, updated_at: at });
  }

  async delete(db: Db, tenantId: string, key: string): Promise<void> {
    await db('permission_profiles').where({ tenant_id: tenantId, key }).delete();
  }

  /**
   * Moves the users of profile `from` to profile `to`: sets `permissionProfile` in the Provisio
   * extension of both `data` and `folded` (keys are lower-case, so the folded copy is the same),
   * and bumps `version` and `updated_at` so ETags and lastModified change. Returns their ids.
   */
  async moveUsers(db: Db, tenantId: string, from: string, to: string, at: Date): Promise<string[]> {
    const set = (col: string) => `jsonb_set(${col}, '{${PROVISIO_USER_URN}}', coalesce(${col} -> '${PROVISIO_USER_URN}', '{}'::jsonb) || jsonb_build_object('permissionProfile', ?::text))`;
    const res = await db.raw(
      `UPDATE users SET data = ${set('data')}, folded = ${set('folded')}, version = version + 1, updated_at = ?
        WHERE tenant_id = ? AND folded @> ?::jsonb
       RETURNING id`,
      [to, to, at, tenantId, JSON.stringify({ [PROVISIO_USER_URN]: { permissionProfile: from } })],
    );
    return res.rows.map((r: { id: string }) => r.id);
  }
}

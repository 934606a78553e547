// Reading people for the account half (accounts/): a user with their credentials and their
// tenant's name and settings in one query, the person behind a sign-in email, the tenant's
// primary admin's address, and what the account page lists. The users' server-owned columns
// (activation state, privacy acceptance) are written through ResourceRepo.update, the one place
// that also bumps the row's version (store/resource-repo.ts).
import type { Db } from './scope';

export interface PersonRow {
  id: string;
  user_name: string;
  active: boolean;
  activation_state: 'pending' | 'active';
  is_primary_admin: boolean;
  data: Record<string, unknown>;
  password_hash: string | null | undefined;
  must_change: boolean | null;
  verified_email: string | null;
  privacy_policy_version: string | null;
  email_set_by_sub_account: string | null;
  tenant_name: string;
  tenant_settings: Record<string, unknown> | null;
}

/** The person, their credentials (columns null when they have none yet) and their tenant's name and settings. */
export async function person(db: Db, tenantId: string, userId: string): Promise<PersonRow | undefined> {
  return (
    await db.raw(
      `SELECT u.id, u.user_name, u.active, u.activation_state, u.is_primary_admin, u.data,
              c.password_hash, c.must_change, c.verified_email, c.privacy_policy_version, c.email_set_by_sub_account,
              c.user_id IS NOT NULL AS has_credentials,
              t.name AS tenant_name, t.settings AS tenant_settings
         FROM users u JOIN tenants t ON t.id = u.tenant_id
         LEFT JOIN user_credentials c ON c.tenant_id = u.tenant_id AND c.user_id = u.id
        WHERE u.tenant_id = ? AND u.id = ?`,
      [tenantId, userId],
    )
  ).rows[0];
}

/**
 * The person whose sign-in email this is, in whichever tenant: sign-in emails are unique across
 * tenants (migrations/0005_login_email.ts), and the sign-in page knows no tenant yet. Run as the
 * schema owner.
 */
export async function findBySignInEmail(db: Db, email: string): Promise<{ tenantId: string; userId: string } | undefined> {
  const r = (
    await db.raw(`SELECT tenant_id, id FROM users /* cross-tenant: a sign-in email names its tenant */ WHERE user_name_ci = ? AND strpos(user_name_ci, '@') > 0`, [email])
  ).rows[0];
  return r ? { tenantId: r.tenant_id, userId: r.id } : undefined;
}

/** Which of these ids are users of the tenant, and whether each is the primary admin. */
export async function primaryAdminFlags(db: Db, tenantId: string, ids: string[]): Promise<Map<string, boolean>> {
  const res = await db.raw('SELECT id, is_primary_admin FROM users WHERE tenant_id = ? AND id = ANY(?::uuid[])', [tenantId, ids]);
  return new Map(res.rows.map((r: { id: string; is_primary_admin: boolean }) => [r.id, r.is_primary_admin === true]));
}

/** The primary admin's userName (their sign-in email). */
export async function primaryAdminUserName(db: Db, tenantId: string): Promise<string | undefined> {
  return (await db.raw('SELECT user_name FROM users WHERE tenant_id = ? AND is_primary_admin', [tenantId])).rows[0]?.user_name;
}

/** The tenant's name and settings (a user write's email needs both). */
export async function tenantSettings(db: Db, tenantId: string): Promise<{ name: string; settings: Record<string, unknown> } | undefined> {
  const r = (await db.raw('SELECT name, settings FROM tenants WHERE id = ?', [tenantId])).rows[0];
  return r ? { name: r.name, settings: r.settings ?? {} } : undefined;
}

/** The tenant's name and whether the person is one of its admins (role `admin`); undefined when either is gone. */
export async function tenantOfPerson(db: Db, tenantId: string, userId: string): Promise<{ name: string; tenantAdmin: boolean } | undefined> {
  const r = (
    await db.raw(`SELECT t.name, (u.role = 'admin' OR u.is_primary_admin) AS admin FROM tenants t JOIN users u ON u.tenant_id = t.id WHERE t.id = ? AND u.id = ?`, [tenantId, userId])
  ).rows[0];
  return r ? { name: r.name, tenantAdmin: r.admin === true } : undefined;
}

/** The account the person last worked in (the console's switcher); null: the tenant or never switched. */
export async function lastAccount(db: Db, tenantId: string, userId: string): Promise<string | null> {
  return (await db.raw('SELECT last_account_id FROM user_credentials WHERE tenant_id = ? AND user_id = ?', [tenantId, userId])).rows[0]?.last_account_id ?? null;
}

/** When each of these people last signed in (absent: never). */
export async function lastSignIns(db: Db, tenantId: string, userIds: string[]): Promise<Map<string, Date>> {
  if (!userIds.length) return new Map();
  const res = await db.raw('SELECT user_id, last_sign_in_at FROM user_credentials WHERE tenant_id = ? AND user_id = ANY(?::uuid[]) AND last_sign_in_at IS NOT NULL', [tenantId, userIds]);
  return new Map(res.rows.map((r: { user_id: string; last_sign_in_at: Date }) => [r.user_id, new Date(r.last_sign_in_at)]));
}

/** How many users and groups the tenant has. */
export async function tenantCounts(db: Db, tenantId: string): Promise<{ users: number; groups: number }> {
  return (await db.raw('SELECT (SELECT count(*) FROM users WHERE tenant_id = ?)::int AS users, (SELECT count(*) FROM groups WHERE tenant_id = ?)::int AS groups', [tenantId, tenantId])).rows[0];
}

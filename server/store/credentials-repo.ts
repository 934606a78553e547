// What a person signs in with, kept apart from `users` so no resource read can carry a password
// hash (migrations/0007_front_door.ts, 0009_authority.ts): the Argon2id hash, whether it must be
// changed, the sign-in email the person proved, the privacy policy version accepted, and which
// credential set the current sign-in email (accounts/provenance in docs/sign-in.md).
import type { Knex } from 'knex';
import type { Db } from './scope';

export interface Credentials {
  password_hash: string | null;
  must_change: boolean;
  verified_email: string | null;
  privacy_policy_version: string | null;
  /**
   * The sub-account whose bound credential set the current sign-in email; null when a tenant-wide
   * credential (or the person, or the operator) set it.
   */
  email_set_by_sub_account: string | null;
}

export type CredentialChanges = Partial<Credentials> & { password_changed_at?: Date; last_sign_in_at?: Date; last_account_id?: string | null };

const COLUMNS = new Set(['password_hash', 'must_change', 'verified_email', 'privacy_policy_version', 'email_set_by_sub_account', 'password_changed_at', 'last_sign_in_at', 'last_account_id']);

/** Sets these columns of the person's credentials row, creating it when absent. */
export async function saveCredentials(db: Db, tenantId: string, userId: string, set: CredentialChanges, now: Date): Promise<void> {
  const cols = Object.keys(set).filter((c) => (set as Record<string, unknown>)[c] !== undefined);
  if (!cols.length) return;
  for (const c of cols) if (!COLUMNS.has(c)) throw new Error(`unknown credentials column ${c}`);
  const values = cols.map((c) => (set as Record<string, Knex.Value>)[c]);
  await db.raw(
    `INSERT INTO user_credentials (tenant_id, user_id, ${cols.join(', ')}, updated_at) VALUES (?, ?, ${cols.map(() => '?').join(', ')}, ?)
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET ${cols.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = EXCLUDED.updated_at`,
    [tenantId, userId, ...values, now],
  );
}

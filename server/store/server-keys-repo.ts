// The server's own master key, made once and shared by every instance on the database when the
// operator sets no SECRET_KEY (security/keys.ts). Only the schema owner can read the table.
import type { Db } from './scope';

/** The stored master key, storing `candidate` first if there is none yet (the first instance wins). */
export async function ensureMasterKey(db: Db, candidate: string): Promise<string> {
  await db.raw(`INSERT INTO server_keys (name, value) VALUES ('master', ?) ON CONFLICT (name) DO NOTHING`, [candidate]);
  return (await db.raw(`SELECT value FROM server_keys WHERE name = 'master'`)).rows[0].value as string;
}

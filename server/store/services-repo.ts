// Services a tenant assigns to its people (issue 10, "Services (assigned to people)";
// migrations/0014_services.ts): the catalogue, and what deleting a service does to the users who
// have it. Every function takes the tenant and runs in the caller's transaction. A user holds a
// service as a SCIM `entitlements` element {"type": "service", "value": <key>}
// (resources/assignments.ts normalizes them so).
import type { Db } from './scope';

export interface ServiceRow {
  key: string;
  name: string;
  description: string | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['key', 'name', 'description', 'created_at', 'updated_at'];

/**
 * Whether `e` (a jsonb entitlements element, as SQL) is the service `key` (a bound text): its
 * value is the key, ignoring case, and its type is `service` or absent — the same reading as
 * resources/assignments.ts.
 */
const isService = (e: string, key: string) => `(lower(${e} ->> 'value') = ${key} AND coalesce(lower(${e} ->> 'type'), 'service') = 'service')`;

/**
 * Which of these keys (lower-case) are services of the tenant. For validating a user's
 * entitlements inside the transaction that writes the user: the rows are locked FOR KEY SHARE
 * until it ends, so a concurrent delete of a service waits for that write and then removes the
 * service from that user too — no user keeps a deleted service.
 */
export async function existingServiceKeys(db: Db, tenantId: string, keys: string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const res = await db.raw('SELECT key FROM services WHERE tenant_id = ? AND key = ANY(?::text[]) ORDER BY key FOR KEY SHARE', [tenantId, keys]);
  return new Set(res.rows.map((r: { key: string }) => r.key));
}

export class ServicesRepo {
  /** By name, then key: the order a console shows. */
  async list(db: Db, tenantId: string): Promise<ServiceRow[]> {
    return db('services').where({ tenant_id: tenantId }).orderBy([{ column: 'name' }, { column: 'key' }]).select(COLUMNS);
  }

  async get(db: Db, tenantId: string, key: string, lock?: 'UPDATE'): Promise<ServiceRow | undefined> {
    const q = db('services').where({ tenant_id: tenantId, key: key.toLowerCase() }).first(COLUMNS);
    return lock ? q.forUpdate() : q;
  }

  async insert(db: Db, tenantId: string, row: { key: string; name: string; description: string | null; at: Date }): Promise<ServiceRow> {
    const [out] = await db('services')
      .insert({ tenant_id: tenantId, key: row.key, name: row.name, description: row.description, created_at: row.at, updated_at: row.at })
      .returning(COLUMNS);
    return out;
  }

  async update(db: Db, tenantId: string, key: string, set: { name?: string; description?: string | null }, at: Date): Promise<ServiceRow | undefined> {
    const [out] = await db('services').where({ tenant_id: tenantId, key }).update({ ...set, updated_at: at }).returning(COLUMNS);
    return out;
  }

  async delete(db: Db, tenantId: string, key: string): Promise<void> {
    await db('services').where({ tenant_id: tenantId, key }).delete();
  }

  /**
   * Takes the service `key` away from every user who has it: the matching elements leave
   * `entitlements` in both `data` and `folded` (the attribute goes when nothing is left, as
   * normalization does), and `version` and `updated_at` move so ETags and lastModified change.
   * The containment test on `folded` (values of caseExact=false attributes are lower-cased there)
   * lets the GIN index on (tenant_id, folded) find the users. Returns the users changed, with
   * what is left of their entitlements (undefined: none).
   */
  async detachUsers(db: Db, tenantId: string, key: string, at: Date): Promise<{ id: string; entitlements?: unknown[] }[]> {
    const kept = (col: string) =>
      `(SELECT coalesce(jsonb_agg(x.e ORDER BY x.i), '[]'::jsonb) FROM jsonb_array_elements(u.${col} -> 'entitlements') WITH ORDINALITY AS x(e, i) WHERE NOT ${isService('x.e', 'k.key')})`;
    const strip = (col: string) => `CASE WHEN ${kept(col)} = '[]'::jsonb THEN u.${col} - 'entitlements' ELSE jsonb_set(u.${col}, '{entitlements}', ${kept(col)}) END`;
    const res = await db.raw(
      `WITH k AS (SELECT ?::text AS key)
       UPDATE users u
          SET data = ${strip('data')}, folded = ${strip('folded')}, version = u.version + 1, updated_at = ?
         FROM k
        WHERE u.tenant_id = ? AND u.folded @> ?::jsonb
          AND jsonb_typeof(u.data -> 'entitlements') = 'array'
          AND EXISTS (SELECT 1 FROM jsonb_array_elements(u.data -> 'entitlements') AS y(e) WHERE ${isService('y.e', 'k.key')})
       RETURNING u.id, u.data -> 'entitlements' AS entitlements`,
      [key, at, tenantId, JSON.stringify({ entitlements: [{ value: key }] })],
    );
    return res.rows.map((r: { id: string; entitlements: unknown[] | string | null }) => ({
      id: r.id,
      entitlements: r.entitlements === null ? undefined : typeof r.entitlements === 'string' ? JSON.parse(r.entitlements) : r.entitlements,
    }));
  }
}

// Price lists (issue 4, "Price lists"): each tenant has its lists, exactly one of them the
// default (migrations/0003_price_lists_audit.ts: a partial unique index keeps it to one, another
// keeps names unique per tenant case-insensitively). Every function takes the tenant and runs in
// the caller's transaction — opened by inTenant (store/scope.ts), or asOwner when a tenant is born.
import type { Db } from './scope';
import { isUuid } from '../scim/members';

/** The Provisio User extension, where a user's `priceList` (a list id) lives. */
import { PROVISIO_USER_URN } from '../scim/urns';

export const DEFAULT_PRICE_LIST_NAME = 'Standard';

export interface PriceListRow {
  id: string;
  name: string;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['id', 'name', 'is_default', 'created_at', 'updated_at'];

/**
 * Whether `id` names one of the tenant's price lists. For validating a user's `priceList` inside
 * the tenant transaction that writes the user: the row is locked FOR KEY SHARE until that
 * transaction ends, so a concurrent delete of the list waits for the user write and then moves
 * that user to the default too — a user never keeps the id of a deleted list. A value that is
 * not a UUID is simply not a list (no failed cast, which would abort the caller's transaction).
 */
export async function priceListExists(trx: Db, tenantId: string, id: unknown): Promise<boolean> {
  if (!isUuid(id)) return false;
  const res = await trx.raw('SELECT 1 FROM price_lists WHERE tenant_id = ? AND id = ? FOR KEY SHARE', [tenantId, id.toLowerCase()]);
  return res.rows.length > 0;
}

/** The tenant's default price list (the one that applies to a user without `priceList`). */
export async function defaultPriceList(trx: Db, tenantId: string): Promise<{ id: string; name: string } | undefined> {
  return trx('price_lists').where({ tenant_id: tenantId, is_default: true }).first(['id', 'name']);
}

export class PriceListsRepo {
  async list(db: Db, tenantId: string): Promise<PriceListRow[]> {
    // The default first, then by name: the order a console shows.
    return db('price_lists').where({ tenant_id: tenantId }).orderBy([{ column: 'is_default', order: 'desc' }, { column: 'name' }, { column: 'id' }]).select(COLUMNS);
  }

  async get(db: Db, tenantId: string, id: string): Promise<PriceListRow | undefined> {
    if (!isUuid(id)) return undefined;
    return db('price_lists').where({ tenant_id: tenantId, id: id.toLowerCase() }).first(COLUMNS);
  }

  /**
   * Locks every list of the tenant for the rest of the transaction, so changes of the default,
   * renames and deletes are serialized per tenant (a tenant has a handful of lists). `UPDATE` for a
   * delete, which must also wait for user writes that validated the list (priceListExists).
   */
  async lockAll(db: Db, tenantId: string, mode: 'NO KEY UPDATE' | 'UPDATE'): Promise<void> {
    await db.raw(`SELECT id FROM price_lists WHERE tenant_id = ? ORDER BY id FOR ${mode}`, [tenantId]);
  }

  /** Whether another list of the tenant has this name, compared case-insensitively. */
  async nameTaken(db: Db, tenantId: string, name: string, exceptId?: string): Promise<boolean> {
    const q = db('price_lists').where({ tenant_id: tenantId }).whereRaw('lower(name) = lower(?)', [name]);
    if (exceptId) q.andWhereNot({ id: exceptId });
    return !!(await q.first('id'));
  }

  async insert(db: Db, tenantId: string, row: { id: string; name: string; isDefault?: boolean; at?: Date }): Promise<PriceListRow> {
    const [out] = await db('price_lists')
      .insert({
        tenant_id: tenantId,
        id: row.id,
        name: row.name,
        is_default: row.isDefault === true,
        ...(row.at ? { created_at: row.at, updated_at: row.at } : {}),
      })
      .returning(COLUMNS);
    return out;
  }

  async rename(db: Db, tenantId: string, id: string, name: string, at: Date): Promise<void> {
    await db('price_lists').where({ tenant_id: tenantId, id }).update({ name, updated_at: at });
  }

  /**
   * Makes `id` the default. Two statements in this order: the one-default index is checked row by
   * row, so the previous default must lose the flag before the new one gets it. Callers hold
   * lockAll, so two concurrent changes cannot interleave.
   */
  async makeDefault(db: Db, tenantId: string, id: string, at: Date): Promise<void> {
    await db('price_lists').where({ tenant_id: tenantId, is_default: true }).whereNot({ id }).update({ is_default: false, updated_at: at });
    await db('price_lists').where({ tenant_id: tenantId, id, is_default: false }).update({ is_default: true, updated_at: at });
  }

  async delete(db: Db, tenantId: string, id: string): Promise<void> {
    await db('price_lists').where({ tenant_id: tenantId, id }).delete();
  }

  /**
   * Moves the users of list `id` to the default: removes `priceList` from their Provisio extension
   * in both `data` and `folded` (dropping the extension when nothing else is left in it, as
   * normalization does), and bumps `version` and `updated_at` so ETags and lastModified change.
   * The id is compared case-insensitively (the attribute is caseExact, a client may send capitals).
   * Returns the ids of the users moved.
   */
  async detachUsers(db: Db, tenantId: string, id: string, at: Date): Promise<string[]> {
    const strip = (col: string) =>
      `CASE WHEN ${col} -> '${PROVISIO_USER_URN}' IS NULL THEN ${col}
            WHEN (${col} -> '${PROVISIO_USER_URN}') - 'priceList' = '{}'::jsonb
            THEN ${col} - '${PROVISIO_USER_URN}'
            ELSE jsonb_set(${col}, '{${PROVISIO_USER_URN}}', (${col} -> '${PROVISIO_USER_URN}') - 'priceList') END`;
    const res = await db.raw(
      `UPDATE users
          SET data = ${strip('data')}, folded = ${strip('folded')}, version = version + 1, updated_at = ?
        WHERE tenant_id = ? AND lower(data -> '${PROVISIO_USER_URN}' ->> 'priceList') = ?
       RETURNING id`,
      [at, tenantId, id.toLowerCase()],
    );
    return res.rows.map((r: { id: string }) => r.id);
  }
}

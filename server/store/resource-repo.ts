// One repository for every SCIM resource table (users, groups): insert, read, replace, delete
// and list with filter, sort and both paging methods. Every call takes the tenant first and every
// statement filters on it. Rows keep the canonical resource in `data` and its case-folded copy in
// `folded` (store/filter-sql.ts explains why).
import type { Knex } from 'knex';
import { invalidCursor } from '../errors';
import { Filter } from '../scim/filter';
import { JsonObject } from '../scim/normalize';
import { FilterCompiler, isUuid, Sql, TableMap } from './filter-sql';

export interface ResourceRow {
  id: string;
  data: JsonObject;
  version: string;
  created_at: Date;
  updated_at: Date;
  [column: string]: unknown;
}

export interface TableSpec {
  table: string;
  map: TableMap;
  /** Columns selected besides id, data, version and timestamps. */
  extraColumns: string[];
}

export interface ListSpec {
  filter?: Filter;
  sortBy?: string;
  descending: boolean;
  /** Index paging: 0-based offset and limit. */
  offset?: number;
  limit: number;
  /** Keyset paging: continue after/before this (sort key text, id). */
  after?: { dir: 'next' | 'prev'; key: [string | null, string] };
  /** Skip the count query (cursor pages after the first). */
  withTotal: boolean;
}

export interface ListResult {
  rows: (ResourceRow & { __sort: string | null })[];
  total?: number;
  /** Keyset paging: whether rows exist beyond the page in the direction travelled. */
  more: boolean;
}

const SENTINEL: Record<string, string> = { text: "''", timestamptz: "'epoch'::timestamptz", numeric: '0', boolean: 'false' };

/** PostgreSQL's ISO text form of a timestamptz, as `(expr)::text` writes it into a cursor key. */
const PG_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

/**
 * Whether a keyset position can be bound to the query without a database error. The cursor is
 * client input (RFC 9865 §2: opaque, but echoed back by the client): a forged id or sort value
 * must be 400 invalidCursor, never a failed cast (500).
 */
function validKey(kind: string, sorted: boolean, [value, id]: [string | null, string]): boolean {
  if (!isUuid(id)) return false;
  if (!sorted || value === null) return true;
  if (typeof value !== 'string' || value.includes('\u0000')) return false;
  switch (kind) {
    case 'timestamptz': {
      const m = PG_TIMESTAMP.exec(value);
      if (!m) return false;
      const [y, mo, d, hh, mi, ss] = m.slice(1, 7).map(Number);
      const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
      return y >= 1 && mo >= 1 && mo <= 12 && d >= 1 && d <= days && hh <= 23 && mi <= 59 && ss <= 59;
    }
    case 'numeric':
      return /^-?\d+(\.\d+)?$/.test(value);
    case 'boolean':
      return value === 'true' || value === 'false';
    default:
      return true;
  }
}

export class ResourceRepo {
  readonly compiler: FilterCompiler;

  constructor(
    readonly spec: TableSpec,
    compiler: FilterCompiler,
  ) {
    this.compiler = compiler;
  }

  private get cols(): string {
    const a = this.spec.map.alias;
    return [`${a}.id`, `${a}.data`, `${a}.version`, `${a}.created_at`, `${a}.updated_at`, ...this.spec.extraColumns.map((c) => `${a}.${c}`)].join(', ');
  }

  async insert(db: Knex | Knex.Transaction, tenantId: string, row: Record<string, unknown>): Promise<ResourceRow> {
    const [inserted] = await db(this.spec.table)
      .insert({ ...row, tenant_id: tenantId })
      .returning(['id', 'data', 'version', 'created_at', 'updated_at', ...this.spec.extraColumns]);
    return inserted as ResourceRow;
  }

  async get(db: Knex | Knex.Transaction, tenantId: string, id: string, forUpdate = false): Promise<ResourceRow | undefined> {
    const a = this.spec.map.alias;
    const res = await db.raw(
      `SELECT ${this.cols} FROM ${this.spec.table} AS ${a} WHERE ${a}.tenant_id = ? AND ${a}.id = ?${forUpdate ? ' FOR UPDATE' : ''}`,
      [tenantId, id],
    );
    return res.rows[0];
  }

  /** Replaces the row's data; bumps version and updated_at. Returns undefined when it is gone. */
  async update(db: Knex | Knex.Transaction, tenantId: string, id: string, set: Record<string, unknown>, now: Date): Promise<ResourceRow | undefined> {
    const rows = await db(this.spec.table)
      .where({ tenant_id: tenantId, id })
      .update({ ...set, version: db.raw('version + 1'), updated_at: now })
      .returning(['id', 'data', 'version', 'created_at', 'updated_at', ...this.spec.extraColumns]);
    return rows[0] as ResourceRow | undefined;
  }

  async delete(db: Knex | Knex.Transaction, tenantId: string, id: string): Promise<boolean> {
    const n = await db(this.spec.table).where({ tenant_id: tenantId, id }).delete();
    return n > 0;
  }

  async list(db: Knex | Knex.Transaction, tenantId: string, spec: ListSpec): Promise<ListResult> {
    const a = this.spec.map.alias;
    const where: Sql[] = [{ sql: `${a}.tenant_id = ?`, bindings: [tenantId] }];
    if (spec.filter) where.push(this.compiler.compile(spec.filter, tenantId));
    const whereSql = where.map((w) => w.sql).join(' AND ');
    const whereBindings = where.flatMap((w) => w.bindings);

    const count = async () => {
      const c = await db.raw(`SELECT count(*)::bigint AS n FROM ${this.spec.table} AS ${a} WHERE ${whereSql}`, whereBindings);
      return Number(c.rows[0].n);
    };
    if (spec.withTotal && spec.limit === 0) return { rows: [], total: await count(), more: false };

    // Order: (sort value is null, sort value, id) — a total order, so pages are stable (Okta
    // requires stable order across pages) and keyset positions are unambiguous.
    let keyExprs: string[];
    let keyKind = 'text';
    let sortText = 'NULL::text';
    if (spec.sortBy) {
      const s = this.compiler.sortExpression(spec.sortBy);
      keyKind = s.kind;
      sortText = `(${s.sql})::text`;
      keyExprs = [`((${s.sql}) IS NULL)`, `COALESCE(${s.sql}, ${SENTINEL[s.kind]})`, `${a}.id`];
    } else {
      keyExprs = [`${a}.id`];
    }
    // Walking backwards (a previous-page cursor) reverses the order; the page is flipped afterwards.
    const backwards = spec.after?.dir === 'prev';
    const desc = spec.descending !== backwards;
    const orderBy = keyExprs.map((k) => `${k} ${desc ? 'DESC' : 'ASC'}`).join(', ');

    let keyset: Sql | undefined;
    if (spec.after) {
      if (!validKey(keyKind, !!spec.sortBy, spec.after.key)) {
        throw invalidCursor('The cursor is not one this server issued; send an empty cursor for the first page');
      }
      const [sortVal, id] = spec.after.key;
      const cmp = desc ? '<' : '>';
      if (spec.sortBy) {
        keyset = {
          sql: `(${keyExprs.join(', ')}) ${cmp} (?, COALESCE(?::${keyKind}, ${SENTINEL[keyKind]}), ?::uuid)`,
          bindings: [sortVal === null, sortVal, id],
        };
      } else {
        keyset = { sql: `${a}.id ${cmp} ?::uuid`, bindings: [id] };
      }
    }
    const pageWhere = keyset ? `${whereSql} AND ${keyset.sql}` : whereSql;
    const pageBindings = keyset ? [...whereBindings, ...keyset.bindings] : whereBindings;
    const fetch = spec.after !== undefined || spec.offset === undefined ? spec.limit + 1 : spec.limit;
    const offset = spec.offset ? Math.floor(spec.offset) : 0;
    const res = await db.raw(
      `SELECT ${this.cols}, ${sortText} AS __sort FROM ${this.spec.table} AS ${a} WHERE ${pageWhere} ORDER BY ${orderBy} LIMIT ${fetch}${offset ? ' OFFSET ?::bigint' : ''}`,
      offset ? [...pageBindings, String(offset)] : pageBindings,
    );
    let rows = res.rows as ListResult['rows'];
    const more = rows.length > spec.limit;
    if (more) rows = rows.slice(0, spec.limit);
    if (backwards) rows.reverse();
    let total: number | undefined;
    if (spec.withTotal) {
      // A page that is not full and not empty ends the result, so the total is known without a
      // count: the common IdP lookup (filter userName eq …) costs one query, not two.
      const unpaged = spec.after === undefined;
      if (unpaged && rows.length < spec.limit && (rows.length > 0 || !offset)) total = offset + rows.length;
      else total = await count();
    }
    return { rows, total, more };
  }
}

// One repository for every SCIM resource table (users, groups): insert, read, replace, delete
// and list with filter, sort and both paging methods. Every call takes the tenant first and every
// statement filters on it. Rows keep the canonical resource in `data` and its case-folded copy in
// `folded` (store/filter-sql.ts explains why).
import type { Knex } from 'knex';
import { invalidCursor } from '../errors';
import { Filter } from '../scim/filter';
import { JsonObject } from '../scim/normalize';
import { FilterCompiler, isUuid, MembershipCompiler, Sql, TableMap } from './filter-sql';
import { StatementNames } from './prepared';
import type { AlongStatement } from './audit-repo';

export interface ResourceRow {
  id: string;
  data: JsonObject;
  version: string;
  created_at: Date;
  updated_at: Date;
  /**
   * On an inserted row: the tenant's `config_version` read by the INSERT itself (store/tenant-config.ts
   * trusts its cache for exactly that version).
   */
  __config_version?: string;
  /**
   * The memberships asked for with `memberships` (MembershipCompiler.listed: a JSON array, null
   * when there are none); undefined when they were not selected.
   */
  __memberships?: unknown;
  [column: string]: unknown;
}

export interface TableSpec {
  table: string;
  map: TableMap;
  /** Columns selected besides id, data, version and timestamps. */
  extraColumns: string[];
  /**
   * The name the table's rows are counted under in resource_counts (migration 0023, kept by
   * triggers): an unfiltered total the credential sees whole is read there, not counted.
   */
  counted?: string;
  /**
   * The name a reference to one of its rows displays (RFC 7643 §2.4 `display`), resolved on read
   * by resources/references.ts: the JSON attribute `attribute` when set, else the column.
   */
  display: { attribute?: string; column: string };
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
  /** Only rows the credential may see (store/visibility.ts); counts and pages alike. */
  visible?: Sql;
  /** Also select this membership attribute when its SQL can be (ResourceRow.__memberships). */
  memberships?: string;
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

/** A column name from our own code, quoted; anything else is a programming error. */
function column(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a column name: ${name}`);
  return `"${name}"`;
}

/** The entries whose value is not undefined (knex's builder, used before, skipped those too). */
function definedEntries(row: Record<string, unknown>): [string, unknown][] {
  return Object.entries(row).filter(([, v]) => v !== undefined);
}

export class ResourceRepo {
  readonly compiler: FilterCompiler;
  /** Reads by id and lookup or cursor pages; a few texts each (LIMIT varies with `count`). */
  private readonly prepared = new StatementNames(64);

  constructor(
    readonly spec: TableSpec,
    compiler: FilterCompiler,
  ) {
    this.compiler = compiler;
  }

  /** The display name's SQL over the table's alias. */
  private get displaySql(): string {
    const a = this.spec.map.alias;
    const d = this.spec.display;
    if (d.attribute !== undefined && !/^[A-Za-z][A-Za-z0-9]*$/.test(d.attribute)) throw new Error(`not an attribute name: ${d.attribute}`);
    return d.attribute ? `COALESCE(${a}.data ->> '${d.attribute}', ${a}.${column(d.column)})` : `${a}.${column(d.column)}`;
  }

  private get cols(): string {
    const a = this.spec.map.alias;
    return [`${a}.id`, `${a}.data`, `${a}.version`, `${a}.created_at`, `${a}.updated_at`, ...this.spec.extraColumns.map((c) => `${a}.${c}`)].join(', ');
  }

  /** The columns every write returns. */
  private get returning(): string {
    return ['id', 'data', 'version', 'created_at', 'updated_at', ...this.spec.extraColumns].join(', ');
  }

  /**
   * Inserts a row (undefined values take the column's default). Plain SQL and a prepared statement
   * rather than knex's query builder, whose compilation was ~3 % of the CPU of POST /Users.
   *
   * `along`: writes that belong with this one (its audit entry, AuditRepo.entryStatement), run as
   * CTEs of the same statement: one round trip instead of one each. They see the same snapshot
   * and cannot refer to the new row by reading it (they are given its values). The row comes back
   * with the tenant's `config_version` as `__config_version`, read in the same statement, so the
   * create's later steps can trust a cache of that version (store/tenant-config.ts) without asking
   * again. docs/performance.md, "Fewer round trips per create".
   */
  async insert(db: Knex | Knex.Transaction, tenantId: string, row: Record<string, unknown>, along: AlongStatement[] = []): Promise<ResourceRow> {
    const values = definedEntries({ ...row, tenant_id: tenantId });
    const ctes = along.length ? `WITH ${along.map((a, i) => `along${i} AS (${a.sql})`).join(', ')} ` : '';
    const res = await this.prepared.raw(
      db,
      `${ctes}INSERT INTO ${this.spec.table} (${values.map(([k]) => column(k)).join(', ')}) VALUES (${values.map(() => '?').join(', ')}) RETURNING ${this.returning}, (SELECT t.config_version::text FROM tenants t WHERE t.id = ?) AS __config_version`,
      [...along.flatMap((a) => a.bindings as Knex.RawBinding[]), ...values.map(([, v]) => v as Knex.RawBinding), tenantId],
    );
    return res.rows[0] as ResourceRow;
  }

  /**
   * The columns of a row plus, when asked and the attribute has SQL for it, its memberships as
   * `__memberships`; the bindings belong before the statement's others.
   */
  private selectList(tenantId: string, memberships: string | undefined): Sql {
    const listed = memberships ? this.spec.map.memberships?.[memberships]?.listed : undefined;
    if (!listed) return { sql: this.cols, bindings: [] };
    const sub = listed(this.spec.map.alias, tenantId);
    return { sql: `${this.cols}, ${sub.sql} AS __memberships`, bindings: sub.bindings };
  }

  async get(db: Knex | Knex.Transaction, tenantId: string, id: string, forUpdate = false, memberships?: string): Promise<ResourceRow | undefined> {
    const a = this.spec.map.alias;
    const select = this.selectList(tenantId, memberships);
    const res = await this.prepared.raw(
      db,
      `SELECT ${select.sql} FROM ${this.spec.table} AS ${a} WHERE ${a}.tenant_id = ? AND ${a}.id = ?${forUpdate ? ' FOR UPDATE' : ''}`,
      [...select.bindings, tenantId, id],
    );
    return res.rows[0];
  }

  /** Replaces the row's data; bumps version and updated_at. Returns undefined when it is gone. */
  async update(db: Knex | Knex.Transaction, tenantId: string, id: string, set: Record<string, unknown>, now: Date): Promise<ResourceRow | undefined> {
    const q = this.updateSql(tenantId, id, set, now);
    const res = await this.prepared.raw(db, q.sql, q.bindings);
    return res.rows[0] as ResourceRow | undefined;
  }

  /**
   * update()'s version bump alone (version and updated_at) as a fragment to compose into a larger
   * statement, applied only where `when` holds (SQL over the statement's other parts): a membership
   * PATCH bumps its group and records the change in one statement (store/members-repo.ts
   * addUsersAndRecord). The row comes back as update() returns it.
   */
  bumpSql(tenantId: string, id: string, now: Date, when: string): Sql {
    return this.updateSql(tenantId, id, {}, now, when);
  }

  private updateSql(tenantId: string, id: string, set: Record<string, unknown>, now: Date, when?: string): Sql {
    const values = definedEntries({ ...set, updated_at: now });
    const assignments = values.map(([k]) => `${column(k)} = ?`).join(', ');
    return {
      sql: `UPDATE ${this.spec.table} SET ${assignments}, version = version + 1 WHERE tenant_id = ? AND id = ?${when ? ` AND (${when})` : ''} RETURNING ${this.returning}`,
      bindings: [...values.map(([, v]) => v as Knex.RawBinding), tenantId, id],
    };
  }

  /**
   * The display names of those of these ids that are rows of the tenant (the others are absent).
   * `lock`: keep them from being deleted until the transaction ends (FOR KEY SHARE, what a foreign
   * key takes), so a reference checked here cannot dangle: a delete already under way makes this
   * wait and then find the row gone; one that comes after waits for the reference to commit and
   * then drops it (resources/references.ts).
   */
  async displays(db: Knex | Knex.Transaction, tenantId: string, ids: string[], lock = false): Promise<Map<string, string | null>> {
    const wanted = [...new Set(ids.filter(isUuid).map((i) => i.toLowerCase()))];
    if (!wanted.length) return new Map();
    const a = this.spec.map.alias;
    const res = await db.raw(
      `SELECT ${a}.id, ${this.displaySql} AS display FROM ${this.spec.table} AS ${a} WHERE ${a}.tenant_id = ? AND ${a}.id = ANY(?::uuid[])${lock ? ` FOR KEY SHARE OF ${a}` : ''}`,
      [tenantId, wanted],
    );
    return new Map((res.rows as { id: string; display: string | null }[]).map((r) => [r.id, r.display]));
  }

  /**
   * The rows whose reference attribute `attribute` (a core complex attribute, multi-valued or
   * not) names `id` in its `value`, locked for the transaction: the resources that change when the
   * resource `id` is deleted. A containment test, so the GIN index on `folded` can answer it.
   */
  async referencing(db: Knex | Knex.Transaction, tenantId: string, attribute: string, multiValued: boolean, id: string): Promise<ResourceRow[]> {
    const a = this.spec.map.alias;
    const doc = { [attribute]: multiValued ? [{ value: id.toLowerCase() }] : { value: id.toLowerCase() } };
    const res = await db.raw(`SELECT ${this.cols} FROM ${this.spec.table} AS ${a} WHERE ${a}.tenant_id = ? AND ${a}.folded @> ?::jsonb ORDER BY ${a}.id FOR UPDATE`, [tenantId, JSON.stringify(doc)]);
    return res.rows as ResourceRow[];
  }

  /**
   * The elements of the multi-valued reference attribute `attribute` that name one of `ids`, with
   * the row holding them and its display name: the read-only inverse of a reference (an agent's
   * `applications` from the applications' `agents`).
   */
  async referencesTo(
    db: Knex | Knex.Transaction,
    tenantId: string,
    attribute: string,
    ids: string[],
  ): Promise<{ id: string; value: string; type: string | null; display: string | null }[]> {
    const wanted = [...new Set(ids.map((i) => i.toLowerCase()))];
    if (!wanted.length) return [];
    const a = this.spec.map.alias;
    const res = await db.raw(
      `SELECT ${a}.id, e ->> 'value' AS value, e ->> 'type' AS type, ${this.displaySql} AS display
         FROM ${this.spec.table} AS ${a}, jsonb_array_elements(CASE WHEN jsonb_typeof(${a}.data -> ?) = 'array' THEN ${a}.data -> ? ELSE '[]'::jsonb END) AS e
        WHERE ${a}.tenant_id = ? AND e ->> 'value' = ANY(?::text[])
        ORDER BY ${a}.id`,
      [attribute, attribute, tenantId, wanted],
    );
    return res.rows;
  }

  async delete(db: Knex | Knex.Transaction, tenantId: string, id: string): Promise<boolean> {
    const n = await db(this.spec.table).where({ tenant_id: tenantId, id }).delete();
    return n > 0;
  }

  async list(db: Knex | Knex.Transaction, tenantId: string, spec: ListSpec): Promise<ListResult> {
    const a = this.spec.map.alias;
    const where: Sql[] = [{ sql: `${a}.tenant_id = ?`, bindings: [tenantId] }];
    if (spec.filter) where.push(this.compiler.compile(spec.filter, tenantId));
    if (spec.visible) where.push(spec.visible);
    const whereSql = where.map((w) => w.sql).join(' AND ');
    const whereBindings = where.flatMap((w) => w.bindings);

    const count = async () => {
      // No filter and nothing hidden from the credential: the tenant's kept count, a sum of at most
      // 16 rows read by primary key, instead of reading every row (test/api/resource-counts.test.ts).
      const c =
        this.spec.counted && !spec.filter && !spec.visible
          ? await db.raw('SELECT COALESCE(sum(n), 0)::bigint AS n FROM resource_counts WHERE tenant_id = ? AND resource = ?', [tenantId, this.spec.counted])
          : await db.raw(`SELECT count(*)::bigint AS n FROM ${this.spec.table} AS ${a} WHERE ${whereSql}`, whereBindings);
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
    // Memberships are computed for every row the Limit reads, so for OFFSET pages also for each
    // skipped row: there the caller reads them for the page's rows afterwards instead. (With a
    // Sort and no OFFSET, PostgreSQL computes them above the Sort, for the page's rows only.)
    const select = this.selectList(tenantId, offset ? undefined : spec.memberships);
    const pageSql = `SELECT ${select.sql}, ${sortText} AS __sort FROM ${this.spec.table} AS ${a} WHERE ${pageWhere} ORDER BY ${orderBy} LIMIT ${fetch}${offset ? ' OFFSET ?::bigint' : ''}`;
    const pageValues = [...select.bindings, ...pageBindings, ...(offset ? [String(offset)] : [])];
    // Prepared only where one plan suits every value: a key-ordered page with no filter or an
    // indexed lookup, without OFFSET (a generic plan would guess the offset), sortBy, or a
    // sub-account's visibility condition (its best join depends on the size of the subtree).
    const prepare = !offset && !spec.sortBy && !spec.visible && (!spec.filter || this.compiler.isIndexedLookup(spec.filter));
    const res = await (prepare ? this.prepared.raw(db, pageSql, pageValues) : db.raw(pageSql, pageValues));
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

/**
 * Filters on the read-only inverse of a reference (an agent's `applications`, the applications
 * whose `agents` name it; resources/references.ts): `applications.value eq "<id>"` is "the agents
 * that application names", `applications pr` "named by any". `source` is the referring table,
 * `attribute` its multi-valued reference attribute; values there are canonical lower-case ids.
 */
export function inverseReferenceCompiler(source: string, attribute: string): MembershipCompiler {
  const table = column(source);
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(attribute)) throw new Error(`not an attribute name: ${attribute}`);
  const elements = `jsonb_array_elements(CASE WHEN jsonb_typeof(x.folded -> '${attribute}') = 'array' THEN x.folded -> '${attribute}' ELSE '[]'::jsonb END) AS e`;
  return {
    hasValue: (alias, tenantId, id) => ({
      sql: `(${alias}.id::text IN (SELECT e ->> 'value' FROM ${table} AS x, ${elements} WHERE x.tenant_id = ? AND x.id = ?::uuid AND e ->> 'value' IS NOT NULL))`,
      bindings: [tenantId, id],
    }),
    present: (alias, tenantId) => ({
      sql: `EXISTS (SELECT 1 FROM ${table} AS x, ${elements} WHERE x.tenant_id = ? AND e ->> 'value' = ${alias}.id::text)`,
      bindings: [tenantId],
    }),
  };
}

// Compiles a parsed SCIM filter (scim/filter.ts) and sortBy into parameterised SQL over a
// resource table (RFC 7644 §3.4.2.2, §3.4.2.3). Nothing is ever evaluated in memory: an
// attribute or operator we cannot translate is 400 invalidFilter, never "all rows".
//
// Storage (migrations/0001_init.ts): each resource row has `data` (canonical JSON) and `folded`
// (the same with caseExact=false strings lower-cased). `eq` becomes a `folded @> {...}` containment
// served by the GIN index (tenant_id, folded); hot attributes map to btree-indexed columns.
// Table-tested in test/unit/filter-sql.test.ts and against both databases in test/api.
import type { Knex } from 'knex';
import { invalidFilter } from '../errors';
import { CompValue, Filter } from '../scim/filter';
import { isUuid } from '../scim/members';
import { AttributeDef, ResolvedPath, ResourceSchema } from '../scim/schema';

export interface Sql {
  sql: string;
  bindings: Knex.RawBinding[];
}

/** text_ci: a column holding the lower-cased text (caseExact=false attributes). */
type ColumnType = 'text' | 'text_ci' | 'uuid' | 'timestamptz' | 'boolean';

/** How one resource type is laid out in SQL; `alias` is the table alias used in the query. */
export interface TableMap {
  alias: string;
  /**
   * Attribute paths served by a real column, lower-case: core attributes without their URN
   * ("username", "meta.created"), extension attributes as "<urn>:<name>" (values the server keeps
   * in columns, such as computed readOnly extension attributes).
   */
  columns: Record<string, { column: string; type: ColumnType }>;
  /** Multi-valued attributes answered from membership tables rather than JSON. */
  memberships?: Record<string, MembershipCompiler>;
  /**
   * Extension URNs whose data the server computes for every row (ResourceKind.computed), so every
   * representation lists them in `schemas` whatever `folded` holds.
   */
  computedExtensions?: string[];
  /**
   * Core multi-valued attributes whose `value` (and `type`) are kept in an indexed side table,
   * by attribute name lower-case (users' `emails`, store/user-emails.ts): `eq` on them is an
   * index probe rather than a containment test that row-level security keeps off the GIN index.
   */
  valueIndexes?: Record<string, ValueIndexCompiler>;
}

/** Compiles `emails eq X`, `emails.value eq X` and `emails[type eq T and value eq X]` to a side table. */
export interface ValueIndexCompiler {
  /** SQL true when the resource (alias) has an element with this folded value (and type, when given). */
  hasValue(alias: string, tenantId: string, value: string, type?: string): Sql;
}

/** Compiles `members.value eq X`, `groups.value eq X` and `pr` for membership-backed attributes. */
export interface MembershipCompiler {
  /** SQL that is true when the resource (table alias `alias`) has a member/group with this id. */
  hasValue(alias: string, tenantId: string, id: string): Sql;
  /** SQL that is true when the resource has any member/group. */
  present(alias: string, tenantId: string): Sql;
  /**
   * Optional: a scalar subquery listing the resource's memberships as a JSON array of
   * `[id, display, depth]` (depth 0: direct), ordered as returned. A list or read selects it with
   * the rows (store/resource-repo.ts), saving the separate memberships query.
   */
  listed?(alias: string, tenantId: string): Sql;
}

export { isUuid };

const TRUE: Sql = { sql: 'TRUE', bindings: [] };
const FALSE: Sql = { sql: 'FALSE', bindings: [] };

/**
 * Logical negation that is two-valued. A comparison with an absent value (a NULL column, a missing
 * JSON key) is SQL "unknown", and `NOT unknown` is unknown, which drops the row; RFC 7644 §3.4.2.2
 * defines `not` as "the filter is not matched", so an absent value must match `not (x eq "y")`.
 */
function negate(s: Sql): Sql {
  if (s === TRUE) return FALSE;
  if (s === FALSE) return TRUE;
  return { sql: `(${s.sql} IS NOT TRUE)`, bindings: s.bindings };
}

/** OR of alternatives, folding the constants. */
function disjunction(parts: Sql[]): Sql {
  if (parts.includes(TRUE)) return TRUE;
  const rest = parts.filter((p) => p !== FALSE);
  if (!rest.length) return FALSE;
  if (rest.length === 1) return rest[0];
  return { sql: `(${rest.map((p) => p.sql).join(' OR ')})`, bindings: rest.flatMap((p) => p.bindings) };
}

/** A comparison between two strings known when compiling (schema URNs, the resource type name). */
function compareConstant(op: string, actual: string, value: string): boolean {
  switch (op) {
    case 'eq':
      return actual === value;
    case 'ne':
      return actual !== value;
    case 'co':
      return actual.includes(value);
    case 'sw':
      return actual.startsWith(value);
    case 'ew':
      return actual.endsWith(value);
    case 'gt':
      return actual > value;
    case 'ge':
      return actual >= value;
    case 'lt':
      return actual < value;
    case 'le':
      return actual <= value;
  }
  throw invalidFilter(`Unsupported operator "${op}"`);
}

/** Escapes LIKE wildcards so `co "50%"` means the characters, not a pattern. */
export const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => '\\' + c);

function jsonPath(parts: string[]): string {
  // A text[] literal for #> / #>>: quote every element so URNs with colons and dots are safe.
  return '{' + parts.map((p) => '"' + p.replace(/["\\]/g, (c) => '\\' + c) + '"').join(',') + '}';
}

/** A nested object `{a: {b: value}}` for containment. */
function nest(parts: string[], leaf: unknown): unknown {
  return parts.reduceRight((acc, key) => ({ [key]: acc }), leaf);
}

export class FilterCompiler {
  /** The tenant of the compile() call in progress (compilation is synchronous). */
  private tenant = '';

  constructor(
    private readonly schema: ResourceSchema,
    private readonly table: TableMap,
  ) {}

  private get a() {
    return this.table.alias;
  }

  /** Compiles a filter for one tenant's rows (membership subqueries are scoped to it). */
  compile(filter: Filter, tenantId: string): Sql {
    const previous = this.tenant;
    this.tenant = tenantId;
    try {
      return this.node(filter);
    } finally {
      this.tenant = previous;
    }
  }

  /**
   * True for the lookups IdPs send before every write (`userName eq "…"`, `externalId eq "…"`,
   * `id eq "…"`, `displayName eq "…"`): one equality on an indexed column, planned as the same
   * index lookup whatever the value, so its statement may be prepared once (store/prepared.ts).
   */
  isIndexedLookup(filter: Filter): boolean {
    if (filter.kind !== 'compare' || filter.op !== 'eq' || typeof filter.value !== 'string') return false;
    const r = this.schema.resolve(filter.path);
    const column = r && this.columnFor(r);
    if (!r || !column) return false;
    return column.type === 'uuid' || column.type === 'text_ci' || (!r.sub && r.attribute.name === 'externalId');
  }

  private node(filter: Filter): Sql {
    switch (filter.kind) {
      case 'and':
      case 'or': {
        const l = this.node(filter.left);
        const r = this.node(filter.right);
        return { sql: `(${l.sql} ${filter.kind.toUpperCase()} ${r.sql})`, bindings: [...l.bindings, ...r.bindings] };
      }
      case 'not':
        return negate(this.node(filter.filter));
      case 'present':
      case 'compare':
        return this.attrExp(filter.path, filter);
      case 'valuePath':
        return this.valuePath(filter.path, filter.filter);
    }
  }

  private resolve(path: string): ResolvedPath {
    const r = this.schema.resolve(path);
    if (!r) throw invalidFilter(`Unknown attribute "${path}" for ${this.schema.resourceType.name}`);
    const leaf = ResourceSchema.leaf(r);
    if (leaf.returned === 'never' || leaf.mutability === 'writeOnly') {
      throw invalidFilter(`Attribute "${path}" cannot be filtered on`);
    }
    return r;
  }

  /** The path inside the stored JSON of a resolved attribute (extension objects are keyed by URN). */
  private jsonParts(r: ResolvedPath): string[] {
    const parts = r.extension ? [r.schema, r.attribute.name] : [r.attribute.name];
    if (r.sub) parts.push(r.sub.name);
    return parts;
  }

  private columnFor(r: ResolvedPath) {
    const name = r.sub ? `${r.attribute.name}.${r.sub.name}` : r.attribute.name;
    return this.table.columns[(r.extension ? `${r.schema}:${name}` : name).toLowerCase()];
  }

  /**
   * Refuses a readOnly attribute that no column serves: `folded` is built from client input, which
   * never keeps readOnly values (scim/normalize.ts), so a JSON test would silently match nothing.
   */
  private requireStored(r: ResolvedPath, path: string): void {
    if (r.attribute.mutability === 'readOnly' || r.sub?.mutability === 'readOnly') {
      throw invalidFilter(`"${path}" is computed by the server and cannot be filtered on`);
    }
  }

  /** Whether the resource has data of a schema, i.e. lists it in `schemas` (scim/projection.ts). */
  private hasSchema(urn: string): Sql {
    if (urn === this.schema.core.id) return TRUE;
    if (this.table.computedExtensions?.some((u) => u.toLowerCase() === urn.toLowerCase())) return TRUE;
    return { sql: `(${this.a}.folded #> '${jsonPath([urn])}' IS NOT NULL)`, bindings: [] };
  }

  /**
   * `schemas` is not stored (the representation lists the core schema and each extension present),
   * so `schemas OP "urn"` is the OR, over the known schemas whose URN satisfies OP, of "has that
   * schema" (RFC 7644 §3.4.2.2 example `schemas eq "urn:…:enterprise:2.0:User"`). URNs compare
   * case-insensitively (RFC 7643 §2.1).
   */
  private schemasExp(f: Extract<Filter, { kind: 'compare' | 'present' }>, path: string): Sql {
    if (f.kind === 'present') return TRUE;
    if (f.value === null) return this.alwaysPresentNull(f.op, path);
    if (typeof f.value !== 'string') throw invalidFilter(`"${path}" must be compared with a string`);
    if (f.op === 'ne') return negate(this.schemasExp({ ...f, op: 'eq' }, path));
    const value = f.value.toLowerCase();
    const urns = [this.schema.core.id, ...this.schema.extensions.map((e) => e.id)];
    return disjunction(urns.filter((u) => compareConstant(f.op, u.toLowerCase(), value)).map((u) => this.hasSchema(u)));
  }

  /**
   * `meta` is built from columns when a resource is returned, never stored in `data`: created and
   * lastModified are columns (TableMap), resourceType is the type itself, and location and version
   * cannot be compared in SQL. Every resource has all of them, so `pr` is always true.
   */
  private metaExp(r: ResolvedPath, f: Extract<Filter, { kind: 'compare' | 'present' }>, path: string): Sql {
    if (f.kind === 'present') return TRUE;
    if (!r.sub) throw invalidFilter(`"${path}" is complex; compare one of its sub-attributes`);
    if (r.sub.name !== 'resourceType') {
      throw invalidFilter(`"${path}" cannot be filtered on; meta.created, meta.lastModified and meta.resourceType can`);
    }
    if (f.value === null) return this.alwaysPresentNull(f.op, path);
    if (typeof f.value !== 'string') throw invalidFilter(`"${path}" must be compared with a string`);
    return compareConstant(f.op, this.schema.resourceType.name, f.value) ? TRUE : FALSE;
  }

  private attrExp(path: string, f: Extract<Filter, { kind: 'compare' | 'present' }>): Sql {
    let r = this.resolve(path);
    const membership = !r.extension ? this.table.memberships?.[r.attribute.name.toLowerCase()] : undefined;
    if (membership) return this.membershipExp(r, membership, f);
    if (!r.extension && r.attribute.name === 'schemas') return this.schemasExp(f, path);
    if (!r.extension && r.attribute.name === 'meta' && !this.columnFor(r)) return this.metaExp(r, f, path);

    // A complex attribute compared without a sub-attribute compares its `value` (RFC 7644 §3.4.2.2).
    if (!r.sub && r.attribute.type === 'complex') {
      if (f.kind === 'present') return this.present(r);
      const value = r.attribute.subAttributes?.find((s) => s.name === 'value');
      if (!value) throw invalidFilter(`"${path}" is complex; compare one of its sub-attributes`);
      r = { ...r, sub: value };
    }
    if (f.kind === 'present') return this.present(r);

    const column = this.columnFor(r);
    if (column) return this.compareColumn(column.column, column.type, r, f.op, f.value, path);
    this.requireStored(r, path);
    if (r.attribute.multiValued) return this.compareInArray(r, f.op, f.value, path);
    return this.compareJson(r, f.op, f.value, path);
  }

  private present(r: ResolvedPath): Sql {
    const column = this.columnFor(r);
    if (column) return { sql: `(${this.a}.${column.column} IS NOT NULL)`, bindings: [] };
    this.requireStored(r, r.sub ? `${r.attribute.name}.${r.sub.name}` : r.attribute.name);
    if (r.attribute.multiValued && r.sub) {
      // Any element that has the sub-attribute.
      const parts = this.jsonParts({ ...r, sub: undefined });
      return {
        sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${this.a}.folded #> ?, '[]'::jsonb)) AS e WHERE e ->> ? IS NOT NULL)`,
        bindings: [jsonPath(parts), r.sub.name],
      };
    }
    // Stored resources never hold null, "" or [] (scim/normalize.ts), so presence is existence.
    return { sql: `(${this.a}.folded #> ? IS NOT NULL)`, bindings: [jsonPath(this.jsonParts(r))] };
  }

  private membershipExp(r: ResolvedPath, m: MembershipCompiler, f: Extract<Filter, { kind: 'compare' | 'present' }>): Sql {
    if (f.kind === 'present' && !r.sub) return m.present(this.a, this.tenant);
    if (!r.sub || r.sub.name !== 'value') {
      throw invalidFilter(`Only ${r.attribute.name}.value can be compared in a filter`);
    }
    if (f.kind === 'present') return m.present(this.a, this.tenant);
    if (f.op === 'eq') return isUuid(f.value) ? m.hasValue(this.a, this.tenant, f.value.toLowerCase()) : FALSE;
    if (f.op === 'ne') {
      if (!isUuid(f.value)) return TRUE;
      const inner = m.hasValue(this.a, this.tenant, f.value.toLowerCase());
      return { sql: `(NOT ${inner.sql})`, bindings: inner.bindings };
    }
    throw invalidFilter(`${r.attribute.name}.value supports only eq, ne and pr`);
  }

  private compareColumn(column: string, type: ColumnType, r: ResolvedPath, op: string, value: CompValue, path: string): Sql {
    const col = `${this.a}.${column}`;
    if (value === null) return this.nullCompare(op, `(${col} IS NOT NULL)`, path);
    switch (type) {
      case 'uuid': {
        if (typeof value !== 'string') throw invalidFilter(`"${path}" must be compared with a string`);
        if (op === 'eq') return isUuid(value) ? { sql: `(${col} = ?)`, bindings: [value.toLowerCase()] } : FALSE;
        if (op === 'ne') return isUuid(value) ? { sql: `(${col} <> ?)`, bindings: [value.toLowerCase()] } : TRUE;
        return this.textCompare(`${col}::text`, op, value.toLowerCase(), path);
      }
      case 'timestamptz':
        return this.dateCompare(col, op, value, path);
      case 'boolean':
        return this.boolCompare(col, op, value, path);
      case 'text_ci':
        // The column holds the lower-cased value (a stored generated column, migrations/0004):
        // comparing it with `=` keeps the index usable under row-level security.
        if (typeof value !== 'string') throw invalidFilter(`"${path}" must be compared with a string`);
        return this.textCompare(col, op, value.toLowerCase(), path);
      case 'text':
        if (typeof value !== 'string') throw invalidFilter(`"${path}" must be compared with a string`);
        return this.textCompare(col, op, value, path);
    }
  }

  /** `eq null` / `ne null` on a value every resource has. */
  private alwaysPresentNull(op: string, path: string): Sql {
    if (op === 'eq') return FALSE;
    if (op === 'ne') return TRUE;
    throw invalidFilter(`"${path}" can only be compared with null using eq or ne`);
  }

  private nullCompare(op: string, presentSql: string, path: string): Sql {
    // `eq null` reads as "has no value", `ne null` as "has a value"; nothing else compares with null.
    if (op === 'eq') return { sql: `(NOT ${presentSql})`, bindings: [] };
    if (op === 'ne') return { sql: presentSql, bindings: [] };
    throw invalidFilter(`"${path}" can only be compared with null using eq or ne`);
  }

  private textCompare(expr: string, op: string, value: string, path: string): Sql {
    switch (op) {
      case 'eq':
        return { sql: `(${expr} = ?)`, bindings: [value] };
      case 'ne':
        return { sql: `(${expr} IS DISTINCT FROM ?)`, bindings: [value] };
      case 'co':
        return { sql: `COALESCE(${expr} LIKE ? ESCAPE '\\', FALSE)`, bindings: ['%' + likeEscape(value) + '%'] };
      case 'sw':
        return { sql: `COALESCE(${expr} LIKE ? ESCAPE '\\', FALSE)`, bindings: [likeEscape(value) + '%'] };
      case 'ew':
        return { sql: `COALESCE(${expr} LIKE ? ESCAPE '\\', FALSE)`, bindings: ['%' + likeEscape(value)] };
      case 'gt':
      case 'ge':
      case 'lt':
      case 'le':
        // Lexicographic by code point on every database (COLLATE "C"), as RFC 7644 §3.4.2.2 implies.
        return { sql: `COALESCE((${expr}) COLLATE "C" ${SQL_OP[op]} ? COLLATE "C", FALSE)`, bindings: [value] };
    }
    throw invalidFilter(`Unsupported operator "${op}" on "${path}"`);
  }

  private dateCompare(expr: string, op: string, value: CompValue, path: string): Sql {
    if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) {
      throw invalidFilter(`"${path}" is a dateTime; compare it with a date-time string such as "2024-01-31T00:00:00Z"`);
    }
    if (op === 'co' || op === 'sw' || op === 'ew') throw invalidFilter(`"${op}" cannot be used on the dateTime "${path}"`);
    const iso = new Date(value).toISOString();
    if (op === 'ne') return { sql: `((${expr}) IS DISTINCT FROM ?::timestamptz)`, bindings: [iso] };
    return { sql: `COALESCE((${expr}) ${SQL_OP[op]} ?::timestamptz, FALSE)`, bindings: [iso] };
  }

  private boolCompare(expr: string, op: string, value: CompValue, path: string): Sql {
    let v = value;
    if (typeof v === 'string' && /^(true|false)$/i.test(v)) v = v.toLowerCase() === 'true'; // Entra: primary eq "True"
    if (typeof v !== 'boolean') throw invalidFilter(`"${path}" is a boolean; compare it with true or false`);
    if (op === 'eq') return { sql: `COALESCE(${expr} = ?, FALSE)`, bindings: [v] };
    if (op === 'ne') return { sql: `((${expr}) IS DISTINCT FROM ?)`, bindings: [v] };
    throw invalidFilter(`"${op}" cannot be used on the boolean "${path}"`);
  }

  /** The JSON value to put in a containment document, or undefined when containment cannot express it. */
  private containmentValue(leaf: AttributeDef, value: CompValue, path: string): unknown {
    switch (leaf.type) {
      case 'boolean': {
        let v = value;
        if (typeof v === 'string' && /^(true|false)$/i.test(v)) v = v.toLowerCase() === 'true';
        if (typeof v !== 'boolean') throw invalidFilter(`"${path}" is a boolean; compare it with true or false`);
        return v;
      }
      case 'integer':
      case 'decimal':
        if (typeof value !== 'number') throw invalidFilter(`"${path}" is a number; compare it with a number`);
        return value;
      case 'dateTime':
      case 'binary':
        return undefined;
      default:
        if (typeof value !== 'string') throw invalidFilter(`"${path}" is a string; compare it with a string`);
        return leaf.caseExact ? value : value.toLowerCase();
    }
  }

  /** A singular attribute stored in JSON. */
  private compareJson(r: ResolvedPath, op: string, value: CompValue, path: string): Sql {
    const parts = this.jsonParts(r);
    const leaf = ResourceSchema.leaf(r);
    if (value === null) return this.nullCompare(op, `(${this.a}.folded #> '${jsonPath(parts)}' IS NOT NULL)`, path);
    if (op === 'eq' || op === 'ne') {
      const v = this.containmentValue(leaf, value, path);
      if (v !== undefined) {
        const sql = `(${this.a}.folded @> ?::jsonb)`;
        const bindings = [JSON.stringify(nest(parts, v))];
        return op === 'eq' ? { sql, bindings } : { sql: `(NOT ${sql})`, bindings };
      }
    }
    return this.typedCompare(`${this.a}.folded #>> '${jsonPath(parts)}'`, leaf, op, value, path);
  }

  /** Compares a text expression extracted from JSON according to the attribute's type. */
  private typedCompare(textExpr: string, leaf: AttributeDef, op: string, value: CompValue, path: string): Sql {
    switch (leaf.type) {
      case 'dateTime':
        return this.dateCompare(`(${textExpr})::timestamptz`, op, value, path);
      case 'boolean':
        return this.boolCompare(`(${textExpr})::boolean`, op, value, path);
      case 'integer':
      case 'decimal': {
        if (typeof value !== 'number') throw invalidFilter(`"${path}" is a number; compare it with a number`);
        if (!(op in SQL_OP)) throw invalidFilter(`"${op}" cannot be used on the number "${path}"`);
        const cmp = `(${textExpr})::numeric ${SQL_OP[op]} ?`;
        return op === 'ne' ? { sql: `(${cmp}) IS NOT TRUE`, bindings: [value] } : { sql: `COALESCE(${cmp}, FALSE)`, bindings: [value] };
      }
      default: {
        if (leaf.type === 'binary' && op !== 'eq' && op !== 'ne') throw invalidFilter(`"${op}" cannot be used on the binary "${path}"`);
        if (typeof value !== 'string') throw invalidFilter(`"${path}" is a string; compare it with a string`);
        return this.textCompare(textExpr, op, leaf.caseExact ? value : value.toLowerCase(), path);
      }
    }
  }

  /** A sub-attribute of a multi-valued attribute: true when any element matches. */
  private compareInArray(r: ResolvedPath, op: string, value: CompValue, path: string): Sql {
    const leaf = ResourceSchema.leaf(r);
    const index = this.valueIndex(r);
    if (index && r.sub?.name === 'value' && op === 'eq' && typeof value === 'string') {
      return index.hasValue(this.a, this.tenant, leaf.caseExact ? value : value.toLowerCase());
    }
    const arrayParts = this.jsonParts({ ...r, sub: undefined });
    if (op === 'eq' || op === 'ne') {
      const v = value === null ? undefined : this.containmentValue(leaf, value, path);
      if (v !== undefined) {
        const doc = nest(arrayParts, [r.sub ? { [r.sub.name]: v } : v]);
        const sql = `(${this.a}.folded @> ?::jsonb)`;
        return op === 'eq' ? { sql, bindings: [JSON.stringify(doc)] } : { sql: `(NOT ${sql})`, bindings: [JSON.stringify(doc)] };
      }
    }
    const element = r.sub ? `e ->> '${r.sub.name}'` : `e #>> '{}'`;
    if (value === null) {
      const anyPresent = `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${this.a}.folded #> '${jsonPath(arrayParts)}', '[]'::jsonb)) AS e WHERE ${element} IS NOT NULL)`;
      return this.nullCompare(op, anyPresent, path);
    }
    const inner = this.typedCompare(element, leaf, op, value, path);
    return {
      sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${this.a}.folded #> '${jsonPath(arrayParts)}', '[]'::jsonb)) AS e WHERE ${inner.sql})`,
      bindings: inner.bindings,
    };
  }

  /** The side table of a core multi-valued attribute, if it has one. */
  private valueIndex(r: ResolvedPath): ValueIndexCompiler | undefined {
    return !r.extension && r.attribute.multiValued ? this.table.valueIndexes?.[r.attribute.name.toLowerCase()] : undefined;
  }

  /** `emails[type eq "work" and value co "@x"]`: one element must satisfy the whole inner filter. */
  private valuePath(path: string, inner: Filter): Sql {
    const r = this.resolve(path);
    const membership = !r.extension ? this.table.memberships?.[r.attribute.name.toLowerCase()] : undefined;
    if (membership) {
      // members[value eq "…"] is members.value eq "…" (Okta's remove path, reused as a filter).
      return this.compileMembershipValuePath(r, membership, inner);
    }
    if (r.attribute.type !== 'complex' || r.sub) throw invalidFilter(`"${path}" is not a complex attribute; "[...]" cannot be used on it`);
    if (!r.extension && r.attribute.name === 'meta') throw invalidFilter(`"${path}[...]" cannot be filtered on; compare meta.created or meta.lastModified`);
    this.requireStored(r, path);
    const parts = this.jsonParts(r);
    // Fastest path: value (and type) eq on an attribute with a side table (Entra's
    // emails[type eq "work"].value eq "…"): one btree probe.
    const eqs = this.conjunctionOfEq(inner);
    const index = this.valueIndex(r);
    if (index && eqs && eqs.length <= 2) {
      const found: Record<string, string> = {};
      for (const c of eqs) {
        const sub = this.subAttr(r.attribute, c.path, path);
        if ((sub.name === 'value' || sub.name === 'type') && typeof c.value === 'string' && !(sub.name in found)) found[sub.name] = sub.caseExact ? c.value : c.value.toLowerCase();
      }
      if (found.value !== undefined && Object.keys(found).length === eqs.length) return index.hasValue(this.a, this.tenant, found.value, found.type);
    }
    // Fast path: a conjunction of eq on simple sub-attributes is one containment test (GIN-indexed).
    if (eqs) {
      const element: Record<string, unknown> = {};
      let containable = true;
      for (const c of eqs) {
        const sub = this.subAttr(r.attribute, c.path, path);
        const v = c.value === null ? undefined : this.containmentValue(sub, c.value, `${path}.${sub.name}`);
        if (v === undefined || sub.name in element) {
          containable = false;
          break;
        }
        element[sub.name] = v;
      }
      if (containable) {
        const doc = nest(parts, r.attribute.multiValued ? [element] : element);
        return { sql: `(${this.a}.folded @> ?::jsonb)`, bindings: [JSON.stringify(doc)] };
      }
    }
    const cond = this.compileElement(r.attribute, inner, path);
    if (!r.attribute.multiValued) {
      // A singular complex attribute: the "element" is the object itself.
      return {
        sql: `EXISTS (SELECT 1 FROM (SELECT ${this.a}.folded #> '${jsonPath(parts)}' AS e) AS x WHERE x.e IS NOT NULL AND ${cond.sql.replace(/\be\b(?= ->)/g, 'x.e')})`,
        bindings: cond.bindings,
      };
    }
    return {
      sql: `EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(${this.a}.folded #> '${jsonPath(parts)}', '[]'::jsonb)) AS e WHERE ${cond.sql})`,
      bindings: cond.bindings,
    };
  }

  private compileMembershipValuePath(r: ResolvedPath, m: MembershipCompiler, inner: Filter): Sql {
    if (inner.kind === 'compare' && inner.path.toLowerCase() === 'value') {
      return this.membershipExp({ ...r, sub: r.attribute.subAttributes?.find((s) => s.name === 'value') }, m, inner);
    }
    throw invalidFilter(`Only ${r.attribute.name}[value eq "…"] is supported for ${r.attribute.name}`);
  }

  private conjunctionOfEq(f: Filter): { path: string; value: CompValue }[] | undefined {
    if (f.kind === 'compare' && f.op === 'eq') return [{ path: f.path, value: f.value }];
    if (f.kind === 'and') {
      const l = this.conjunctionOfEq(f.left);
      const r = l && this.conjunctionOfEq(f.right);
      return l && r ? [...l, ...r] : undefined;
    }
    return undefined;
  }

  private subAttr(parent: AttributeDef, name: string, path: string): AttributeDef {
    const sub = parent.subAttributes?.find((s) => s.name.toLowerCase() === name.toLowerCase());
    if (!sub) throw invalidFilter(`Unknown sub-attribute "${name}" of "${path}"`);
    if (sub.returned === 'never' || sub.mutability === 'writeOnly') throw invalidFilter(`"${path}.${sub.name}" cannot be filtered on`);
    // readOnly values are never in `folded` (see requireStored).
    if (sub.mutability === 'readOnly') throw invalidFilter(`"${path}.${sub.name}" is computed by the server and cannot be filtered on`);
    return sub;
  }

  /** Compiles the inner filter of a value path against one JSON element aliased `e`. */
  private compileElement(parent: AttributeDef, f: Filter, path: string): Sql {
    switch (f.kind) {
      case 'and':
      case 'or': {
        const l = this.compileElement(parent, f.left, path);
        const r = this.compileElement(parent, f.right, path);
        return { sql: `(${l.sql} ${f.kind.toUpperCase()} ${r.sql})`, bindings: [...l.bindings, ...r.bindings] };
      }
      case 'not':
        // An element without the sub-attribute matches `not (sub eq …)` (see negate()).
        return negate(this.compileElement(parent, f.filter, path));
      case 'present': {
        const sub = this.subAttr(parent, f.path, path);
        return { sql: `(e -> '${sub.name}' IS NOT NULL)`, bindings: [] };
      }
      case 'compare': {
        const sub = this.subAttr(parent, f.path, path);
        if (f.value === null) return this.nullCompare(f.op, `(e -> '${sub.name}' IS NOT NULL)`, `${path}.${sub.name}`);
        return this.typedCompare(`e ->> '${sub.name}'`, sub, f.op, f.value, `${path}.${sub.name}`);
      }
      case 'valuePath':
        throw invalidFilter('Value paths cannot be nested');
    }
  }

  /**
   * ORDER BY expression for sortBy (RFC 7644 §3.4.2.3): a column, a singular JSON attribute, or for
   * a multi-valued attribute its primary value (else the first). Returns a text-comparable expression
   * and its kind, so cursor keys can be compared with a row comparison.
   */
  sortExpression(sortBy: string): { sql: string; kind: 'text' | 'timestamptz' | 'numeric' | 'boolean' } {
    const r = this.schema.resolve(sortBy);
    if (!r) throw invalidFilter(`Unknown attribute "${sortBy}" in sortBy`);
    let rr = r;
    if (!rr.sub && rr.attribute.type === 'complex') {
      const value = rr.attribute.subAttributes?.find((s) => s.name === 'value');
      if (!value) throw invalidFilter(`"${sortBy}" is complex; sort by one of its sub-attributes`);
      rr = { ...rr, sub: value };
    }
    const leaf = ResourceSchema.leaf(rr);
    if (leaf.returned === 'never') throw invalidFilter(`"${sortBy}" cannot be sorted on`);
    if (!rr.extension && this.table.memberships?.[rr.attribute.name.toLowerCase()]) {
      throw invalidFilter(`"${sortBy}" cannot be sorted on`);
    }
    const column = this.columnFor(rr);
    if (column) {
      if (column.type === 'timestamptz') return { sql: `${this.a}.${column.column}`, kind: 'timestamptz' };
      if (column.type === 'boolean') return { sql: `${this.a}.${column.column}`, kind: 'boolean' };
      if (column.type === 'text_ci') return { sql: `${this.a}.${column.column}`, kind: 'text' };
      return { sql: `${this.a}.${column.column}::text`, kind: 'text' };
    }
    let text: string;
    if (rr.attribute.multiValued) {
      const arrayParts = this.jsonParts({ ...rr, sub: undefined });
      const el = rr.sub ? `e ->> '${rr.sub.name}'` : `e #>> '{}'`;
      const primary = rr.sub ? `ORDER BY (e ->> 'primary') = 'true' DESC NULLS LAST` : '';
      text = `(SELECT ${el} FROM jsonb_array_elements(COALESCE(${this.a}.folded #> '${jsonPath(arrayParts)}', '[]'::jsonb)) AS e ${primary} LIMIT 1)`;
    } else {
      text = `(${this.a}.folded #>> '${jsonPath(this.jsonParts(rr))}')`;
    }
    switch (leaf.type) {
      case 'dateTime':
        return { sql: `(${text})::timestamptz`, kind: 'timestamptz' };
      case 'integer':
      case 'decimal':
        return { sql: `(${text})::numeric`, kind: 'numeric' };
      case 'boolean':
        return { sql: `(${text})::boolean`, kind: 'boolean' };
      default:
        return { sql: text, kind: 'text' };
    }
  }
}

const SQL_OP: Record<string, string> = { eq: '=', ne: '<>', gt: '>', ge: '>=', lt: '<', le: '<=' };

// A SCIM list (RFC 7644 §3.4.2) over a handful of resources held in memory: the /Roles and
// /Entitlements of draft-ietf-scim-roles-entitlements-01, a few to a few hundred per tenant, built
// per request rather than stored as rows. Filter, sortBy/sortOrder, attributes/excludedAttributes,
// index paging and cursor paging (RFC 9865) behave as on /Users, with the same errors, so a client
// that pages /Users pages these too. Pure; test/unit/value-list.test.ts.
import { invalidFilter, invalidValue } from '../errors';
import { decodeCursor, encodeCursor, queryDigest } from './cursor';
import { Filter, parseFilter } from './filter';
import { ListQuery } from './list-query';
import { Json, JsonObject } from './normalize';
import { compareValue } from './patch';
import { CompiledProjection } from './projection';
import { AttributeDef, ResourceSchema } from './schema';
import { LIST_RESPONSE_URN } from './urns';

export interface ValueListContext {
  nowMs: number;
  cursorTimeoutSeconds: number;
}

/** The attribute a filter or sortBy path names; only single-level attributes exist on these types. */
function attributeAt(schema: ResourceSchema, path: string, what: 'filter' | 'sortBy'): AttributeDef {
  const r = schema.resolve(path);
  const fail = what === 'filter' ? invalidFilter : invalidValue;
  if (!r) throw fail(`Unknown attribute "${path}" in ${what}: ${schema.resourceType.name} has ${schema.core.attributes.map((a) => a.name).join(', ')}`);
  if (r.attribute.type === 'complex' && !r.sub) throw fail(`"${path}" is complex; name one of its sub-attributes in ${what}`);
  return ResourceSchema.leaf(r);
}

function valueAt(schema: ResourceSchema, doc: JsonObject, path: string): Json | undefined {
  const r = schema.resolve(path)!;
  const top = doc[r.attribute.name];
  if (!r.sub) return top;
  return top && typeof top === 'object' && !Array.isArray(top) ? (top as JsonObject)[r.sub.name] : undefined;
}

const absent = (v: Json | undefined) => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);

function matches(schema: ResourceSchema, doc: JsonObject, f: Filter): boolean {
  switch (f.kind) {
    case 'and':
      return matches(schema, doc, f.left) && matches(schema, doc, f.right);
    case 'or':
      return matches(schema, doc, f.left) || matches(schema, doc, f.right);
    case 'not':
      return !matches(schema, doc, f.filter);
    case 'valuePath':
      throw invalidFilter(`"${f.path}[…]": ${schema.resourceType.name} has no multi-valued complex attributes to filter inside`);
    case 'present':
      attributeAt(schema, f.path, 'filter');
      return !absent(valueAt(schema, doc, f.path));
    case 'compare': {
      const def = attributeAt(schema, f.path, 'filter');
      const v = valueAt(schema, doc, f.path);
      // A multi-valued attribute (contains, containedBy) matches when any of its values does
      // (RFC 7644 §3.4.2.2, "multi-valued attributes").
      if (Array.isArray(v)) return v.length ? v.some((x) => compareValue(def, x, f.op, f.value)) : compareValue(def, undefined, f.op, f.value);
      return compareValue(def, v, f.op, f.value);
    }
  }
}

/** The sort key of a document as text (null when absent), comparable like the attribute. */
function sortKey(doc: JsonObject, schema: ResourceSchema, sortBy: string | undefined, def: AttributeDef | undefined): string | null {
  if (!sortBy || !def) return null;
  let v = valueAt(schema, doc, sortBy);
  if (Array.isArray(v)) v = v[0];
  if (absent(v)) return null;
  if (typeof v === 'number') return v.toFixed(6).padStart(30, '0');
  const s = String(v);
  return def.caseExact ? s : s.toLowerCase();
}

type Keyed = { doc: JsonObject; key: [string | null, string] };

/**
 * Ascending order by (sort key, id). A missing value sorts after every value, as in PostgreSQL's
 * default (NULLS LAST ascending, first descending), so the SQL lists and these agree.
 */
function compareKeys(a: [string | null, string], b: [string | null, string]): number {
  if (a[0] !== b[0]) {
    if (a[0] === null) return 1;
    if (b[0] === null) return -1;
    return a[0] < b[0] ? -1 : 1;
  }
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

/**
 * Answers a list request over `docs` (full representations, each with an `id`) as a ListResponse.
 * Index paging: totalResults, startIndex, itemsPerPage. Cursor paging (RFC 9865): the cursor is the
 * keyset position of the row it continues from, as on /Users (scim/cursor.ts), so it stays valid
 * when a value is added or removed between pages.
 */
export function listValues(schema: ResourceSchema, docs: JsonObject[], q: ListQuery, ctx: ValueListContext): JsonObject {
  const filter = q.filter ? parseFilter(q.filter) : undefined;
  const sortDef = q.sortBy ? attributeAt(schema, q.sortBy, 'sortBy') : undefined;
  const descending = q.sortOrder === 'descending';
  const selected = filter ? docs.filter((d) => matches(schema, d, filter)) : docs;
  const keyed: Keyed[] = selected.map((doc) => ({ doc, key: [sortKey(doc, schema, q.sortBy, sortDef), String(doc.id)] }));
  const order = (a: Keyed, b: Keyed) => (descending ? -1 : 1) * compareKeys(a.key, b.key);
  keyed.sort(order);
  const projection = { attributes: q.attributes, excludedAttributes: q.excludedAttributes };
  // Compiled once for the page, not per value (docs/performance.md "Cheaper reads (issue 12)").
  const compiled = new CompiledProjection(schema, projection);
  const represent = (rows: Keyed[]) => rows.map((r) => compiled.apply(r.doc));

  if (q.cursor === undefined) {
    const start = (q.startIndex ?? 1) - 1;
    const page = keyed.slice(start, start + q.count);
    return { schemas: [LIST_RESPONSE_URN], totalResults: keyed.length, itemsPerPage: page.length, startIndex: q.startIndex ?? 1, Resources: represent(page) };
  }

  const digest = queryDigest([schema.resourceType.name, q.filter, q.sortBy?.toLowerCase(), q.sortOrder]);
  const position = q.cursor === '' ? undefined : decodeCursor(q.cursor, digest, ctx.nowMs, ctx.cursorTimeoutSeconds);
  let page: Keyed[];
  let hasNext: boolean;
  let hasPrev: boolean;
  if (!position) {
    page = keyed.slice(0, q.count);
    hasNext = keyed.length > q.count;
    hasPrev = false;
  } else {
    const cmp = (r: Keyed) => (descending ? -1 : 1) * compareKeys(r.key, position.key);
    if (position.dir === 'next') {
      const after = keyed.filter((r) => cmp(r) > 0);
      page = after.slice(0, q.count);
      hasNext = after.length > q.count;
      hasPrev = true;
    } else {
      const before = keyed.filter((r) => cmp(r) < 0);
      page = before.slice(Math.max(0, before.length - q.count));
      hasNext = true;
      hasPrev = before.length > q.count;
    }
  }
  const out: JsonObject = { schemas: [LIST_RESPONSE_URN] };
  // RFC 9865 §2: totalResults may be left out of later pages; given on the first, like /Users.
  if (!position) out.totalResults = keyed.length;
  out.itemsPerPage = page.length;
  const first = page[0];
  const last = page[page.length - 1];
  if (hasNext && last) out.nextCursor = encodeCursor({ dir: 'next', key: last.key }, digest, ctx.nowMs);
  if (hasPrev && first) out.previousCursor = encodeCursor({ dir: 'prev', key: first.key }, digest, ctx.nowMs);
  out.Resources = represent(page);
  return out;
}

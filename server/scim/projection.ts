// Attribute projection: `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) honouring
// each attribute's `returned` characteristic (RFC 7643 §2.4, §7). Pure; test/unit/projection.test.ts.
import { invalidValue } from '../errors';
import { isObject, Json, JsonObject } from './normalize';
import { AttributeDef, COMMON_ATTRIBUTES, ResourceSchema } from './schema';

export interface Projection {
  attributes?: string[];
  excludedAttributes?: string[];
}

/** Splits a comma-separated query parameter value ("a,b , c") into names; undefined if absent. */
export function splitAttributeList(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const items = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string') throw invalidValue('attributes and excludedAttributes must be strings');
    for (const part of item.split(',')) if (part.trim()) out.push(part.trim());
  }
  return out.length ? out : undefined;
}

interface Selector {
  /** schema URN → attribute name (canonical) → selected sub-attribute names, or 'all'. */
  map: Map<string, Map<string, Set<string> | 'all'>>;
  /** Whole extension schemas named by URN. */
  schemas: Set<string>;
}

function buildSelector(schema: ResourceSchema, names: string[]): Selector {
  const sel: Selector = { map: new Map(), schemas: new Set() };
  for (const name of names) {
    const ext = schema.extension(name);
    if (ext) {
      sel.schemas.add(ext.id);
      continue;
    }
    if (name.toLowerCase() === schema.core.id.toLowerCase()) {
      // The core schema's attributes include the common ones (RFC 7643 §3.1: externalId, meta).
      for (const a of [...COMMON_ATTRIBUTES, ...schema.core.attributes]) add(sel, schema.core.id, a.name, undefined);
      continue;
    }
    const r = schema.resolve(name);
    // RFC 7644 §3.4.2.5 does not make unknown names an error; clients (Entra) send names a
    // service provider may not have. Unknown names select nothing.
    if (!r) continue;
    add(sel, r.schema, r.attribute.name, r.sub?.name);
  }
  return sel;
}

function add(sel: Selector, urn: string, attr: string, sub: string | undefined) {
  let attrs = sel.map.get(urn);
  if (!attrs) sel.map.set(urn, (attrs = new Map()));
  const cur = attrs.get(attr);
  if (sub === undefined || cur === 'all') {
    attrs.set(attr, 'all');
    return;
  }
  const set = cur ?? new Set<string>();
  set.add(sub);
  attrs.set(attr, set);
}

/** Returns a function telling whether a top-level attribute will appear in the output. */
export function wantsAttribute(schema: ResourceSchema, projection: Projection) {
  const inc = projection.attributes && buildSelector(schema, projection.attributes);
  const exc = projection.excludedAttributes && buildSelector(schema, projection.excludedAttributes);
  return (urn: string, def: AttributeDef): boolean => decide(urn, def, inc, exc) !== false;
}

/** undefined: not returned; true: the whole attribute; Set: only these sub-attributes. */
function decide(urn: string, def: AttributeDef, inc?: Selector, exc?: Selector): boolean | Set<string> {
  if (def.returned === 'never') return false;
  if (def.returned === 'always') return true;
  if (inc) {
    if (inc.schemas.has(urn)) return true;
    const s = inc.map.get(urn)?.get(def.name);
    if (s === undefined) return false;
    return s === 'all' ? true : s;
  }
  if (def.returned === 'request') return false;
  if (exc) {
    if (exc.schemas.has(urn)) return false;
    const s = exc.map.get(urn)?.get(def.name);
    if (s === 'all') return false;
    if (s) return new Set(['!', ...s]); // excluded sub-attributes, marked with '!'
  }
  return true;
}

/**
 * The sub-attributes of a complex value to return: `subs` undefined when the whole attribute is
 * selected, else the named ones (or, marked with '!', the excluded ones). `returned` applies to
 * sub-attributes too (RFC 7643 §7): "never" ones are never returned, "always" ones always, and
 * "request" ones only when named in `attributes`.
 */
function projectValue(def: AttributeDef, value: Json, subs: Set<string> | undefined): Json | undefined {
  const exclude = subs?.has('!') ?? false;
  const pick = (obj: JsonObject): JsonObject | undefined => {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(obj)) {
      const sd = def.subAttributes?.find((s) => s.name === k);
      if (sd?.returned === 'never') continue;
      let keep: boolean;
      if (sd?.returned === 'always') keep = true;
      else if (subs === undefined || exclude) keep = sd?.returned !== 'request' && !subs?.has(k);
      else keep = subs.has(k);
      if (keep) out[k] = v;
    }
    return Object.keys(out).length ? out : undefined;
  };
  if (Array.isArray(value)) {
    const items = value.map((v) => (isObject(v) ? pick(v) : v)).filter((v): v is Json => v !== undefined);
    return items.length ? items : undefined;
  }
  return isObject(value) ? pick(value) : value;
}

/**
 * Applies a projection to a full resource representation (core attributes at the top level,
 * extensions under their URN). `schemas` is rewritten to list the extensions that remain.
 */
export function project(schema: ResourceSchema, resource: JsonObject, projection: Projection): JsonObject {
  const inc = projection.attributes && buildSelector(schema, projection.attributes);
  const exc = projection.excludedAttributes && buildSelector(schema, projection.excludedAttributes);
  const out: JsonObject = {};
  const schemas: string[] = [schema.core.id];
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'schemas') continue;
    const ext = schema.extension(key);
    if (ext && isObject(value)) {
      const e: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        const def = schema.attributeOf(ext.id, k);
        if (!def) continue;
        const d = decide(ext.id, def, inc, exc);
        if (d === false) continue;
        const pv = def.type === 'complex' ? projectValue(def, v, d === true ? undefined : d) : v;
        if (pv !== undefined) e[k] = pv;
      }
      if (Object.keys(e).length) {
        out[ext.id] = e;
        schemas.push(ext.id);
      }
      continue;
    }
    const def = schema.coreAttribute(key);
    if (!def) continue;
    const d = decide(schema.core.id, def, inc, exc);
    if (d === false) continue;
    const pv = def.type === 'complex' ? projectValue(def, value, d === true ? undefined : d) : value;
    if (pv !== undefined) out[key] = pv;
  }
  return { schemas, ...out };
}

// Turns a resource body as real clients send it into the canonical stored form (RFC 7643 §2,
// RFC 7644 §3.3, §3.5.1), forgiving of the forms in docs/okta.md and docs/entra.md:
// attribute names and URNs in any case; null and "" mean absent; "True"/"False" for booleans;
// extension data whose URN is missing from `schemas`; URN-qualified flat keys; a single object
// where a multi-valued attribute is expected (OneLogin templates); a bare string where a complex
// attribute with a `value` sub-attribute is expected (Entra's manager). Read-only and unknown
// attributes are dropped, not errors. Proven by test/unit/normalize.test.ts.
import { invalidValue } from '../errors';
import { AttributeDef, ResourceSchema } from './schema';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

export interface NormalizeOptions {
  /** Keep writeOnly attributes (password) instead of dropping them. Default false. */
  keepWriteOnly?: boolean;
  /** Keep readOnly attributes (used when the server itself builds a resource). Default false. */
  keepReadOnly?: boolean;
  /** Keep immutable attributes. Default true. */
  keepImmutable?: boolean;
}

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep equality of JSON values regardless of key order (jsonb returns keys in its own order). */
export function sameJson(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]));
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => sameJson((a as Record<string, Json>)[k], (b as Record<string, Json>)[k]));
  }
  return false;
}

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Coerces one simple value to the attribute's type; returns undefined for "absent". */
export function coerceSimple(def: AttributeDef, value: Json, where: string): Json | undefined {
  if (value === null) return undefined;
  switch (def.type) {
    case 'string':
    case 'reference':
    case 'binary':
      if (typeof value === 'string') return value === '' ? undefined : value;
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      break;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string') {
        const v = value.trim().toLowerCase();
        if (v === 'true') return true;
        if (v === 'false') return false;
        if (v === '') return undefined;
      }
      break;
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) return value;
      if (typeof value === 'string') {
        if (value.trim() === '') return undefined;
        if (/^-?\d+$/.test(value.trim())) return Number(value.trim());
      }
      break;
    case 'decimal':
      if (typeof value === 'number') return value;
      if (typeof value === 'string') {
        if (value.trim() === '') return undefined;
        if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(value.trim())) return Number(value.trim());
      }
      break;
    case 'dateTime':
      if (typeof value === 'string') {
        if (value === '') return undefined;
        if (ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value))) return value;
      }
      break;
    case 'complex':
      break;
  }
  throw invalidValue(`${where} must be ${article(def.type)} ${def.type}, got ${JSON.stringify(value)}`);
}

const article = (t: string) => (/^[aeiou]/.test(t) ? 'an' : 'a');

function keepAttribute(def: AttributeDef, opts: NormalizeOptions): boolean {
  if (def.mutability === 'readOnly') return !!opts.keepReadOnly;
  if (def.mutability === 'writeOnly') return !!opts.keepWriteOnly;
  if (def.mutability === 'immutable') return opts.keepImmutable !== false;
  return true;
}

/** Normalizes the value of one attribute (single or multi-valued, simple or complex). */
export function normalizeValue(def: AttributeDef, value: Json, where: string, opts: NormalizeOptions): Json | undefined {
  if (value === null) return undefined;
  if (def.multiValued) {
    // Entra sends one op per value and OneLogin templates send a single object: accept both.
    const items = Array.isArray(value) ? value : [value];
    const out: Json[] = [];
    for (const [i, item] of items.entries()) {
      const v = normalizeSingle(def, item, `${where}[${i}]`, opts);
      if (v !== undefined) out.push(v);
    }
    if (def.type === 'complex') enforceSinglePrimary(out);
    return out.length ? out : undefined;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    if (value.length === 1) return normalizeSingle(def, value[0], where, opts);
    throw invalidValue(`${where} is single-valued but got an array of ${value.length} values`);
  }
  return normalizeSingle(def, value, where, opts);
}

function normalizeSingle(def: AttributeDef, value: Json, where: string, opts: NormalizeOptions): Json | undefined {
  if (value === null) return undefined;
  if (def.type !== 'complex') return coerceSimple(def, value, where);
  // "" means absent for complex attributes too: OneLogin templates turn an empty parameter into ""
  // whatever the attribute's type (docs/entra.md).
  if (value === '') return undefined;
  let obj: JsonObject;
  if (isObject(value)) obj = value;
  else if (typeof value === 'string' && def.subAttributes?.some((s) => s.name === 'value')) {
    // A bare string for a complex attribute with a `value` sub-attribute (Entra's manager).
    obj = { value };
  } else {
    throw invalidValue(`${where} must be an object, got ${JSON.stringify(value)}`);
  }
  const out: JsonObject = {};
  for (const [key, v] of Object.entries(obj)) {
    const sub = def.subAttributes?.find((s) => s.name.toLowerCase() === key.toLowerCase());
    if (!sub || !keepAttribute(sub, opts)) continue;
    const nv = normalizeValue(sub, v, `${where}.${sub.name}`, opts);
    if (nv !== undefined) out[sub.name] = nv;
  }
  return Object.keys(out).length ? out : undefined;
}

/** RFC 7643 §2.4: "primary" true appears at most once; the first one wins. */
function enforceSinglePrimary(items: Json[]): void {
  let seen = false;
  for (const item of items) {
    if (isObject(item) && item.primary === true) {
      if (seen) delete item.primary;
      seen = true;
    }
  }
}

/**
 * Normalizes a whole resource body into `{core attributes…, [extensionUrn]: {…}}` with canonical
 * names. `id`, `meta`, `schemas` and every readOnly attribute are dropped. Does not check
 * required attributes (see requireAttributes) so that PUT and create can share it.
 */
export function normalizeResource(schema: ResourceSchema, body: unknown, opts: NormalizeOptions = {}): JsonObject {
  if (!isObject(body)) throw invalidValue('The request body must be a JSON object');
  const out: JsonObject = {};
  const setExt = (urn: string, name: string, value: Json) => {
    const def = schema.attributeOf(urn, name);
    if (!def || !keepAttribute(def, opts)) return;
    const v = normalizeValue(def, value, `${urn}:${def.name}`, opts);
    const ext = (out[urn] as JsonObject | undefined) ?? {};
    if (v === undefined) delete ext[def.name];
    else ext[def.name] = v;
    if (Object.keys(ext).length) out[urn] = ext;
    else delete out[urn];
  };
  for (const [key, value] of Object.entries(body)) {
    if (/^urn:/i.test(key)) {
      const ext = schema.extension(key);
      if (ext) {
        // Extension data, listed in `schemas` or not (Entra omits custom URNs from `schemas`).
        if (value === null) continue;
        if (!isObject(value)) throw invalidValue(`${ext.id} must be an object`);
        for (const [k, v] of Object.entries(value)) setExt(ext.id, k, v);
        continue;
      }
      // A URN-qualified attribute name: core ("urn:…:core:2.0:User:userName") or extension.
      const split = schema.splitUrn(key);
      if (!split || split.rest.includes('.')) continue;
      if (split.urn === schema.core.id) setCore(schema, out, split.rest, value, opts);
      else setExt(split.urn, split.rest, value);
      continue;
    }
    setCore(schema, out, key, value, opts);
  }
  return out;
}

function setCore(schema: ResourceSchema, out: JsonObject, key: string, value: Json, opts: NormalizeOptions) {
  const def = schema.coreAttribute(key);
  // id, meta and schemas are the server's; unknown names are tolerated and dropped.
  if (!def || def.name === 'id' || def.name === 'meta' || def.name === 'schemas') return;
  if (!keepAttribute(def, opts)) return;
  const v = normalizeValue(def, value, def.name, opts);
  if (v === undefined) delete out[def.name];
  else out[def.name] = v;
}

/** RFC 7643 §2.2 "required": fails with invalidValue naming the first missing attribute. */
export function requireAttributes(schema: ResourceSchema, resource: JsonObject): void {
  for (const def of schema.core.attributes) {
    if (def.required && def.mutability !== 'readOnly' && resource[def.name] === undefined) {
      throw invalidValue(`${def.name} is required`);
    }
  }
  for (const ext of schema.extensions) {
    const data = resource[ext.id] as JsonObject | undefined;
    if (!data) continue;
    for (const def of ext.attributes) {
      if (def.required && def.mutability !== 'readOnly' && data[def.name] === undefined) {
        throw invalidValue(`${ext.id}:${def.name} is required`);
      }
    }
  }
}

/**
 * The case-folded copy of a stored resource: every string whose attribute is caseExact=false is
 * lower-cased. Filters compare against it so one GIN index serves `eq` on any attribute with the
 * RFC 7644 §3.4.2.2 case rules (store/filter-sql.ts).
 */
export function foldResource(schema: ResourceSchema, resource: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(resource)) {
    const ext = schema.extension(key);
    if (ext && isObject(value)) {
      const e: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        const def = schema.attributeOf(ext.id, k);
        e[k] = def ? foldValue(def, v) : v;
      }
      out[key] = e;
      continue;
    }
    const def = schema.coreAttribute(key);
    out[key] = def ? foldValue(def, value) : value;
  }
  return out;
}

function foldValue(def: AttributeDef, value: Json): Json {
  if (Array.isArray(value)) return value.map((v) => foldValue(def, v));
  if (def.type === 'complex' && isObject(value)) {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(value)) {
      const sub = def.subAttributes?.find((s) => s.name === k);
      out[k] = sub ? foldValue(sub, v) : v;
    }
    return out;
  }
  if (typeof value === 'string' && !def.caseExact && (def.type === 'string' || def.type === 'reference')) {
    return value.toLowerCase();
  }
  return value;
}

// Attribute projection: `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) honouring
// each attribute's `returned` characteristic (RFC 7643 §2.4, §7). Pure; test/unit/projection.test.ts.
import { invalidValue } from '../errors';
import { isObject, Json, JsonObject } from './normalize';
import { AttributeDef, COMMON_ATTRIBUTES, ResourceSchema, SchemaDef } from './schema';

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
 * What a projection does to one attribute, decided once: dropped, or kept with a plan for its
 * sub-attributes. `pass` means the value is returned as it is, not copied: a simple attribute, or
 * a complex one selected whole none of whose sub-attributes is "never" or "request".
 */
type AttrPlan = false | { def: AttributeDef; pass: boolean; subs?: Set<string>; keep: Map<string, boolean>; other: boolean };

function planOf(urn: string, def: AttributeDef, inc?: Selector, exc?: Selector): AttrPlan {
  const d = decide(urn, def, inc, exc);
  if (d === false) return false;
  const subs = d === true ? undefined : d;
  const exclude = subs?.has('!') ?? false;
  // RFC 7643 §7: `returned` applies to sub-attributes too: "never" ones are never returned,
  // "always" ones always, "request" ones only when named in `attributes`.
  const keep = new Map<string, boolean>();
  for (const sd of def.subAttributes ?? []) {
    let k: boolean;
    if (sd.returned === 'never') k = false;
    else if (sd.returned === 'always') k = true;
    else if (subs === undefined || exclude) k = sd.returned !== 'request' && !subs?.has(sd.name);
    else k = subs.has(sd.name);
    keep.set(sd.name, k);
  }
  // A key that is no sub-attribute (sub-attribute names are matched exactly, as stored).
  const other = subs === undefined || exclude;
  const pass = def.type !== 'complex' || (subs === undefined && [...keep.values()].every(Boolean));
  return { def, pass, subs, keep, other };
}

const hasKeys = (o: JsonObject) => {
  for (const _ in o) return true;
  return false;
};

/** The value as the plan returns it; undefined when nothing of it remains (dropped). */
function applyPlan(plan: Exclude<AttrPlan, false>, value: Json): Json | undefined {
  if (plan.pass) {
    if (plan.def.type !== 'complex') return value;
    // Returned as it is, unless it is empty or holds an empty object: those read as absent.
    if (Array.isArray(value)) {
      if (!value.length) return undefined;
      for (const v of value) if (isObject(v) && !hasKeys(v)) return pickValue(plan, value);
      return value;
    }
    return isObject(value) && !hasKeys(value) ? undefined : value;
  }
  return pickValue(plan, value);
}

function pickValue(plan: Exclude<AttrPlan, false>, value: Json): Json | undefined {
  const pick = (obj: JsonObject): JsonObject | undefined => {
    let out: JsonObject | undefined;
    for (const k in obj) {
      if (plan.keep.get(k) ?? plan.other) (out ??= {})[k] = obj[k];
    }
    return out;
  };
  if (Array.isArray(value)) {
    const items: Json[] = [];
    for (const v of value) {
      const pv = isObject(v) ? pick(v) : v;
      if (pv !== undefined) items.push(pv);
    }
    return items.length ? items : undefined;
  }
  return isObject(value) ? pick(value) : value;
}

/** The most keys a compiled projection remembers per schema (the keys of stored data are the schema's). */
const MAX_KEYS = 512;

/**
 * A projection resolved against one resource schema once: every attribute name of `attributes` /
 * `excludedAttributes` is looked up when it is compiled, and each key of a resource is decided
 * the first time it is seen, not once per resource. A page of 100 users resolved every name of
 * every resource before (~0.9 ms a page, docs/performance.md "Cheaper reads (issue 12)").
 * Proven equal to the rules above by test/unit/projection.test.ts.
 */
export class CompiledProjection {
  private readonly inc?: Selector;
  private readonly exc?: Selector;
  /** Top-level key as stored → core attribute plan, or the extension it names. */
  private readonly top = new Map<string, AttrPlan | { ext: SchemaDef; attrs: Map<string, AttrPlan> }>();

  constructor(
    readonly schema: ResourceSchema,
    readonly projection: Projection,
  ) {
    this.inc = projection.attributes && buildSelector(schema, projection.attributes);
    this.exc = projection.excludedAttributes && buildSelector(schema, projection.excludedAttributes);
  }

  /** Whether a top-level attribute will appear in the output. */
  wants(urn: string, def: AttributeDef): boolean {
    return decide(urn, def, this.inc, this.exc) !== false;
  }

  private entry(key: string) {
    let e = this.top.get(key);
    if (e !== undefined) return e;
    const ext = this.schema.extension(key);
    if (ext) e = { ext, attrs: new Map() };
    else {
      const def = this.schema.coreAttribute(key);
      e = def ? planOf(this.schema.core.id, def, this.inc, this.exc) : false;
    }
    if (this.top.size < MAX_KEYS) this.top.set(key, e);
    return e;
  }

  private extPlan(ext: SchemaDef, attrs: Map<string, AttrPlan>, key: string): AttrPlan {
    let plan = attrs.get(key);
    if (plan !== undefined) return plan;
    const def = this.schema.attributeOf(ext.id, key);
    plan = def ? planOf(ext.id, def, this.inc, this.exc) : false;
    if (attrs.size < MAX_KEYS) attrs.set(key, plan);
    return plan;
  }

  /**
   * Applies the projection to a full resource representation (core attributes at the top level,
   * extensions under their URN). `schemas` is rewritten to list the extensions that remain; it
   * comes first. Values returned whole are the input's own, not copies.
   */
  apply(resource: JsonObject): JsonObject {
    const schemas: string[] = [this.schema.core.id];
    const out: JsonObject = { schemas };
    for (const key in resource) {
      if (key === 'schemas') continue;
      const value = resource[key];
      const e = this.entry(key);
      if (e === false) continue;
      if ('ext' in e) {
        if (!isObject(value)) continue;
        let x: JsonObject | undefined;
        for (const k in value) {
          const plan = this.extPlan(e.ext, e.attrs, k);
          if (plan === false) continue;
          const pv = applyPlan(plan, value[k]);
          if (pv !== undefined) (x ??= {})[k] = pv;
        }
        if (x) {
          out[e.ext.id] = x;
          schemas.push(e.ext.id);
        }
        continue;
      }
      const pv = applyPlan(e, value);
      if (pv !== undefined) out[key] = pv;
    }
    return out;
  }
}

/**
 * Compiled projections by (schema, attributes, excludedAttributes), at most `maxEntries` per
 * schema (the oldest goes first): clients repeat the same few projections, and a page or a
 * stream of lookups then compiles once. Owned by whoever applies projections (the resource
 * service, made in deps.ts); attribute lists come from clients, hence the bound.
 */
export class ProjectionCache {
  private readonly bySchema = new Map<ResourceSchema, Map<string, CompiledProjection>>();

  constructor(private readonly maxEntries = 256) {}

  get(schema: ResourceSchema, projection: Projection): CompiledProjection {
    let m = this.bySchema.get(schema);
    if (!m) this.bySchema.set(schema, (m = new Map()));
    const a = projection.attributes;
    const x = projection.excludedAttributes;
    const key = a || x ? JSON.stringify([a ?? null, x ?? null]) : '';
    let c = m.get(key);
    if (c) return c;
    c = new CompiledProjection(schema, projection);
    if (m.size >= this.maxEntries) m.delete(m.keys().next().value as string);
    m.set(key, c);
    return c;
  }

  /** How many projections are held (for the test of the bound). */
  get size(): number {
    let n = 0;
    for (const m of this.bySchema.values()) n += m.size;
    return n;
  }
}

/** Returns a function telling whether a top-level attribute will appear in the output. */
export function wantsAttribute(schema: ResourceSchema, projection: Projection) {
  const c = new CompiledProjection(schema, projection);
  return (urn: string, def: AttributeDef): boolean => c.wants(urn, def);
}

/**
 * Applies a projection to a full resource representation (core attributes at the top level,
 * extensions under their URN). `schemas` is rewritten to list the extensions that remain.
 * Compiles the projection for this one call; a caller projecting many resources compiles once
 * (ProjectionCache, or new CompiledProjection).
 */
export function project(schema: ResourceSchema, resource: JsonObject, projection: Projection): JsonObject {
  return new CompiledProjection(schema, projection).apply(resource);
}

// The PATCH engine (RFC 7644 §3.5.2): applies add / replace / remove operations to a stored
// resource and returns the new resource plus, for Group.members, a membership delta — members
// are never read or rewritten as a list here, so one added member costs one row whatever the
// group's size. Accepts the forms real clients send (docs/okta.md, docs/entra.md): capitalised
// `op`, message keys in any case, string booleans, path-less values with dotted and
// URN-qualified keys (Entra aadOptscim062020), add/replace on a filtered element that does not
// exist yet (creates it), a roles value that is JSON inside a string, "" and null to clear, and a
// path-less replace on a group that carries its own unchanged `id` (Okta). Pure; table-tested in
// test/unit/patch.test.ts.
import { invalidPath, invalidSyntax, invalidValue, mutability, noTarget } from '../errors';
import { Filter, parseFilter } from './filter';
import { isUuid, MemberRef, parseMemberRefs } from './members';
import { isObject, Json, JsonObject, normalizeValue } from './normalize';
import { AttributeDef, ResourceSchema } from './schema';

import { PATCH_OP_URN } from './urns';

export interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path?: string;
  value?: Json;
}

/** Membership changes a PATCH asks for; applied by the store as row inserts and deletes. */
export interface MemberDelta {
  /** Remove every member first (replace, or remove without a value). */
  clear: boolean;
  add: MemberRef[];
  /** Lower-cased ids; removing a non-member is a no-op (idempotent, issue 3). */
  remove: string[];
}

export interface PatchResult {
  resource: JsonObject;
  members?: MemberDelta;
  /** True when the stored attributes (not memberships) changed. */
  changed: boolean;
}

export interface PatchContext {
  /** The resource's own id: a path-less value carrying the same id is not a mutability error. */
  id: string;
  /** Name of the attribute kept as membership rows (Group: "members"), if writable. */
  membership?: string;
  /** Most operations accepted in one request. */
  maxOperations?: number;
}

/** Reads a PatchOp message (RFC 7644 §3.5.2), keys in any case, `op` in any case. */
export function parsePatchRequest(body: unknown, maxOperations = 10_000): PatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('The PATCH body must be a JSON object with "Operations"');
  const key = (obj: JsonObject, name: string) => Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  const schemasKey = key(body, 'schemas');
  if (schemasKey) {
    const s = body[schemasKey];
    if (!Array.isArray(s) || !s.some((x) => typeof x === 'string' && x.toLowerCase() === PATCH_OP_URN.toLowerCase())) {
      throw invalidSyntax(`schemas must contain ${PATCH_OP_URN}`);
    }
  }
  const opsKey = key(body, 'Operations');
  const ops = opsKey ? body[opsKey] : undefined;
  if (!Array.isArray(ops) || ops.length === 0) throw invalidSyntax('"Operations" must be a non-empty array');
  if (ops.length > maxOperations) throw invalidSyntax(`At most ${maxOperations} operations are accepted in one PATCH`);
  return ops.map((raw, i) => {
    if (!isObject(raw)) throw invalidSyntax(`Operations[${i}] must be an object`);
    const opKey = key(raw, 'op');
    const op = opKey && typeof raw[opKey] === 'string' ? (raw[opKey] as string).toLowerCase() : undefined;
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw invalidSyntax(`Operations[${i}].op must be "add", "replace" or "remove"`);
    }
    const pathKey = key(raw, 'path');
    const valueKey = key(raw, 'value');
    const path = pathKey ? raw[pathKey] : undefined;
    if (path !== undefined && path !== null && typeof path !== 'string') throw invalidPath(`Operations[${i}].path must be a string`);
    const out: PatchOperation = { op };
    if (typeof path === 'string' && path.trim() !== '') out.path = path.trim();
    if (valueKey) out.value = raw[valueKey];
    if (op !== 'remove' && !valueKey) throw invalidValue(`Operations[${i}] (${op}) needs a value`);
    return out;
  });
}

interface ParsedPath {
  /** Schema URN of the attribute (core or extension). */
  urn: string;
  extension: boolean;
  attr: AttributeDef;
  filter?: Filter;
  sub?: AttributeDef;
}

/** Parses `attr`, `attr.sub`, `urn:…:attr`, `attr[filter]`, `attr[filter].sub` (RFC 7644 §3.5.2 PATH). */
export function parsePath(schema: ResourceSchema, path: string): ParsedPath {
  let head = path;
  let filter: Filter | undefined;
  let subName: string | undefined;
  const open = path.indexOf('[');
  if (open !== -1) {
    const close = path.lastIndexOf(']');
    if (close < open) throw invalidPath(`Invalid path "${path}": "[" without "]"`);
    head = path.slice(0, open);
    try {
      filter = parseFilter(path.slice(open + 1, close));
    } catch {
      throw invalidPath(`Invalid filter in path "${path}"`);
    }
    const rest = path.slice(close + 1);
    if (rest) {
      if (!/^\.[A-Za-z$][\w$-]*$/.test(rest)) throw invalidPath(`Invalid path "${path}"`);
      subName = rest.slice(1);
    }
  }
  const r = schema.resolve(head);
  if (!r) throw invalidPath(`Unknown attribute "${head}" in path "${path}"`);
  let sub = r.sub;
  if (subName !== undefined) {
    if (r.sub) throw invalidPath(`Invalid path "${path}"`);
    sub = r.attribute.subAttributes?.find((s) => s.name.toLowerCase() === subName!.toLowerCase());
    if (!sub) throw invalidPath(`Unknown sub-attribute "${subName}" in path "${path}"`);
  }
  if (filter && r.sub) throw invalidPath(`Invalid path "${path}": a filter applies to a multi-valued attribute`);
  if (filter && !(r.attribute.multiValued && r.attribute.type === 'complex')) {
    throw invalidPath(`"${r.attribute.name}" is not a multi-valued complex attribute; "[...]" cannot be used on it`);
  }
  return { urn: r.schema, extension: r.extension, attr: r.attribute, filter, sub };
}

/** Evaluates a value-path filter against one element in memory (a single resource's own values). */
export function matchesElement(attr: AttributeDef, el: Json, f: Filter): boolean {
  if (!isObject(el)) return false;
  switch (f.kind) {
    case 'and':
      return matchesElement(attr, el, f.left) && matchesElement(attr, el, f.right);
    case 'or':
      return matchesElement(attr, el, f.left) || matchesElement(attr, el, f.right);
    case 'not':
      return !matchesElement(attr, el, f.filter);
    case 'valuePath':
      throw invalidPath('Nested filters are not allowed in a path');
    case 'present': {
      const sub = attr.subAttributes?.find((s) => s.name.toLowerCase() === f.path.toLowerCase());
      return !!sub && el[sub.name] !== undefined;
    }
    case 'compare': {
      const sub = attr.subAttributes?.find((s) => s.name.toLowerCase() === f.path.toLowerCase());
      if (!sub) throw invalidPath(`Unknown sub-attribute "${f.path}" in path filter`);
      return compareValue(sub, el[sub.name], f.op, f.value);
    }
  }
}

/**
 * One SCIM comparison (RFC 7644 §3.4.2.2) of a stored value against a filter's, in memory: case by
 * the attribute's caseExact, dateTimes as instants, Entra's "True" for booleans. Also the in-memory
 * lists of scim/value-list.ts.
 */
export function compareValue(def: AttributeDef, actual: Json | undefined, op: string, expected: Json): boolean {
  if (expected === null) return op === 'eq' ? actual === undefined : op === 'ne' ? actual !== undefined : false;
  if (actual === undefined) return op === 'ne';
  let a: Json = actual;
  let e: Json = expected;
  if (def.type === 'boolean' && typeof e === 'string' && /^(true|false)$/i.test(e)) e = e.toLowerCase() === 'true'; // Entra: primary eq "True"
  if (typeof a === 'string' && typeof e === 'string') {
    if (def.type === 'dateTime') {
      a = String(Date.parse(a));
      e = String(Date.parse(e));
    } else if (!def.caseExact) {
      a = a.toLowerCase();
      e = e.toLowerCase();
    }
    switch (op) {
      case 'eq': return a === e;
      case 'ne': return a !== e;
      case 'co': return a.includes(e);
      case 'sw': return a.startsWith(e);
      case 'ew': return a.endsWith(e);
      case 'gt': return a > e;
      case 'ge': return a >= e;
      case 'lt': return a < e;
      case 'le': return a <= e;
    }
  }
  if (op === 'eq') return a === e;
  if (op === 'ne') return a !== e;
  if (typeof a === 'number' && typeof e === 'number') {
    return op === 'gt' ? a > e : op === 'ge' ? a >= e : op === 'lt' ? a < e : op === 'le' ? a <= e : false;
  }
  return false;
}

/** The sub-attribute values an eq-only filter pins down, for creating a missing element (Entra). */
function elementFromFilter(attr: AttributeDef, f: Filter): JsonObject | undefined {
  if (f.kind === 'compare' && f.op === 'eq' && f.value !== null) {
    const sub = attr.subAttributes?.find((s) => s.name.toLowerCase() === f.path.toLowerCase());
    if (!sub) return undefined;
    return { [sub.name]: f.value };
  }
  if (f.kind === 'and') {
    const l = elementFromFilter(attr, f.left);
    const r = l && elementFromFilter(attr, f.right);
    return l && r ? { ...l, ...r } : undefined;
  }
  return undefined;
}

const clone = <T extends Json>(v: T): T => JSON.parse(JSON.stringify(v));

/** A value that means "clear" (RFC 7644 §3.5.2.3 via Entra: "" and null both empty an attribute). */
const isEmptyValue = (v: Json | undefined) => v === null || v === '' || (Array.isArray(v) && v.length === 0);

/** Entra may send a complex multi-valued value (roles) as JSON inside a string. */
function unwrapJsonString(attr: AttributeDef, value: Json): Json {
  if (attr.type === 'complex' && typeof value === 'string' && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

function checkWritable(p: ParsedPath, current: Json | undefined, incoming: Json | undefined, path: string) {
  const def = p.sub ?? p.attr;
  if (p.attr.mutability === 'readOnly' || def.mutability === 'readOnly') throw mutability(`"${path}" is read-only`);
  if (def.mutability === 'immutable' || p.attr.mutability === 'immutable') {
    if (current !== undefined && JSON.stringify(current) !== JSON.stringify(incoming)) throw mutability(`"${path}" is immutable`);
  }
}

class Patcher {
  resource: JsonObject;
  members?: MemberDelta;

  constructor(
    private readonly schema: ResourceSchema,
    resource: JsonObject,
    private readonly ctx: PatchContext,
  ) {
    this.resource = clone(resource);
  }

  /** The object holding an attribute: the resource itself or its extension object. */
  private container(p: ParsedPath, create: boolean): JsonObject | undefined {
    if (!p.extension) return this.resource;
    let ext = this.resource[p.urn];
    if (!isObject(ext)) {
      if (!create) return undefined;
      ext = {};
      this.resource[p.urn] = ext;
    }
    return ext;
  }

  private tidy(p: ParsedPath) {
    if (p.extension) {
      const ext = this.resource[p.urn];
      if (isObject(ext) && Object.keys(ext).length === 0) delete this.resource[p.urn];
    }
  }

  private norm(def: AttributeDef, value: Json, where: string): Json | undefined {
    return normalizeValue(def, unwrapJsonString(def, value), where, {});
  }

  apply(op: PatchOperation): void {
    if (op.path === undefined) {
      if (op.op === 'remove') throw noTarget('remove needs a path (RFC 7644 §3.5.2.2)');
      this.applyPathless(op.op, op.value);
      return;
    }
    const p = parsePath(this.schema, op.path);
    if (this.ctx.membership && !p.extension && p.attr.name === this.ctx.membership) {
      this.applyMembers(op, p);
      return;
    }
    if (p.attr.name === 'id' && !p.extension) {
      if (op.op !== 'remove' && op.value === this.ctx.id) return; // unchanged own id: nothing to do
      throw mutability('"id" is read-only');
    }
    if (op.op === 'remove') this.remove(p, op.path, op.value);
    else this.set(op.op, p, op.path, op.value);
  }

  /** add/replace without a path: the value is an object of attributes (RFC 7644 §3.5.2.1, §3.5.2.3). */
  private applyPathless(op: 'add' | 'replace', value: Json | undefined) {
    if (!isObject(value)) throw invalidValue(`${op} without a path needs an object value`);
    for (const [key, v] of Object.entries(value)) {
      if (key.toLowerCase() === 'schemas') continue;
      const ext = /^urn:/i.test(key) ? this.schema.extension(key) : undefined;
      if (ext) {
        if (v === null) continue;
        if (!isObject(v)) throw invalidValue(`${ext.id} must be an object`);
        for (const [k, vv] of Object.entries(v)) this.applyKey(op, `${ext.id}:${k}`, vv);
        continue;
      }
      this.applyKey(op, key, v);
    }
  }

  private applyKey(op: 'add' | 'replace', key: string, v: Json) {
    // Keys may be dotted ("name.givenName") or URN-qualified (Entra aadOptscim062020).
    if (!/^urn:/i.test(key) && !key.includes('.')) {
      const def = this.schema.coreAttribute(key);
      if (!def) return; // unknown attributes are ignored, as on create (scim/normalize.ts)
      if (def.name === 'id') {
        if (v === this.ctx.id) return; // Okta's group rename carries the group's own id
        throw mutability('"id" is read-only');
      }
      if (def.name === 'meta' || def.name === 'schemas') return;
      // A path-less complex value merges its sub-attributes (RFC 7644 §3.5.2.1).
      if (def.type === 'complex' && !def.multiValued && isObject(v)) {
        for (const [sk, sv] of Object.entries(v)) this.applyKey(op, `${def.name}.${sk}`, sv);
        return;
      }
    }
    let p: ParsedPath;
    try {
      p = parsePath(this.schema, key);
    } catch {
      // A key of a path-less value naming no attribute we have is ignored, exactly as on create
      // and PUT (scim/normalize.ts): one attribute an IdP maps that we lack must not fail every
      // update (Entra aadOptscim062020 sends all mapped attributes this way). test/unit/patch.test.ts
      return;
    }
    if (this.ctx.membership && !p.extension && p.attr.name === this.ctx.membership) {
      this.applyMembers({ op, path: key, value: v }, p);
      return;
    }
    this.set(op, p, key, v);
  }

  private set(op: 'add' | 'replace', p: ParsedPath, path: string, raw: Json | undefined) {
    // writeOnly attributes (password) are ignored as on create and PUT: never stored, returned
    // or logged (Okta sends a password even with password sync off). test/unit/patch.test.ts
    if ((p.sub ?? p.attr).mutability === 'writeOnly' || p.attr.mutability === 'writeOnly') return;
    const value = raw === undefined ? null : raw;
    const holder = this.container(p, !isEmptyValue(value));
    const attr = p.attr;

    if (p.filter) {
      // attr[filter] or attr[filter].sub on a multi-valued complex attribute.
      const list = (holder && Array.isArray(holder[attr.name]) ? (holder[attr.name] as Json[]) : []).slice();
      const matches = list.map((el, i) => (matchesElement(attr, el, p.filter!) ? i : -1)).filter((i) => i >= 0);
      checkWritable(p, undefined, undefined, path);
      if (matches.length === 0) {
        // Entra adds `emails[type eq "work"].value` on users with no work email: create it.
        const seed = elementFromFilter(attr, p.filter);
        if (!seed) throw noTarget(`No value of "${attr.name}" matches ${path}`);
        if (isEmptyValue(value)) return;
        const el: JsonObject = p.sub ? { ...seed, [p.sub.name]: value } : { ...seed, ...(isObject(value) ? value : { value }) };
        const normalized = this.norm(attr, [el], path) as Json[] | undefined;
        if (normalized) list.push(...normalized);
      } else {
        for (const i of matches) {
          const el = { ...(list[i] as JsonObject) };
          if (p.sub) {
            const nv = isEmptyValue(value) ? undefined : this.norm(p.sub, value, path);
            if (nv === undefined) delete el[p.sub.name];
            else el[p.sub.name] = nv;
            list[i] = el;
          } else {
            if (isEmptyValue(value)) {
              list[i] = null as unknown as Json;
              continue;
            }
            const merged = op === 'add' && isObject(value) ? { ...el, ...value } : value;
            const nv = this.norm({ ...attr, multiValued: false }, merged, path);
            list[i] = (nv ?? null) as Json;
          }
        }
      }
      let result = list.filter((x) => x !== null);
      if (p.sub?.name === 'primary' && (value === true || (typeof value === 'string' && value.toLowerCase() === 'true'))) {
        // RFC 7643 §2.4: "primary" true appears at most once; the element just marked keeps it.
        result = result.map((el) => (isObject(el) && el.primary === true && !matchesElement(attr, el, p.filter!) ? dropKey(el, 'primary') : el));
      }
      this.store(holder, attr, result, p);
      return;
    }

    if (p.sub) {
      // attr.sub: a sub-attribute of a singular complex attribute (name.givenName), or of every
      // element of a multi-valued one.
      const current = holder?.[attr.name];
      checkWritable(p, isObject(current) ? current[p.sub.name] : undefined, value, path);
      if (attr.multiValued) {
        if (!Array.isArray(current) || current.length === 0) throw noTarget(`"${attr.name}" has no values to set ${p.sub.name} on`);
        const nv = isEmptyValue(value) ? undefined : this.norm(p.sub, value, path);
        const list = current.map((el) => {
          const o = { ...(el as JsonObject) };
          if (nv === undefined) delete o[p.sub!.name];
          else o[p.sub!.name] = nv;
          return o;
        });
        this.store(holder, attr, list, p);
        return;
      }
      const obj: JsonObject = isObject(current) ? { ...current } : {};
      const nv = isEmptyValue(value) ? undefined : this.norm(p.sub, value, path);
      if (nv === undefined) delete obj[p.sub.name];
      else obj[p.sub.name] = nv;
      this.store(holder, attr, obj, p);
      return;
    }

    const current = holder?.[attr.name];
    if (isEmptyValue(value)) {
      checkWritable(p, current, undefined, path);
      this.clear(holder, attr, p, path);
      return;
    }
    const nv = this.norm(attr, value, path);
    checkWritable(p, current, nv, path);
    if (attr.multiValued && op === 'add' && Array.isArray(current)) {
      // add on a multi-valued attribute appends, without duplicating equal values (RFC 7644 §3.5.2.1).
      const seen = new Set(current.map((x) => JSON.stringify(x)));
      const added = ((nv as Json[]) ?? []).filter((x) => !seen.has(JSON.stringify(x)));
      let merged = [...current, ...added];
      if (added.some((x) => isObject(x) && x.primary === true)) {
        // A new primary value takes the flag from the old one (RFC 7643 §2.4).
        merged = merged.map((x) => (isObject(x) && x.primary === true && !added.includes(x) ? dropKey(x, 'primary') : x));
      }
      this.store(holder, attr, merged, p);
      return;
    }
    if (!attr.multiValued && attr.type === 'complex' && op === 'add' && isObject(current) && isObject(nv)) {
      this.store(holder, attr, { ...current, ...nv }, p);
      return;
    }
    this.store(holder, attr, nv, p);
  }

  private remove(p: ParsedPath, path: string, value: Json | undefined) {
    const holder = this.container(p, false);
    const attr = p.attr;
    const current = holder?.[attr.name];
    checkWritable(p, undefined, undefined, path);
    if (p.filter) {
      if (!Array.isArray(current)) return;
      if (p.sub) {
        const list = current.map((el) => (matchesElement(attr, el, p.filter!) ? dropKey(el as JsonObject, p.sub!.name) : el));
        this.store(holder, attr, list.filter((el) => isObject(el) && Object.keys(el).length > 0), p);
      } else {
        this.store(holder, attr, current.filter((el) => !matchesElement(attr, el, p.filter!)), p);
      }
      return;
    }
    if (p.sub) {
      if (attr.multiValued) {
        if (!Array.isArray(current)) return;
        this.store(holder, attr, current.map((el) => dropKey(el as JsonObject, p.sub!.name)).filter((el) => Object.keys(el).length > 0), p);
      } else if (isObject(current)) {
        this.store(holder, attr, dropKey(current, p.sub.name), p);
      }
      return;
    }
    if (attr.multiValued && value !== undefined && value !== null && Array.isArray(current)) {
      // remove with a value on a multi-valued attribute removes only those values (as Entra does for members).
      const drop = (this.norm(attr, value, path) as Json[] | undefined) ?? [];
      const keys = new Set(drop.map((d) => JSON.stringify(isObject(d) && d.value !== undefined ? d.value : d)));
      this.store(holder, attr, current.filter((x) => !keys.has(JSON.stringify(isObject(x) && x.value !== undefined ? x.value : x))), p);
      return;
    }
    this.clear(holder, attr, p, path);
  }

  private clear(holder: JsonObject | undefined, attr: AttributeDef, p: ParsedPath, path: string) {
    if (attr.required && !p.extension) throw invalidValue(`"${path}" is required and cannot be removed`);
    if (holder) delete holder[attr.name];
    this.tidy(p);
  }

  private store(holder: JsonObject | undefined, attr: AttributeDef, value: Json | undefined, p: ParsedPath) {
    const h = holder ?? this.container(p, true)!;
    const empty = value === undefined || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0);
    if (empty) {
      if (attr.required && !p.extension) throw invalidValue(`"${attr.name}" is required and cannot be removed`);
      delete h[attr.name];
    } else {
      h[attr.name] = value;
    }
    this.tidy(p);
  }

  private applyMembers(op: PatchOperation, p: ParsedPath) {
    const d = (this.members ??= { clear: false, add: [], remove: [] });
    if (p.sub) throw invalidPath(`Member sub-attributes cannot be patched; add or remove members by value`);
    if (p.filter) {
      // members[value eq "…"]: the one form that names members (Okta's remove).
      const ids = this.memberFilterValues(p.filter);
      if (op.op !== 'remove') throw invalidPath('Members can be added or replaced only through "members", not a filtered path');
      removeIds(d, ids);
      return;
    }
    if (op.op === 'remove') {
      // Entra removes members as {op: Remove, path: members, value: [{value}]}: only those go.
      const r = parseMemberRefs(op.value ?? null);
      if (r.length === 0) {
        d.clear = true;
        d.add = [];
        d.remove = [];
      } else removeIds(d, r.map((x) => x.id));
      return;
    }
    if (op.op === 'replace') {
      d.clear = true;
      d.add = [];
      d.remove = [];
    }
    const added = parseMemberRefs(op.value ?? null);
    d.remove = d.remove.filter((id) => !added.some((a) => a.id === id));
    d.add.push(...added);
  }

  private memberFilterValues(f: Filter): string[] {
    if (f.kind === 'compare' && f.op === 'eq' && f.path.toLowerCase() === 'value' && typeof f.value === 'string') return [f.value];
    if (f.kind === 'or') return [...this.memberFilterValues(f.left), ...this.memberFilterValues(f.right)];
    throw invalidPath('Members can be selected only by value, e.g. members[value eq "<id>"]');
  }
}

function removeIds(d: MemberDelta, ids: string[]) {
  // An id that is not a UUID cannot be a member: removing it changes nothing.
  const lower = ids.filter(isUuid).map((x) => x.toLowerCase());
  const set = new Set(lower);
  d.add = d.add.filter((a) => !set.has(a.id));
  d.remove.push(...lower);
}

function dropKey(obj: JsonObject, key: string): JsonObject {
  const o = { ...obj };
  delete o[key];
  return o;
}

/**
 * Applies operations in order; any failure throws and nothing is applied (the caller's
 * transaction is not touched until this returns). `resource` is the stored canonical resource.
 */
export function applyPatch(schema: ResourceSchema, resource: JsonObject, ops: PatchOperation[], ctx: PatchContext): PatchResult {
  const patcher = new Patcher(schema, resource, ctx);
  for (const op of ops) patcher.apply(op);
  const changed = JSON.stringify(patcher.resource) !== JSON.stringify(resource);
  return { resource: patcher.resource, members: patcher.members, changed };
}

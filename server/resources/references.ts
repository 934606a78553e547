// References between resources, read from the schemas rather than written per type (issue
// "AI agents as identities"): a core complex attribute whose `$ref` sub-attribute names stored
// resource types in its referenceTypes (RFC 7643 §7) and whose `value` a client writes is a
// reference — an agentic application's `agents`, an agent's `owners` and `parent`. The engine
// (resources/service.ts), for every type alike:
//   - on write, checks each `value` names a resource of those types in the tenant (else 400
//     invalidValue, the same words for an unknown id and another tenant's: no hint of existence);
//   - on read, fills the read-only `$ref` and `display` of each value;
//   - when the target is deleted, drops the value from every resource naming it, in the delete's
//     transaction, as a PATCH of that resource (new version, audit entry, patch event).
// A read-only complex attribute whose `$ref` names a type that references this one back is that
// reference's inverse, computed on read (an agent's `applications` from the applications'
// `agents`), and filterable on its `value` with eq, ne and pr as User.groups is (the catalogue
// builds these once, at start: resources/catalog.ts). Group.members and User.groups are
// memberships (store/members-repo.ts), not this.
// Proven by test/api/agents.test.ts.
import { invalidValue } from '../errors';
import { isObject, Json, JsonObject } from '../scim/normalize';
import { AttributeDef } from '../scim/schema';
import { isUuid } from '../scim/members';
import type { Db } from '../store/scope';
import { inverseReferenceCompiler } from '../store/resource-repo';
import type { ResourceKind } from './kinds';

/** One reference attribute of a type: which attribute, and the types its values may name. */
export interface Reference {
  from: ResourceKind;
  attribute: AttributeDef;
  to: ResourceKind[];
}

/** A read-only attribute computed from another type's reference to this one. */
export interface Inverse {
  attribute: AttributeDef;
  source: Reference;
}

const refTypes = (a: AttributeDef): string[] => a.subAttributes?.find((s) => s.name === '$ref')?.referenceTypes ?? [];
const hasWritableValue = (a: AttributeDef) => a.subAttributes?.some((s) => s.name === 'value' && s.mutability !== 'readOnly') ?? false;

export class References {
  private readonly refs = new Map<string, Reference[]>();
  private readonly inverses = new Map<string, Inverse[]>();

  constructor(private readonly kinds: ResourceKind[]) {
    const byName = new Map(kinds.map((k) => [k.name, k]));
    for (const kind of kinds) {
      const list: Reference[] = [];
      for (const a of kind.schema.core.attributes) {
        if (a.type !== 'complex' || a.mutability === 'readOnly' || a.name === kind.membership || !hasWritableValue(a)) continue;
        const to = refTypes(a).map((t) => byName.get(t)).filter((k): k is ResourceKind => k !== undefined);
        if (to.length) list.push({ from: kind, attribute: a, to });
      }
      this.refs.set(kind.name, list);
    }
    for (const kind of kinds) {
      const list: Inverse[] = [];
      for (const a of kind.schema.core.attributes) {
        if (a.type !== 'complex' || a.mutability !== 'readOnly' || !a.multiValued || a.name === kind.membership) continue;
        for (const t of refTypes(a)) {
          const source = this.refs.get(t)?.find((r) => r.attribute.multiValued && r.to.includes(kind));
          if (source) list.push({ attribute: a, source });
        }
      }
      this.inverses.set(kind.name, list);
      // `applications.value eq "<id>"`: the filter compiler reads the same map (store/filter-sql.ts).
      const map = kind.repo.spec.map;
      for (const inv of list) {
        map.memberships = { ...map.memberships, [inv.attribute.name.toLowerCase()]: inverseReferenceCompiler(inv.source.from.repo.spec.table, inv.source.attribute.name) };
      }
    }
  }

  /** A stored type by name. */
  kindNamed(name: string): ResourceKind | undefined {
    return this.kinds.find((k) => k.name === name);
  }

  /** The reference attributes of a type. */
  of(kind: ResourceKind): Reference[] {
    return this.refs.get(kind.name) ?? [];
  }

  /** Every reference attribute, of any type, whose values may name a resource of `kind`. */
  to(kind: ResourceKind): Reference[] {
    return [...this.refs.values()].flat().filter((r) => r.to.includes(kind));
  }

  /**
   * Checks every reference of a resource about to be written (ids lower-cased in place, the
   * canonical form filters and the delete cascade compare against). `id` is the resource's own
   * (a resource cannot name itself: an agent is not its own parent). On replace and PATCH only a
   * value the resource did not already hold is checked (`before`), so a reference left by a
   * delete outside the service (the sub-account purge) never blocks the resource's other writes.
   */
  async check(db: Db, tenantId: string, kind: ResourceKind, resource: JsonObject, id: string | undefined, before?: JsonObject): Promise<void> {
    for (const ref of this.of(kind)) {
      const raw = resource[ref.attribute.name];
      if (raw === undefined) continue;
      const items = (Array.isArray(raw) ? raw : [raw]).filter(isObject);
      const names = ref.to.map((k) => k.name.toLowerCase()).join(' or ');
      for (const item of items) {
        if (typeof item.value !== 'string') throw invalidValue(`${ref.attribute.name}: every value needs "value", the id of a ${names} of this tenant`);
        item.value = item.value.toLowerCase();
        if (id && item.value === id.toLowerCase()) throw invalidValue(`${ref.attribute.name}: a resource cannot name itself`);
      }
      const held = new Set(
        (Array.isArray(before?.[ref.attribute.name]) ? (before![ref.attribute.name] as Json[]) : [before?.[ref.attribute.name]])
          .filter(isObject)
          .map((i) => String(i.value)),
      );
      const ids = items.map((i) => i.value as string).filter((v) => !held.has(v));
      const found = new Set<string>();
      // Locked as a foreign key would be: a concurrent delete of a target cannot leave this value dangling.
      for (const target of ref.to) for (const k of (await target.repo.displays(db, tenantId, ids, true)).keys()) found.add(k);
      const missing = ids.find((v) => !isUuid(v) || !found.has(v));
      if (missing !== undefined) throw invalidValue(`${ref.attribute.name}: ${missing} is not the id of a ${names} of this tenant`);
      // A singular reference to the same type is a hierarchy (an agent's parent): no cycles.
      if (id && !ref.attribute.multiValued && ref.to.length === 1 && ref.to[0] === kind && ids.length) await this.refuseCycle(db, tenantId, kind, ref.attribute.name, ids[0], id);
    }
  }

  /** 400 when following `attribute` up from `start` comes back to `id` (at most 1000 steps up). */
  private async refuseCycle(db: Db, tenantId: string, kind: ResourceKind, attribute: string, start: string, id: string): Promise<void> {
    let current: string | undefined = start;
    for (let step = 0; current && step < 1000; step++) {
      const row = await kind.repo.get(db, tenantId, current);
      const next: Json | undefined = row?.data[attribute];
      current = isObject(next) && typeof next.value === 'string' ? next.value : undefined;
      if (current === id.toLowerCase()) throw invalidValue(`${attribute}: ${start} is below this ${kind.name.toLowerCase()}, which would make a cycle`);
    }
  }

  /**
   * Fills `$ref` and `display` of every reference, and the inverse attributes, in these full
   * representations (before projection). One query per referenced type; none for a type
   * without references, nor for attributes the projection leaves out (`wanted`).
   */
  async resolve(db: Db, tenantId: string, baseUrl: string, kind: ResourceKind, resources: JsonObject[], wanted: (a: AttributeDef) => boolean = () => true): Promise<void> {
    const refs = this.of(kind).filter((r) => wanted(r.attribute));
    const inverses = (this.inverses.get(kind.name) ?? []).filter((i) => wanted(i.attribute));
    if (!resources.length || (!refs.length && !inverses.length)) return;
    for (const ref of refs) {
      const items = resources.flatMap((r) => {
        // A copy: the representation shares its objects with the row's `data`, which must stay as stored.
        if (r[ref.attribute.name] !== undefined) r[ref.attribute.name] = structuredClone(r[ref.attribute.name]);
        const v = r[ref.attribute.name];
        return (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter(isObject);
      });
      if (!items.length) continue;
      const ids = items.map((i) => String(i.value));
      const where = new Map<string, { kind: ResourceKind; display: string | null }>();
      for (const target of ref.to) {
        for (const [id, display] of await target.repo.displays(db, tenantId, ids)) where.set(id, { kind: target, display });
      }
      for (const item of items) {
        const hit = where.get(String(item.value));
        // A target deleted outside the resource service (the sub-account purge) leaves its id only.
        if (!hit) continue;
        item.$ref = `${baseUrl}/${hit.kind.endpoint}/${String(item.value)}`;
        if (hit.display !== null) item.display = hit.display;
      }
    }
    for (const inv of inverses) {
      const rows = await inv.source.from.repo.referencesTo(db, tenantId, inv.source.attribute.name, resources.map((r) => String(r.id)));
      for (const r of resources) {
        const list: Json[] = rows
          .filter((x) => x.value === String(r.id))
          .map((x) => {
            const item: JsonObject = { value: x.id, $ref: `${baseUrl}/${inv.source.from.endpoint}/${x.id}` };
            if (x.display !== null) item.display = x.display;
            if (x.type !== null) item.type = x.type;
            return item;
          });
        if (list.length) r[inv.attribute.name] = list;
      }
    }
  }

  /** The resource without its reference to `id` in `attribute` (undefined when it had none). */
  static without(data: JsonObject, attribute: AttributeDef, id: string): JsonObject {
    const out: JsonObject = { ...data };
    const v = out[attribute.name];
    if (Array.isArray(v)) {
      const kept = v.filter((x) => !(isObject(x) && x.value === id));
      // Stored resources never hold [] (scim/normalize.ts): an emptied list is absent.
      if (kept.length) out[attribute.name] = kept;
      else delete out[attribute.name];
    } else if (isObject(v) && v.value === id) {
      delete out[attribute.name];
    }
    return out;
  }
}

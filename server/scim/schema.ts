// Schema model (RFC 7643 §2, §7): attribute characteristics, and name resolution that is
// case-insensitive for attribute names and schema URNs (RFC 7643 §2.1). Pure: no I/O.

export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'binary' | 'complex';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';

export interface AttributeDef {
  name: string;
  type: AttrType;
  multiValued: boolean;
  description?: string;
  required: boolean;
  caseExact: boolean;
  mutability: Mutability;
  returned: Returned;
  uniqueness: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttributeDef[];
}

export interface SchemaDef {
  schemas?: string[];
  id: string;
  name: string;
  description?: string;
  attributes: AttributeDef[];
}

export interface ResourceTypeDef {
  schemas?: string[];
  id: string;
  name: string;
  endpoint: string;
  description?: string;
  schema: string;
  schemaExtensions: { schema: string; required: boolean }[];
}

/** Attributes every resource carries (RFC 7643 §3.1), described so projection and filters can treat them alike. */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  attr('id', 'string', { caseExact: true, mutability: 'readOnly', returned: 'always', uniqueness: 'server' }),
  attr('externalId', 'string', { caseExact: true }),
  attr('schemas', 'reference', { multiValued: true, caseExact: true, mutability: 'readOnly', returned: 'always' }),
  attr('meta', 'complex', {
    mutability: 'readOnly',
    subAttributes: [
      attr('resourceType', 'string', { caseExact: true, mutability: 'readOnly' }),
      attr('created', 'dateTime', { mutability: 'readOnly' }),
      attr('lastModified', 'dateTime', { mutability: 'readOnly' }),
      attr('location', 'reference', { caseExact: true, mutability: 'readOnly' }),
      attr('version', 'string', { caseExact: true, mutability: 'readOnly' }),
    ],
  }),
];

function attr(name: string, type: AttrType, over: Partial<AttributeDef> = {}): AttributeDef {
  return {
    name,
    type,
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: 'readWrite',
    returned: 'default',
    uniqueness: 'none',
    ...over,
  };
}

/** A resolved attribute reference: which schema, which top-level attribute, optionally which sub-attribute. */
export interface ResolvedPath {
  /** Schema URN the attribute belongs to; the core schema for common attributes. */
  schema: string;
  /** True when the attribute lives in an extension object of the resource. */
  extension: boolean;
  attribute: AttributeDef;
  sub?: AttributeDef;
}

/** The schemas of one resource type: its core schema and its extensions, with lookup tables. */
export class ResourceSchema {
  readonly core: SchemaDef;
  readonly extensions: SchemaDef[];
  private readonly byUrn = new Map<string, SchemaDef>();
  private readonly coreAttrs = new Map<string, AttributeDef>();
  private readonly extAttrs = new Map<string, Map<string, AttributeDef>>();

  constructor(
    readonly resourceType: ResourceTypeDef,
    schemas: SchemaDef[],
  ) {
    const find = (urn: string) => {
      const s = schemas.find((x) => x.id.toLowerCase() === urn.toLowerCase());
      if (!s) throw new Error(`schema ${urn} of resource type ${resourceType.name} is missing`);
      return s;
    };
    this.core = find(resourceType.schema);
    this.extensions = resourceType.schemaExtensions.map((e) => find(e.schema));
    for (const a of [...COMMON_ATTRIBUTES, ...this.core.attributes]) this.coreAttrs.set(a.name.toLowerCase(), a);
    this.byUrn.set(this.core.id.toLowerCase(), this.core);
    for (const ext of this.extensions) {
      this.byUrn.set(ext.id.toLowerCase(), ext);
      this.extAttrs.set(ext.id.toLowerCase(), new Map(ext.attributes.map((a) => [a.name.toLowerCase(), a])));
    }
  }

  /** The extension schema with this URN (any case), if the resource type has it. */
  extension(urn: string): SchemaDef | undefined {
    const s = this.byUrn.get(urn.toLowerCase());
    return s && s !== this.core ? s : undefined;
  }

  /** A core (or common) attribute by name, any case. */
  coreAttribute(name: string): AttributeDef | undefined {
    return this.coreAttrs.get(name.toLowerCase());
  }

  /** An attribute of the given schema (core or extension) by name, any case. */
  attributeOf(urn: string, name: string): AttributeDef | undefined {
    if (urn.toLowerCase() === this.core.id.toLowerCase()) return this.coreAttribute(name);
    return this.extAttrs.get(urn.toLowerCase())?.get(name.toLowerCase());
  }

  /**
   * Splits a URN-qualified name ("urn:…:enterprise:2.0:User:manager.value") into the longest
   * known schema URN and the rest. Returns undefined when no known schema prefixes it.
   */
  splitUrn(full: string): { urn: string; rest: string } | undefined {
    const lower = full.toLowerCase();
    let best: string | undefined;
    for (const urn of this.byUrn.keys()) {
      if (lower.startsWith(urn + ':') && (!best || urn.length > best.length)) best = urn;
    }
    if (!best) return undefined;
    return { urn: this.byUrn.get(best)!.id, rest: full.slice(best.length + 1) };
  }

  /**
   * Resolves an attribute path as written in a filter, sortBy, attributes or PATCH path
   * ("name.givenName", "emails.value", "urn:…:User:userName", "urn:…:enterprise:2.0:User:manager.value").
   * Returns undefined for an unknown attribute.
   */
  resolve(path: string): ResolvedPath | undefined {
    let schema = this.core.id;
    let rest = path;
    if (/^urn:/i.test(path)) {
      const split = this.splitUrn(path);
      if (!split) return undefined;
      schema = split.urn;
      rest = split.rest;
    }
    const dot = rest.indexOf('.');
    const name = dot === -1 ? rest : rest.slice(0, dot);
    const subName = dot === -1 ? undefined : rest.slice(dot + 1);
    const attribute = this.attributeOf(schema, name);
    if (!attribute) return undefined;
    let sub: AttributeDef | undefined;
    if (subName !== undefined) {
      sub = attribute.subAttributes?.find((s) => s.name.toLowerCase() === subName.toLowerCase());
      if (!sub) return undefined;
    }
    return { schema, extension: schema !== this.core.id, attribute, sub };
  }

  /** The attribute definition a resolved path ends on. */
  static leaf(p: ResolvedPath): AttributeDef {
    return p.sub ?? p.attribute;
  }
}

// project / wantsAttribute / splitAttributeList (server/scim/projection.ts): `attributes` and
// `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) against each attribute's `returned`
// characteristic (RFC 7643 §2.4, §7), with the real User schema and a small schema that has
// every kind of `returned`.
import { JsonObject } from '../../server/scim/normalize';
import { CompiledProjection, project, Projection, ProjectionCache, splitAttributeList, wantsAttribute } from '../../server/scim/projection';
import { AttributeDef, ResourceSchema, SchemaDef } from '../../server/scim/schema';
import { ENTERPRISE, expectScimError, PROVISIO_USER, USER_URN, userSchema } from './helpers';

/** A full User representation as resources/service.ts builds it before projecting. */
const FULL: JsonObject = {
  id: 'u-1',
  externalId: 'ext-1',
  userName: 'bjensen',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  displayName: 'Babs',
  active: true,
  password: 'must-never-appear',
  emails: [
    { value: 'b@work', type: 'work', primary: true },
    { value: 'b@home', type: 'home' },
  ],
  groups: [{ value: 'g-1', display: 'Admins', type: 'direct' }],
  [ENTERPRISE]: { employeeNumber: '7', department: 'R&D', manager: { value: 'm-1', displayName: 'Boss' } },
  [PROVISIO_USER]: { activationState: 'active', primaryAdmin: false },
  meta: { resourceType: 'User', created: '2024-01-01T00:00:00Z', lastModified: '2024-01-02T00:00:00Z', location: 'https://x/Users/u-1', version: 'W/"1"' },
};

const p = (projection: Projection) => project(userSchema, FULL, projection);
const keys = (o: JsonObject) => Object.keys(o).sort();

describe('no projection: every "default" and "always" attribute, never "never"', () => {
  const out = p({});
  it('returns all but password', () => {
    const expected = { ...FULL, schemas: [USER_URN, ENTERPRISE, PROVISIO_USER] } as JsonObject;
    delete expected.password;
    expect(out).toEqual(expected);
  });
  it('puts schemas first', () => {
    expect(Object.keys(out)[0]).toBe('schemas');
  });
});

describe('attributes (RFC 7644 §3.4.2.5: "the default list of attributes is overridden")', () => {
  it.each<[string, string[], JsonObject]>([
    ['one core attribute: id (always) + it', ['userName'], { schemas: [USER_URN], id: 'u-1', userName: 'bjensen' }],
    ['names in any case (RFC 7643 §2.1)', ['USERNAME', 'DisplayName'], { schemas: [USER_URN], id: 'u-1', userName: 'bjensen', displayName: 'Babs' }],
    ['URN-qualified core attribute', [`${USER_URN}:userName`], { schemas: [USER_URN], id: 'u-1', userName: 'bjensen' }],
    ['sub-attribute of a complex attribute', ['name.givenName'], { schemas: [USER_URN], id: 'u-1', name: { givenName: 'Barbara' } }],
    ['sub-attribute of a multi-valued attribute', ['emails.value'], { schemas: [USER_URN], id: 'u-1', emails: [{ value: 'b@work' }, { value: 'b@home' }] }],
    ['two sub-attributes', ['emails.value', 'emails.type'], { schemas: [USER_URN], id: 'u-1', emails: [{ value: 'b@work', type: 'work' }, { value: 'b@home', type: 'home' }] }],
    ['sub-attribute and its parent: the whole parent', ['name.givenName', 'name'], { schemas: [USER_URN], id: 'u-1', name: FULL.name }],
    ['parent then sub-attribute: still the whole parent', ['name', 'name.givenName'], { schemas: [USER_URN], id: 'u-1', name: FULL.name }],
    ['extension attribute by URN: schemas lists the extension', [`${ENTERPRISE}:employeeNumber`], { schemas: [USER_URN, ENTERPRISE], id: 'u-1', [ENTERPRISE]: { employeeNumber: '7' } }],
    ['extension sub-attribute', [`${ENTERPRISE}:manager.value`], { schemas: [USER_URN, ENTERPRISE], id: 'u-1', [ENTERPRISE]: { manager: { value: 'm-1' } } }],
    ['a whole extension by its URN', [ENTERPRISE], { schemas: [USER_URN, ENTERPRISE], id: 'u-1', [ENTERPRISE]: FULL[ENTERPRISE] }],
    ['a whole extension by its URN in any case', [ENTERPRISE.toUpperCase()], { schemas: [USER_URN, ENTERPRISE], id: 'u-1', [ENTERPRISE]: FULL[ENTERPRISE] }],
    ['password is never returned, even when asked (RFC 7643 §7 "never")', ['password', 'userName'], { schemas: [USER_URN], id: 'u-1', userName: 'bjensen' }],
    ['id is always returned, asking for it changes nothing', ['id'], { schemas: [USER_URN], id: 'u-1' }],
    ['unknown names select nothing (Entra asks for attributes we may not have)', ['shoeSize', 'userName'], { schemas: [USER_URN], id: 'u-1', userName: 'bjensen' }],
    ['an attribute the resource lacks: only id', ['nickName'], { schemas: [USER_URN], id: 'u-1' }],
    ['an absent sub-attribute drops the parent', ['name.middleName'], { schemas: [USER_URN], id: 'u-1' }],
    ['meta sub-attribute', ['meta.lastModified'], { schemas: [USER_URN], id: 'u-1', meta: { lastModified: '2024-01-02T00:00:00Z' } }],
    [
      'the core schema URN selects every core attribute, common ones included (RFC 7643 §3.1)',
      [USER_URN],
      { schemas: [USER_URN], id: 'u-1', externalId: 'ext-1', userName: 'bjensen', name: FULL.name, displayName: 'Babs', active: true, emails: FULL.emails, groups: FULL.groups, meta: FULL.meta },
    ],
  ])('%s', (_note, attributes, expected) => {
    expect(p({ attributes })).toEqual(expected);
  });
});

describe('excludedAttributes (RFC 7644 §3.4.2.5: removed from the default set; no effect on "always")', () => {
  it.each<[string, string[], string[]]>([
    ['one attribute', ['emails'], ['active', 'displayName', 'externalId', 'groups', 'id', 'meta', 'name', 'schemas', 'userName', ENTERPRISE, PROVISIO_USER]],
    ['Entra: groups by displayName with excludedAttributes=members analogue (groups here)', ['groups'], ['active', 'displayName', 'emails', 'externalId', 'id', 'meta', 'name', 'schemas', 'userName', ENTERPRISE, PROVISIO_USER]],
    ['id cannot be excluded', ['id', 'userName'], ['active', 'displayName', 'emails', 'externalId', 'groups', 'id', 'meta', 'name', 'schemas', ENTERPRISE, PROVISIO_USER]],
    ['a whole extension: it leaves schemas too', [ENTERPRISE], ['active', 'displayName', 'emails', 'externalId', 'groups', 'id', 'meta', 'name', 'schemas', 'userName', PROVISIO_USER]],
    ['unknown names exclude nothing', ['shoeSize'], ['active', 'displayName', 'emails', 'externalId', 'groups', 'id', 'meta', 'name', 'schemas', 'userName', ENTERPRISE, PROVISIO_USER]],
  ])('%s', (_note, excludedAttributes, expectedKeys) => {
    expect(keys(p({ excludedAttributes }))).toEqual([...expectedKeys].sort());
  });

  it('a sub-attribute: only it goes', () => {
    expect(p({ excludedAttributes: ['name.familyName'] }).name).toEqual({ givenName: 'Barbara' });
    expect(p({ excludedAttributes: ['emails.type', 'emails.primary'] }).emails).toEqual([{ value: 'b@work' }, { value: 'b@home' }]);
  });

  it('an extension attribute: the rest of the extension stays', () => {
    expect(p({ excludedAttributes: [`${ENTERPRISE}:manager`] })[ENTERPRISE]).toEqual({ employeeNumber: '7', department: 'R&D' });
  });

  it('every attribute of an extension: the extension leaves schemas', () => {
    const out = p({ excludedAttributes: [`${PROVISIO_USER}:activationState`, `${PROVISIO_USER}:primaryAdmin`] });
    expect(out[PROVISIO_USER]).toBeUndefined();
    expect(out.schemas).toEqual([USER_URN, ENTERPRISE]);
  });

  it('password is still never returned', () => {
    expect(p({ excludedAttributes: ['emails'] }).password).toBeUndefined();
  });
});

describe('schemas lists only the extensions present after projection', () => {
  it.each<[string, Projection, string[]]>([
    ['core attributes only', { attributes: ['userName'] }, [USER_URN]],
    ['one extension asked for', { attributes: ['userName', `${PROVISIO_USER}:activationState`] }, [USER_URN, PROVISIO_USER]],
    ['extension asked for but absent from the resource', { attributes: [`${ENTERPRISE}:costCenter`] }, [USER_URN]],
    ['client-sent schemas are ignored (a stale list is rebuilt)', {}, [USER_URN, ENTERPRISE, PROVISIO_USER]],
  ])('%s', (_note, projection, schemas) => {
    expect(project(userSchema, { ...FULL, schemas: ['urn:stale'] }, projection).schemas).toEqual(schemas);
  });
});

// A schema with every `returned` value, for what the real schemas do not exercise (RFC 7643 §7).
const a = (name: string, returned: AttributeDef['returned'], over: Partial<AttributeDef> = {}): AttributeDef => ({
  name,
  type: 'string',
  multiValued: false,
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned,
  uniqueness: 'none',
  ...over,
});
const CORE_URN = 'urn:example:schemas:core:2.0:Thing';
const EXT_URN = 'urn:example:schemas:extension:2.0:Thing';
const thingSchemas: SchemaDef[] = [
  {
    id: CORE_URN,
    name: 'Thing',
    attributes: [
      a('always', 'always'),
      a('plain', 'default'),
      a('secret', 'never'),
      a('onRequest', 'request'),
      a('box', 'default', {
        type: 'complex',
        subAttributes: [a('open', 'default'), a('key', 'always'), a('hidden', 'never'), a('extra', 'request')],
      }),
    ],
  },
  { id: EXT_URN, name: 'ThingExt', attributes: [a('extPlain', 'default'), a('extRequest', 'request')] },
];
const things = new ResourceSchema(
  { id: 'Thing', name: 'Thing', endpoint: '/Things', schema: CORE_URN, schemaExtensions: [{ schema: EXT_URN, required: false }] },
  thingSchemas,
);
const THING: JsonObject = {
  id: 't-1',
  always: 'A',
  plain: 'P',
  secret: 'S',
  onRequest: 'R',
  box: { open: 'o', key: 'k', hidden: 'h', extra: 'x' },
  [EXT_URN]: { extPlain: 'e', extRequest: 'er' },
};

describe('returned: always / never / default / request (RFC 7643 §7)', () => {
  it.each<[string, Projection, JsonObject]>([
    [
      'default set: no "request", no "never", not even as sub-attributes',
      {},
      { schemas: [CORE_URN, EXT_URN], id: 't-1', always: 'A', plain: 'P', box: { open: 'o', key: 'k' }, [EXT_URN]: { extPlain: 'e' } },
    ],
    ['attributes: "always" come anyway, "request" only when named', { attributes: ['onRequest'] }, { schemas: [CORE_URN], id: 't-1', always: 'A', onRequest: 'R' }],
    ['attributes naming "never" returns nothing of it', { attributes: ['secret'] }, { schemas: [CORE_URN], id: 't-1', always: 'A' }],
    ['attributes naming a sub-attribute keeps the "always" sub-attribute', { attributes: ['box.open'] }, { schemas: [CORE_URN], id: 't-1', always: 'A', box: { open: 'o', key: 'k' } }],
    ['a "request" sub-attribute when named', { attributes: ['box.extra'] }, { schemas: [CORE_URN], id: 't-1', always: 'A', box: { key: 'k', extra: 'x' } }],
    ['the whole complex attribute: "never" and "request" sub-attributes stay out', { attributes: ['box'] }, { schemas: [CORE_URN], id: 't-1', always: 'A', box: { open: 'o', key: 'k' } }],
    ['a "request" extension attribute when named', { attributes: [`${EXT_URN}:extRequest`] }, { schemas: [CORE_URN, EXT_URN], id: 't-1', always: 'A', [EXT_URN]: { extRequest: 'er' } }],
    ['excludedAttributes cannot remove "always"', { excludedAttributes: ['always', 'box.key', 'plain'] }, { schemas: [CORE_URN, EXT_URN], id: 't-1', always: 'A', box: { open: 'o', key: 'k' }, [EXT_URN]: { extPlain: 'e' } }],
    ['excludedAttributes does not add "request"', { excludedAttributes: ['plain'] }, { schemas: [CORE_URN, EXT_URN], id: 't-1', always: 'A', box: { open: 'o', key: 'k' }, [EXT_URN]: { extPlain: 'e' } }],
  ])('%s', (_note, projection, expected) => {
    expect(project(things, THING, projection)).toEqual(expected);
  });
});

describe('wantsAttribute (decides whether memberships are loaded at all)', () => {
  const groupsDef = userSchema.coreAttribute('groups')!;
  const passwordDef = userSchema.coreAttribute('password')!;
  const idDef = userSchema.coreAttribute('id')!;
  const deptDef = userSchema.attributeOf(ENTERPRISE, 'department')!;
  it.each<[string, Projection, AttributeDef, string, boolean]>([
    ['default: groups wanted', {}, groupsDef, USER_URN, true],
    ['excluded groups', { excludedAttributes: ['groups'] }, groupsDef, USER_URN, false],
    ['attributes without groups', { attributes: ['userName'] }, groupsDef, USER_URN, false],
    ['attributes with groups.display', { attributes: ['groups.display'] }, groupsDef, USER_URN, true],
    ['password never', { attributes: ['password'] }, passwordDef, USER_URN, false],
    ['id always', { attributes: ['userName'] }, idDef, USER_URN, true],
    ['extension attribute through its whole extension', { attributes: [ENTERPRISE] }, deptDef, ENTERPRISE, true],
    ['extension attribute excluded through its extension', { excludedAttributes: [ENTERPRISE] }, deptDef, ENTERPRISE, false],
  ])('%s', (_note, projection, def, urn, wanted) => {
    expect(wantsAttribute(userSchema, projection)(urn, def)).toBe(wanted);
  });
});

describe('a projection compiled once, applied to many resources (CompiledProjection)', () => {
  // Resources unlike each other, in the order a page might hold them: every key decided on its
  // first sight must decide the same for the next resource, whatever that one holds.
  const RESOURCES: JsonObject[] = [
    FULL,
    { id: 'u-2', userName: 'only-name', meta: FULL.meta },
    { id: 'u-3', userName: 'x', emails: [{ value: 'x@x', type: 'work' }], [ENTERPRISE]: { department: 'Ops' } },
    { id: 'u-4', userName: 'y', name: { familyName: 'Y' }, groups: [], [PROVISIO_USER]: { primaryAdmin: true } },
    { ...FULL, id: 'u-5', displayName: undefined as unknown as string, emails: [{ value: 'z@z' }] },
  ];
  const PROJECTIONS: Projection[] = [
    {},
    { attributes: ['userName'] },
    { attributes: ['emails.value', 'name.familyName'] },
    { attributes: [ENTERPRISE, 'groups'] },
    { attributes: [`${ENTERPRISE}:department`, 'meta.version'] },
    { excludedAttributes: ['emails', 'groups'] },
    { excludedAttributes: ['name.givenName', `${PROVISIO_USER}:primaryAdmin`] },
    { excludedAttributes: [ENTERPRISE] },
  ];
  it.each(PROJECTIONS.map((pr) => [JSON.stringify(pr), pr] as [string, Projection]))('%s: one compiled projection gives what project() gives each resource', (_n, projection) => {
    const compiled = new CompiledProjection(userSchema, projection);
    for (const r of RESOURCES) expect(compiled.apply(r)).toEqual(project(userSchema, r, projection));
    // ...and again, now that every key has been seen once.
    for (const r of [...RESOURCES].reverse()) expect(compiled.apply(r)).toEqual(project(userSchema, r, projection));
  });

  it.each<[string, Projection, JsonObject, JsonObject]>([
    ['an empty complex value reads as absent', {}, { id: 'u', name: {} }, { schemas: [USER_URN], id: 'u' }],
    ['an empty multi-valued attribute reads as absent', {}, { id: 'u', emails: [] }, { schemas: [USER_URN], id: 'u' }],
    ['an empty value inside a multi-valued attribute is dropped, the rest kept', {}, { id: 'u', emails: [{}, { value: 'v' }] }, { schemas: [USER_URN], id: 'u', emails: [{ value: 'v' }] }],
    ['a multi-valued attribute of empty values reads as absent', {}, { id: 'u', emails: [{}, {}] }, { schemas: [USER_URN], id: 'u' }],
    ['a key of another case is resolved like the canonical one', { attributes: ['userName'] }, { id: 'u', USERNAME: 'x' }, { schemas: [USER_URN], id: 'u', USERNAME: 'x' }],
    ['an extension whose attributes all go leaves schemas', { attributes: ['userName'] }, { id: 'u', userName: 'x', [ENTERPRISE]: { department: 'D' } }, { schemas: [USER_URN], id: 'u', userName: 'x' }],
    ['an extension key that is not an object is dropped', {}, { id: 'u', [ENTERPRISE]: 'nonsense' }, { schemas: [USER_URN], id: 'u' }],
    ['an unknown key is dropped', {}, { id: 'u', shoeSize: 44 }, { schemas: [USER_URN], id: 'u' }],
    ['an unknown sub-key of a wholly returned attribute is kept', {}, { id: 'u', name: { givenName: 'G', nickname: 'n' } }, { schemas: [USER_URN], id: 'u', name: { givenName: 'G', nickname: 'n' } }],
    ['an unknown sub-key goes when sub-attributes are named', { attributes: ['name.givenName'] }, { id: 'u', name: { givenName: 'G', nickname: 'n' } }, { schemas: [USER_URN], id: 'u', name: { givenName: 'G' } }],
  ])('%s', (_note, projection, resource, expected) => {
    expect(new CompiledProjection(userSchema, projection).apply(resource)).toEqual(expected);
    expect(project(userSchema, resource, projection)).toEqual(expected);
  });

  it('returns a wholly selected value as it is (no copy), and copies one it must trim', () => {
    const out = project(userSchema, FULL, {});
    expect(out.emails).toBe(FULL.emails);
    expect(out.name).toBe(FULL.name);
    expect(out.meta).toBe(FULL.meta);
    const trimmed = project(things, THING, {});
    expect(trimmed.box).toEqual({ open: 'o', key: 'k' });
    expect(trimmed.box).not.toBe(THING.box);
  });

  it('wants() agrees with wantsAttribute', () => {
    const groupsDef = userSchema.coreAttribute('groups')!;
    for (const projection of PROJECTIONS) {
      expect(new CompiledProjection(userSchema, projection).wants(USER_URN, groupsDef)).toBe(wantsAttribute(userSchema, projection)(USER_URN, groupsDef));
    }
  });
});

describe('ProjectionCache (compiled projections reused across requests, bounded)', () => {
  it('gives the same compiled projection for the same schema and lists', () => {
    const cache = new ProjectionCache(8);
    const one = cache.get(userSchema, { attributes: ['userName', 'emails'] });
    expect(cache.get(userSchema, { attributes: ['userName', 'emails'] })).toBe(one);
    expect(cache.get(userSchema, {})).toBe(cache.get(userSchema, { attributes: undefined, excludedAttributes: undefined }));
    expect(cache.size).toBe(2);
  });

  it.each<[string, Projection, Projection]>([
    ['attributes vs excludedAttributes of the same names', { attributes: ['userName'] }, { excludedAttributes: ['userName'] }],
    ['another order', { attributes: ['userName', 'emails'] }, { attributes: ['emails', 'userName'] }],
    ['one name with a comma vs two names', { attributes: ['userName,emails'] }, { attributes: ['userName', 'emails'] }],
    ['none vs an empty-looking list', {}, { attributes: [] }],
  ])('keeps %s apart', (_note, x, y) => {
    const cache = new ProjectionCache(8);
    expect(cache.get(userSchema, x)).not.toBe(cache.get(userSchema, y));
  });

  it('keeps schemas apart: the same lists compile per schema', () => {
    const cache = new ProjectionCache(8);
    const u = cache.get(userSchema, { attributes: ['id'] });
    const t = cache.get(things, { attributes: ['id'] });
    expect(u).not.toBe(t);
    expect(t.apply(THING)).toEqual({ schemas: [CORE_URN], id: 't-1', always: 'A' });
  });

  it('holds at most maxEntries per schema (client-chosen lists cannot grow it without bound), dropping the oldest', () => {
    const cache = new ProjectionCache(4);
    const first = cache.get(userSchema, { attributes: ['a0'] });
    for (let i = 1; i < 50; i++) cache.get(userSchema, { attributes: [`a${i}`] });
    expect(cache.size).toBe(4);
    expect(cache.get(userSchema, { attributes: ['a0'] })).not.toBe(first);
    expect(cache.get(userSchema, { attributes: ['a49'] })).toBe(cache.get(userSchema, { attributes: ['a49'] }));
  });
});

describe('splitAttributeList (comma-separated query parameter, RFC 7644 §3.4.2.5)', () => {
  it.each<[string, unknown, string[] | undefined]>([
    ['absent', undefined, undefined],
    ['empty', '', undefined],
    ['only commas and spaces', ' , ,', undefined],
    ['one', 'userName', ['userName']],
    ['spaces trimmed', ' userName , name.givenName ,emails', ['userName', 'name.givenName', 'emails']],
    ['repeated parameter (array)', ['userName', 'emails,name'], ['userName', 'emails', 'name']],
    ['URN with colons', `${ENTERPRISE}:manager`, [`${ENTERPRISE}:manager`]],
  ])('%s', (_note, raw, expected) => {
    expect(splitAttributeList(raw)).toEqual(expected);
  });

  it('non-string values are 400 invalidValue', () => {
    expectScimError(() => splitAttributeList([{ a: 1 }]), 400, 'invalidValue');
  });
});

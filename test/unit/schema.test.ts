// ResourceSchema (server/scim/schema.ts): name resolution shared by filters, sortBy, projection and
// normalization — case-insensitive names and URNs (RFC 7643 §2.1), attribute notation (RFC 7644 §3.10).
import { ResourceSchema } from '../../server/scim/schema';
import { ENTERPRISE, GROUP_URN, groupSchema, PROVISIO_USER, USER_URN, userSchema } from './helpers';

describe('resolve (RFC 7644 §3.10 attribute notation)', () => {
  it.each<[string, string, { schema: string; extension: boolean; attribute: string; sub?: string }]>([
    ['core attribute', 'userName', { schema: USER_URN, extension: false, attribute: 'userName' }],
    ['any case', 'USERNAME', { schema: USER_URN, extension: false, attribute: 'userName' }],
    ['sub-attribute', 'name.givenName', { schema: USER_URN, extension: false, attribute: 'name', sub: 'givenName' }],
    ['sub-attribute in any case', 'NAME.GIVENNAME', { schema: USER_URN, extension: false, attribute: 'name', sub: 'givenName' }],
    ['common attribute id (RFC 7643 §3.1)', 'id', { schema: USER_URN, extension: false, attribute: 'id' }],
    ['common attribute meta.lastModified', 'meta.lastModified', { schema: USER_URN, extension: false, attribute: 'meta', sub: 'lastModified' }],
    ['core URN-qualified', `${USER_URN}:userName`, { schema: USER_URN, extension: false, attribute: 'userName' }],
    ['core URN in any case', `${USER_URN.toUpperCase()}:name.familyName`, { schema: USER_URN, extension: false, attribute: 'name', sub: 'familyName' }],
    ['extension attribute', `${ENTERPRISE}:employeeNumber`, { schema: ENTERPRISE, extension: true, attribute: 'employeeNumber' }],
    ['extension sub-attribute', `${ENTERPRISE}:manager.value`, { schema: ENTERPRISE, extension: true, attribute: 'manager', sub: 'value' }],
    ['extension URN in any case gives the canonical URN', `${ENTERPRISE.toLowerCase()}:EMPLOYEENUMBER`, { schema: ENTERPRISE, extension: true, attribute: 'employeeNumber' }],
    ['$ref sub-attribute', 'groups.$ref', { schema: USER_URN, extension: false, attribute: 'groups', sub: '$ref' }],
  ])('%s', (_note, path, expected) => {
    const r = userSchema.resolve(path)!;
    expect(r).toBeDefined();
    expect({ schema: r.schema, extension: r.extension, attribute: r.attribute.name, ...(r.sub ? { sub: r.sub.name } : {}) }).toEqual(expected);
  });

  it.each<[string, string]>([
    ['unknown attribute', 'shoeSize'],
    ['unknown sub-attribute', 'name.nickname'],
    ['sub-attribute of a simple attribute', 'userName.value'],
    ['too deep', 'name.givenName.x'],
    ['unknown URN', 'urn:example:ext:2.0:User:x'],
    ['a bare extension URN is a schema, not an attribute', ENTERPRISE],
    ['an extension URN without attribute but with ":"', `${ENTERPRISE}:`],
    ['an attribute of another resource type', `${GROUP_URN}:displayName`],
  ])('%s → undefined', (_note, path) => {
    expect(userSchema.resolve(path)).toBeUndefined();
  });

  it('leaf is the sub-attribute when there is one', () => {
    expect(ResourceSchema.leaf(userSchema.resolve('emails.primary')!).type).toBe('boolean');
    expect(ResourceSchema.leaf(userSchema.resolve('emails')!).type).toBe('complex');
  });
});

describe('extension / attributeOf / splitUrn', () => {
  it.each<[string, string | undefined]>([
    [ENTERPRISE, ENTERPRISE],
    [ENTERPRISE.toUpperCase(), ENTERPRISE],
    [PROVISIO_USER, PROVISIO_USER],
    [USER_URN, undefined], // the core schema is not an extension
    ['urn:example:other', undefined],
  ])('extension(%s)', (urn, expected) => {
    expect(userSchema.extension(urn)?.id).toBe(expected);
  });

  it('attributeOf looks up core and extension attributes in any case', () => {
    expect(userSchema.attributeOf(USER_URN.toLowerCase(), 'USERNAME')?.name).toBe('userName');
    expect(userSchema.attributeOf(ENTERPRISE, 'Department')?.name).toBe('department');
    expect(userSchema.attributeOf(ENTERPRISE, 'userName')).toBeUndefined();
  });

  it('splitUrn takes the longest known URN and keeps the rest as written', () => {
    expect(userSchema.splitUrn(`${ENTERPRISE.toLowerCase()}:Manager.Value`)).toEqual({ urn: ENTERPRISE, rest: 'Manager.Value' });
    expect(userSchema.splitUrn(`${USER_URN}:userName`)).toEqual({ urn: USER_URN, rest: 'userName' });
    expect(userSchema.splitUrn('userName')).toBeUndefined();
  });

  it('groups know their own schemas only', () => {
    expect(groupSchema.resolve('displayName')?.attribute.name).toBe('displayName');
    expect(groupSchema.resolve('userName')).toBeUndefined();
    expect(groupSchema.extension(ENTERPRISE)).toBeUndefined();
  });

  it('a resource type naming a missing schema fails at start', () => {
    expect(
      () => new ResourceSchema({ id: 'X', name: 'X', endpoint: '/X', schema: 'urn:missing', schemaExtensions: [] }, []),
    ).toThrow(/urn:missing/);
  });
});

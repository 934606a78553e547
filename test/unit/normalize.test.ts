// normalizeResource / requireAttributes / foldResource (server/scim/normalize.ts) with the real
// User and Group schemas: the bodies real clients send (docs/okta.md, docs/entra.md) become one
// canonical stored form (RFC 7643 §2, RFC 7644 §3.3, §3.5.1).
import { foldResource, JsonObject, normalizeResource, requireAttributes } from '../../server/scim/normalize';
import { ENTERPRISE, expectScimError, groupSchema, PROVISIO_GROUP, PROVISIO_USER, USER_URN, userSchema } from './helpers';

const norm = (body: unknown) => normalizeResource(userSchema, body);

describe('normalizeResource: accepted input and its canonical form', () => {
  it.each<[string, JsonObject, JsonObject]>([
    ['canonical input is kept', { schemas: [USER_URN], userName: 'bjensen', displayName: 'Babs' }, { userName: 'bjensen', displayName: 'Babs' }],
    ['attribute names in any case (RFC 7643 §2.1)', { USERNAME: 'a', DisplayName: 'A', ACTIVE: true }, { userName: 'a', displayName: 'A', active: true }],
    ['sub-attribute names in any case', { userName: 'a', NAME: { GIVENNAME: 'Ann', familyname: 'Lee' } }, { userName: 'a', name: { givenName: 'Ann', familyName: 'Lee' } }],
    [
      'multi-valued sub-attribute names in any case',
      { userName: 'a', Emails: [{ VALUE: 'a@x', Type: 'work', PRIMARY: true }] },
      { userName: 'a', emails: [{ value: 'a@x', type: 'work', primary: true }] },
    ],
    ['string values keep their case', { userName: 'Alice@Example.COM' }, { userName: 'Alice@Example.COM' }],
    ['null means absent (Entra)', { userName: 'a', displayName: null, name: null, emails: null }, { userName: 'a' }],
    ['"" means absent (OneLogin templates; Okta middleName "")', { userName: 'a', title: '', name: { givenName: 'A', middleName: '' } }, { userName: 'a', name: { givenName: 'A' } }],
    ['a complex value left empty is absent', { userName: 'a', name: { givenName: '', familyName: null } }, { userName: 'a' }],
    ['empty multi-valued list is absent (Okta sends groups: [])', { userName: 'a', emails: [], groups: [] }, { userName: 'a' }],
    ['elements left empty are dropped', { userName: 'a', emails: [{ value: '', type: '' }, { value: 'b@x' }] }, { userName: 'a', emails: [{ value: 'b@x' }] }],
    ['"True" / "False" strings for booleans (Entra default PATCH forms)', { userName: 'a', active: 'False' }, { userName: 'a', active: false }],
    ['" true " is trimmed and any case', { userName: 'a', active: ' TRUE ' }, { userName: 'a', active: true }],
    ['"" boolean is absent', { userName: 'a', active: '' }, { userName: 'a' }],
    ['primary "True" inside an element', { userName: 'a', emails: [{ value: 'a@x', primary: 'True' }] }, { userName: 'a', emails: [{ value: 'a@x', primary: true }] }],
    ['numbers and booleans given for a string become strings', { userName: 'a', title: 42, nickName: true }, { userName: 'a', title: '42', nickName: 'true' }],
    ['a one-element array for a singular attribute is unwrapped', { userName: ['a'] }, { userName: 'a' }],
    ['a single object for a multi-valued attribute (OneLogin templates)', { userName: 'a', emails: { value: 'a@x', type: 'work' } }, { userName: 'a', emails: [{ value: 'a@x', type: 'work' }] }],
    ['a bare string for a multi-valued complex attribute with `value`', { userName: 'a', phoneNumbers: '+1 555' }, { userName: 'a', phoneNumbers: [{ value: '+1 555' }] }],
    ['"" for a multi-valued attribute (OneLogin empty parameter)', { userName: 'a', emails: '' }, { userName: 'a' }],
    ['"" for a complex attribute without `value` (OneLogin empty parameter)', { userName: 'a', name: '', addresses: '' }, { userName: 'a' }],
    ['unknown attributes are dropped, not errors (RFC 7644 §3.3 tolerance)', { userName: 'a', shoeSize: 44, 'name.givenName': 'x' }, { userName: 'a' }],
    ['unknown sub-attributes are dropped', { userName: 'a', name: { givenName: 'A', nickname: 'x' } }, { userName: 'a', name: { givenName: 'A' } }],
    [
      'id, meta, schemas and readOnly groups are the server\'s (RFC 7643 §3.1; Okta PUT carries them)',
      { id: 'abc', schemas: [USER_URN], meta: { created: '2000-01-01T00:00:00Z' }, groups: [{ value: 'g' }], userName: 'a' },
      { userName: 'a' },
    ],
    ['password is writeOnly: dropped by default (RFC 7643 §4.1.1; Okta sends a placeholder)', { userName: 'a', password: 'S3cret!' }, { userName: 'a' }],
    ['locale and externalId kept (Okta create)', { userName: 'a', locale: 'en-US', externalId: '00u1' }, { userName: 'a', locale: 'en-US', externalId: '00u1' }],
  ])('%s', (_note, body, expected) => {
    expect(norm(body)).toEqual(expected);
  });
});

describe('normalizeResource: extensions', () => {
  it.each<[string, JsonObject, JsonObject]>([
    ['extension under its URN', { userName: 'a', schemas: [USER_URN, ENTERPRISE], [ENTERPRISE]: { employeeNumber: '7' } }, { userName: 'a', [ENTERPRISE]: { employeeNumber: '7' } }],
    ['extension whose URN is not in `schemas` (Entra custom extensions)', { userName: 'a', schemas: [USER_URN], [ENTERPRISE]: { department: 'R&D' } }, { userName: 'a', [ENTERPRISE]: { department: 'R&D' } }],
    ['extension URN and attribute names in any case', { userName: 'a', [ENTERPRISE.toUpperCase()]: { EmployeeNumber: '7' } }, { userName: 'a', [ENTERPRISE]: { employeeNumber: '7' } }],
    ['URN-qualified flat extension key (Entra aadOptscim062020)', { userName: 'a', [`${ENTERPRISE}:employeeNumber`]: '7' }, { userName: 'a', [ENTERPRISE]: { employeeNumber: '7' } }],
    ['URN-qualified flat core key', { [`${USER_URN}:userName`]: 'a', [`${USER_URN.toLowerCase()}:displayName`]: 'A' }, { userName: 'a', displayName: 'A' }],
    ['flat key and object merge', { userName: 'a', [ENTERPRISE]: { department: 'D' }, [`${ENTERPRISE}:costCenter`]: 'C' }, { userName: 'a', [ENTERPRISE]: { department: 'D', costCenter: 'C' } }],
    ['manager as a bare string (Entra)', { userName: 'a', [ENTERPRISE]: { manager: 'm-1' } }, { userName: 'a', [ENTERPRISE]: { manager: { value: 'm-1' } } }],
    ['manager as a bare string under a flat key (Entra)', { userName: 'a', [`${ENTERPRISE}:manager`]: 'm-1' }, { userName: 'a', [ENTERPRISE]: { manager: { value: 'm-1' } } }],
    ['manager "" is absent (Entra removal by replace with "")', { userName: 'a', [ENTERPRISE]: { manager: '' } }, { userName: 'a' }],
    ['manager.displayName is readOnly: dropped', { userName: 'a', [ENTERPRISE]: { manager: { value: 'm', displayName: 'Boss' } } }, { userName: 'a', [ENTERPRISE]: { manager: { value: 'm' } } }],
    ['an extension left empty is absent', { userName: 'a', [ENTERPRISE]: { department: '', manager: null } }, { userName: 'a' }],
    ['an extension given as null is absent', { userName: 'a', [ENTERPRISE]: null }, { userName: 'a' }],
    ['readOnly extension attributes are dropped', { userName: 'a', [PROVISIO_USER]: { activationState: 'active', primaryAdmin: true, priceList: 'P' } }, { userName: 'a', [PROVISIO_USER]: { priceList: 'P' } }],
    ['unknown extension URN is dropped (not a schema of this resource type)', { userName: 'a', 'urn:ietf:params:scim:schemas:extension:CustomExt:2.0:User': { x: 1 } }, { userName: 'a' }],
    ['unknown attribute of a known extension is dropped', { userName: 'a', [ENTERPRISE]: { shoeSize: 44 } }, { userName: 'a' }],
  ])('%s', (_note, body, expected) => {
    expect(norm(body)).toEqual(expected);
  });

  it('group: members keep value/type, display is readOnly; a Microsoft schema URN in `schemas` is ignored', () => {
    const body = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/Group'],
      displayName: 'G',
      members: [{ value: 'u-1', display: 'Alice', type: 'User' }],
      [PROVISIO_GROUP]: { kind: 'company' },
    };
    expect(normalizeResource(groupSchema, body)).toEqual({ displayName: 'G', members: [{ value: 'u-1', type: 'User' }], [PROVISIO_GROUP]: { kind: 'company' } });
  });
});

describe('normalizeResource: options', () => {
  it('keepWriteOnly keeps password', () => {
    expect(normalizeResource(userSchema, { userName: 'a', password: 'p' }, { keepWriteOnly: true })).toEqual({ userName: 'a', password: 'p' });
  });
  it('keepReadOnly keeps readOnly extension values (the server building a resource)', () => {
    const out = normalizeResource(userSchema, { userName: 'a', [PROVISIO_USER]: { privacyPolicyAcceptedAt: '2024-01-31T10:00:00Z' } }, { keepReadOnly: true });
    expect(out).toEqual({ userName: 'a', [PROVISIO_USER]: { privacyPolicyAcceptedAt: '2024-01-31T10:00:00Z' } });
  });
  it('keepImmutable: false drops immutable attributes', () => {
    expect(normalizeResource(groupSchema, { displayName: 'G', [PROVISIO_GROUP]: { kind: 'group' } }, { keepImmutable: false })).toEqual({ displayName: 'G' });
  });
});

describe('normalizeResource: at most one primary (RFC 7643 §2.4)', () => {
  it.each<[string, JsonObject[], (boolean | undefined)[]]>([
    ['two primaries: the first wins', [{ value: 'a', primary: true }, { value: 'b', primary: true }], [true, undefined]],
    ['three, as strings', [{ value: 'a', primary: 'False' }, { value: 'b', primary: 'True' }, { value: 'c', primary: 'true' }], [false, true, undefined]],
    ['one primary is untouched', [{ value: 'a' }, { value: 'b', primary: true }], [undefined, true]],
  ])('%s', (_note, emails, primaries) => {
    const out = norm({ userName: 'x', emails }) as { emails: JsonObject[] };
    expect(out.emails.map((e) => e.primary)).toEqual(primaries);
  });
});

describe('normalizeResource: type errors are 400 invalidValue (RFC 7644 §3.12)', () => {
  it.each<[string, unknown]>([
    ['body is not an object', ['userName']],
    ['body is a string', 'userName'],
    ['object for a string', { userName: { value: 'a' } }],
    ['several values for a singular attribute', { userName: ['a', 'b'] }],
    ['non-boolean string for a boolean', { userName: 'a', active: 'yes' }],
    ['number for a boolean', { userName: 'a', active: 1 }],
    ['string for a complex attribute without `value`', { userName: 'a', name: 'Ann Lee' }],
    ['number for a complex element', { userName: 'a', emails: [5] }],
    ['non-boolean primary', { userName: 'a', emails: [{ value: 'a@x', primary: 'maybe' }] }],
    ['extension that is not an object', { userName: 'a', [ENTERPRISE]: 'x' }],
    ['object for an extension string', { userName: 'a', [ENTERPRISE]: { department: { x: 1 } } }],
    ['not a date-time for a dateTime (with keepReadOnly)', { userName: 'a', [PROVISIO_USER]: { privacyPolicyAcceptedAt: 'yesterday' } }],
  ])('%s', (_note, body) => {
    expectScimError(() => normalizeResource(userSchema, body, { keepReadOnly: true }), 400, 'invalidValue');
  });

  it('names the attribute in the message', () => {
    const e = expectScimError(() => norm({ userName: 'a', emails: [{ value: 'x' }, { value: 'y', primary: 'perhaps' }] }), 400, 'invalidValue');
    expect(e.message).toMatch(/emails\[1\]\.primary/);
  });
});

describe('requireAttributes (RFC 7643 §2.2 required)', () => {
  it.each<[string, JsonObject]>([
    ['userName missing', { displayName: 'x' }],
    ['userName "" (normalized away)', norm({ userName: '' })],
    ['userName null (normalized away)', norm({ userName: null })],
  ])('%s → 400 invalidValue', (_note, resource) => {
    const e = expectScimError(() => requireAttributes(userSchema, resource), 400, 'invalidValue');
    expect(e.message).toMatch(/userName/);
  });

  it('passes with userName', () => {
    expect(() => requireAttributes(userSchema, norm({ userName: 'a' }))).not.toThrow();
  });

  it('groups require displayName', () => {
    expectScimError(() => requireAttributes(groupSchema, normalizeResource(groupSchema, { members: [] })), 400, 'invalidValue');
    expect(() => requireAttributes(groupSchema, normalizeResource(groupSchema, { displayName: 'G' }))).not.toThrow();
  });
});

describe('foldResource: caseExact=false strings lower-cased, the rest as given (RFC 7644 §3.4.2.2 case rules)', () => {
  const resource: JsonObject = {
    id: 'ABC-Id',
    externalId: 'Ext-ABC',
    userName: 'Alice@Example.COM',
    name: { givenName: 'Alice', familyName: 'LIDDELL' },
    active: true,
    emails: [{ value: 'Alice@Example.COM', type: 'Work', primary: true }],
    photos: [{ value: 'https://Example.com/A.png' }],
    x509Certificates: [{ value: 'MIIBase64==' }],
    [ENTERPRISE]: { employeeNumber: 'E-1', manager: { value: 'Boss-ID' } },
    [PROVISIO_USER]: { priceList: 'PL-Gold', notificationEmail: 'N@X.com' },
    unknownKey: 'KeepMe',
  };
  const folded = foldResource(userSchema, resource);

  it.each<[string, (f: JsonObject) => unknown, unknown]>([
    ['id is caseExact: kept', (f) => f.id, 'ABC-Id'],
    ['externalId is caseExact: kept', (f) => f.externalId, 'Ext-ABC'],
    ['userName lower-cased', (f) => f.userName, 'alice@example.com'],
    ['sub-attributes lower-cased', (f) => f.name, { givenName: 'alice', familyName: 'liddell' }],
    ['booleans untouched', (f) => f.active, true],
    ['multi-valued elements lower-cased, booleans kept', (f) => f.emails, [{ value: 'alice@example.com', type: 'work', primary: true }]],
    ['references with caseExact=false lower-cased', (f) => (f.photos as JsonObject[])[0].value, 'https://example.com/a.png'],
    ['binary is never folded', (f) => (f.x509Certificates as JsonObject[])[0].value, 'MIIBase64=='],
    ['extension strings lower-cased', (f) => f[ENTERPRISE], { employeeNumber: 'e-1', manager: { value: 'boss-id' } }],
    ['caseExact extension attribute kept', (f) => (f[PROVISIO_USER] as JsonObject).priceList, 'PL-Gold'],
    ['non-caseExact extension attribute folded', (f) => (f[PROVISIO_USER] as JsonObject).notificationEmail, 'n@x.com'],
    ['unknown keys pass through', (f) => f.unknownKey, 'KeepMe'],
  ])('%s', (_note, pick, expected) => {
    expect(pick(folded)).toEqual(expected);
  });

  it('does not modify its input', () => {
    expect(resource.userName).toBe('Alice@Example.COM');
    expect((resource.emails as JsonObject[])[0].value).toBe('Alice@Example.COM');
  });

  it('group kind is caseExact; displayName is not', () => {
    expect(foldResource(groupSchema, { displayName: 'Sales', [PROVISIO_GROUP]: { kind: 'subAccount' } })).toEqual({
      displayName: 'sales',
      [PROVISIO_GROUP]: { kind: 'subAccount' },
    });
  });
});

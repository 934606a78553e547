// The admin API's user forms (server/admin/user-fields.ts): fields → SCIM resource and PatchOp
// operations, per-field errors, rows back, and the list's filter.
import { createValidator } from '../../server/openapi/validator';
import { fieldOfError, listFilter, NEW_USER_SCHEMA, parseNewUser as parseChecked, parseUserPatch as patchChecked, stateOf, USER_PATCH_SCHEMA, userRow } from '../../server/admin/user-fields';
import { fieldErrors } from '../../server/openapi/describe';
import { conflict, invalidValue, uniqueness } from '../../server/errors';

const EXT = 'urn:provisio:params:scim:schemas:extension:2.0:User';

// As the route runs them: the body schema first (openapi/describe.ts), then the form's own rules.
const ajv = createValidator();
const checked = <T>(schema: object, parse: (body: unknown) => T) => {
  const validate = ajv.compile(schema);
  return (body: unknown): T => {
    if (!validate(body)) throw Object.assign(new Error('schema'), { fields: fieldErrors(validate.errors!) });
    return parse(body);
  };
};
const parseNewUser = checked(NEW_USER_SCHEMA, parseChecked);
const parseUserPatch = checked(USER_PATCH_SCHEMA, patchChecked);

const fieldsOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (e) {
    return ((e as { fields?: { field: string }[] }).fields ?? []).map((f) => f.field).sort();
  }
  return [];
};

describe('parseNewUser', () => {
  it('builds the SCIM user: names, sign-in email as userName and work email, role, extension, services', () => {
    const { resource, activation } = parseNewUser({ givenName: ' Ada ', familyName: 'Lovelace', email: 'ada@acme.example', role: 'admin', services: ['m365', 'm365'], priceList: 'p1', activation: 'now' });
    expect(activation).toBe('now');
    expect(resource).toMatchObject({
      userName: 'ada@acme.example',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      displayName: 'Ada Lovelace',
      emails: [{ value: 'ada@acme.example', type: 'work', primary: true }],
      roles: [{ value: 'admin' }],
      entitlements: [{ type: 'service', value: 'm365' }],
      [EXT]: { priceList: 'p1', activationMode: 'generatedCredentials' },
    });
  });

  it.each([
    ['no names', { email: 'a@b.example' }, ['familyName', 'givenName']],
    ['a bad email', { givenName: 'A', familyName: 'B', email: 'a@' }, ['email']],
    ['an unknown role and activation', { givenName: 'A', familyName: 'B', email: 'a@b.example', role: 'root', activation: 'soon' }, ['activation', 'role']],
    ['a bad notification email and services that are not keys', { givenName: 'A', familyName: 'B', email: 'a@b.example', notificationEmail: 'x', services: [1] }, ['notificationEmail', 'services']],
    ['a bad notification email', { givenName: 'A', familyName: 'B', email: 'a@b.example', notificationEmail: 'x' }, ['notificationEmail']],
    ['an unknown field', { givenName: 'A', familyName: 'B', email: 'a@b.example', age: 3 }, ['age']],
  ])('names every field at fault: %s', (_name, body, fields) => {
    expect(fieldsOf(() => parseNewUser(body))).toEqual(fields);
  });
});

describe('parseUserPatch', () => {
  it('turns fields into replace and remove operations', () => {
    expect(parseUserPatch({ familyName: 'Byron', email: 'ada@acme.example', role: 'user', notificationEmail: null, services: [], active: false }).Operations).toEqual([
      { op: 'replace', path: 'name.familyName', value: 'Byron' },
      { op: 'replace', path: 'userName', value: 'ada@acme.example' },
      { op: 'replace', path: 'emails[type eq "work"].value', value: 'ada@acme.example' },
      { op: 'replace', path: 'roles', value: [{ value: 'user' }] },
      { op: 'remove', path: `${EXT}:notificationEmail` },
      { op: 'remove', path: 'entitlements' },
      { op: 'replace', path: 'active', value: false },
    ]);
  });

  it('refuses an empty body and emptied names or email', () => {
    expect(fieldsOf(() => parseUserPatch({}))).toEqual(['(body)']);
    expect(fieldsOf(() => parseUserPatch({ givenName: '', email: null }))).toEqual(['email', 'givenName']);
  });
});

describe('rows and the list', () => {
  it('reads the state: inactive, pending, active', () => {
    expect(stateOf({ active: false, [EXT]: { activationState: 'pending' } })).toBe('inactive');
    expect(stateOf({ active: true, [EXT]: { activationState: 'pending' } })).toBe('pending');
    expect(stateOf({ active: true, [EXT]: { activationState: 'active' } })).toBe('active');
  });

  it('builds a row from a SCIM user', () => {
    const row = userRow({ id: 'u1', userName: 'a@b.example', name: { givenName: 'A', familyName: 'B' }, roles: [{ value: 'admin' }], entitlements: [{ type: 'service', value: 's1' }], active: true, [EXT]: { activationState: 'active', primaryAdmin: true } }, null);
    expect(row).toMatchObject({ id: 'u1', displayName: 'A B', email: 'a@b.example', role: 'admin', state: 'active', primaryAdmin: true, services: ['s1'], lastSignInAt: null });
  });

  it('pins service errors to fields by the attribute they name', () => {
    expect(fieldOfError(uniqueness('userName is already in use'))).toBe('email');
    expect(fieldOfError(invalidValue(`${EXT}:priceList must be the id of one of the tenant's price lists`))).toBe('priceList');
    expect(fieldOfError(conflict('something else'))).toBeUndefined();
  });

  it('quotes the search so it cannot change the filter', () => {
    expect(listFilter({ search: 'a" or userName pr or "' })).toBe('(userName co "a\\" or userName pr or \\"" or name.givenName co "a\\" or userName pr or \\"" or name.familyName co "a\\" or userName pr or \\"" or displayName co "a\\" or userName pr or \\"")');
    expect(listFilter({ state: 'inactive', role: 'admin' })).toBe('active eq false and roles.value eq "admin"');
    expect(listFilter({})).toBeUndefined();
  });
});

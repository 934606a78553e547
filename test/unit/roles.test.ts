// Roles (server/resources/roles.ts): the values accepted, the defaults on create and replace, and
// the primary admin who is always an admin.
import { normalizeRoles, roleOf } from '../../server/resources/roles';

const normalized = (r: Record<string, unknown>, existing?: { data: Record<string, unknown>; isPrimaryAdmin: boolean }) => {
  const copy = JSON.parse(JSON.stringify(r));
  normalizeRoles(copy, existing as never);
  return copy.roles;
};

describe('normalizeRoles', () => {
  it.each([
    ['none on create → user', {}, undefined, [{ value: 'user' }]],
    ['Okta: a roles array', { roles: [{ value: 'Admin' }] }, undefined, [{ value: 'admin' }]],
    [
      'Entra: an app role with primary "True" and its type',
      { roles: [{ value: 'admin', primary: 'True', type: 'WindowsAzureActiveDirectoryRole' }] },
      undefined,
      [{ value: 'admin', primary: 'True', type: 'WindowsAzureActiveDirectoryRole' }],
    ],
    ['a bare string', { roles: ['user'] }, undefined, [{ value: 'user' }]],
    ['one object instead of a list', { roles: { value: 'USER' } }, undefined, [{ value: 'user' }]],
    ['none on replace keeps the current ones', {}, { data: { roles: [{ value: 'admin' }] }, isPrimaryAdmin: false }, [{ value: 'admin' }]],
    ['none on replace of someone with none stays none', {}, { data: {}, isPrimaryAdmin: false }, undefined],
    [
      'an unchanged unknown value stored before the rule is left alone',
      { roles: [{ value: 'Student' }] },
      { data: { roles: [{ value: 'Student' }] }, isPrimaryAdmin: false },
      [{ value: 'Student' }],
    ],
  ])('%s', (_name, r, existing, expected) => {
    expect(normalized(r, existing)).toEqual(expected);
  });

  it.each([
    ['an unknown value', { roles: [{ value: 'owner' }] }],
    ['a value that is not a string', { roles: [{ value: 1 }] }],
    ['an element without value', { roles: [{ display: 'Admin' }] }],
  ])('refuses %s with 400 invalidValue', (_name, r) => {
    expect(() => normalized(r)).toThrow(expect.objectContaining({ status: 400, scimType: 'invalidValue' }));
  });

  it('keeps the primary admin an admin (403)', () => {
    const existing = { data: { roles: [{ value: 'admin' }] }, isPrimaryAdmin: true };
    expect(() => normalized({ roles: [{ value: 'user' }] }, existing)).toThrow(expect.objectContaining({ status: 403 }));
    expect(normalized({ roles: [{ value: 'admin' }, { value: 'user' }] }, existing)).toEqual([{ value: 'admin' }, { value: 'user' }]);
  });
});

describe('roleOf', () => {
  it('is admin when any role is admin, else user', () => {
    expect(roleOf({ roles: [{ value: 'user' }, { value: 'admin' }] })).toBe('admin');
    expect(roleOf({ roles: [{ value: 'user' }] })).toBe('user');
    expect(roleOf({})).toBe('user');
  });
});

// The pure rules of what a user is assigned (issue 10; server/resources/assignments.ts): the key
// format of services and profiles, reading `entitlements` as services, and what a profile grants.
import { grantedPermissions, parseKey, serviceKeysOf } from '../../server/resources/assignments';
import { ScimError } from '../../server/errors';

describe('parseKey', () => {
  it.each([
    ['m365', 'm365'],
    ['M365', 'm365'],
    ['crm.basic', 'crm.basic'],
    ['backup_eu-2', 'backup_eu-2'],
    ['0', '0'],
    [`a${'b'.repeat(63)}`, `a${'b'.repeat(63)}`],
  ])('accepts %j as %j', (input, key) => {
    expect(parseKey(input, 'key')).toBe(key);
  });

  it.each([[''], ['.m365'], ['-m365'], ['_m365'], ['m 365'], ['m365/'], ['mü'], [`a${'b'.repeat(64)}`], [42], [null], [undefined], [['m365']]])(
    'refuses %j with 400 invalidValue naming the field and the rule',
    (input) => {
      let err: unknown;
      try {
        parseKey(input, 'key');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ScimError);
      expect(err).toMatchObject({ status: 400, scimType: 'invalidValue' });
      expect((err as Error).message).toMatch(/^key must be a lower-case letter or digit, then up to 63/);
    },
  );
});

describe('serviceKeysOf', () => {
  it.each([
    ['nothing', undefined, []],
    ['elements of type service, any case', [{ value: 'M365', type: 'Service' }, { value: 'crm', type: 'service' }], ['m365', 'crm']],
    ['an element without a type', [{ value: 'm365' }], ['m365']],
    ['duplicates, the first kept', [{ value: 'crm' }, { value: 'm365', type: 'service' }, { value: 'CRM' }], ['crm', 'm365']],
    ['a single element (not an array)', { value: 'm365' }, ['m365']],
    ['a value that cannot be a key (reported later as unknown)', [{ value: 'not a key!' }], ['not a key!']],
  ])('reads %s', (_what, input, keys) => {
    expect(serviceKeysOf(input as never)).toEqual(keys);
  });

  it.each([
    ['another type', [{ value: 'm365', type: 'license' }], /entitlements\[0\]\.type "license" is not supported: entitlements are services, with type "service" or no type/],
    ['no value', [{ value: 'm365' }, { type: 'service' }], /entitlements\[1\]\.value is required/],
    ['a blank value', [{ value: '  ' }], /entitlements\[0\]\.value is required/],
  ])('refuses %s with 400 invalidValue', (_what, input, message) => {
    expect(() => serviceKeysOf(input as never)).toThrow(message);
    expect(() => serviceKeysOf(input as never)).toThrow(ScimError);
  });
});

describe('grantedPermissions', () => {
  const catalogue = ['servers.manage', 'servers.view', 'billing.view'];
  it('the built-in profile grants the whole catalogue, whatever it stores', () => {
    expect(grantedPermissions({ builtIn: true, permissions: [] }, catalogue)).toEqual(catalogue);
    expect(grantedPermissions({ builtIn: true, permissions: ['x'] }, [...catalogue, 'new.one'])).toEqual([...catalogue, 'new.one']);
  });
  it('a custom profile grants what it lists and the catalogue still has, in the catalogue’s order', () => {
    expect(grantedPermissions({ builtIn: false, permissions: ['billing.view', 'servers.manage', 'gone.away'] }, catalogue)).toEqual(['servers.manage', 'billing.view']);
    expect(grantedPermissions({ builtIn: false, permissions: [] }, catalogue)).toEqual([]);
  });
});

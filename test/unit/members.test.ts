// Member references (server/scim/members.ts): the forms clients send for Group.members, and the
// ones refused with 400 invalidValue (RFC 7644 §3.12).
import { isUuid, parseMemberRefs } from '../../server/scim/members';
import { ScimError } from '../../server/errors';

const ID = '0193a4b2-7c1d-7e3f-9a1b-2c3d4e5f6a7b';

describe('parseMemberRefs', () => {
  it.each([
    ['RFC 7643 §4.2: {value}', [{ value: ID }], [{ id: ID }]],
    ['with type User (any case)', [{ value: ID, type: 'User' }], [{ id: ID, type: 'user' }]],
    ['keys in another case (RFC 7643 §2.1)', [{ Value: ID, TYPE: 'group' }], [{ id: ID, type: 'group' }]],
    ['Entra: a bare id string', [ID], [{ id: ID }]],
    ['one object instead of an array', { value: ID }, [{ id: ID }]],
    ['an upper-case id is lower-cased', [{ value: ID.toUpperCase() }], [{ id: ID }]],
    ['null means absent', null, []],
    ['an empty string means absent', '', []],
    ['null elements are skipped', [null, { value: ID }], [{ id: ID }]],
    ['an empty type is no type', [{ value: ID, type: '' }], [{ id: ID }]],
  ])('%s', (_name, raw, expected) => {
    expect(parseMemberRefs(raw as never)).toEqual(expected);
  });

  it.each([
    ['no value', [{ display: 'Bob' }]],
    ['a value that is not an id', [{ value: 'bob' }]],
    ['a number', [42]],
    ['an unknown type', [{ value: ID, type: 'Device' }]],
    ['a type that is not a string', [{ value: ID, type: 1 }]],
  ])('refuses %s with 400 invalidValue', (_name, raw) => {
    let err: unknown;
    try {
      parseMemberRefs(raw as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScimError);
    expect(err).toMatchObject({ status: 400, scimType: 'invalidValue' });
  });

  it('isUuid takes ids in either case and nothing else', () => {
    expect(isUuid(ID)).toBe(true);
    expect(isUuid(ID.toUpperCase())).toBe(true);
    expect(isUuid(`${ID}x`)).toBe(false);
    expect(isUuid(undefined)).toBe(false);
  });
});

// PATCH engine tables (RFC 7644 §3.5.2): {source, ops, target} cases, each naming where the
// form comes from (the RFC, or docs/okta.md and docs/entra.md), and error cases with their scimType.
import { loadCatalog } from '../../server/resources/catalog';
import { applyPatch, parsePatchRequest } from '../../server/scim/patch';
import { PATCH_OP_URN } from '../../server/scim/urns';
import { ScimError } from '../../server/errors';

const catalog = loadCatalog();
const users = catalog.users.schema;
const groups = catalog.groups.schema;
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PV = 'urn:provisio:params:scim:schemas:extension:2.0:User';
const ID = '0190a0a0-0000-7000-8000-000000000001';

const base = {
  userName: 'bjensen@example.com',
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  active: true,
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@home.example', type: 'home' },
  ],
};

type Case = [string, Record<string, unknown>, unknown[], Record<string, unknown>];

const userCases: Case[] = [
  ['RFC §3.5.2.3 replace a singular attribute', base, [{ op: 'replace', path: 'displayName', value: 'Babs' }], { ...base, displayName: 'Babs' }],
  ['RFC §3.5.2.3 replace a sub-attribute', base, [{ op: 'replace', path: 'name.givenName', value: 'Barb' }], { ...base, name: { givenName: 'Barb', familyName: 'Jensen' } }],
  ['Okta: path-less replace {active:false}', base, [{ op: 'replace', value: { active: false } }], { ...base, active: false }],
  ['Entra: capitalised op and "False" string', base, [{ op: 'Replace', path: 'active', value: 'False' }], { ...base, active: false }],
  [
    'Entra aadOptscim062020: path-less replace with dotted and URN-qualified keys',
    base,
    [{ op: 'replace', value: { 'name.givenName': 'B', [`${ENT}:employeeNumber`]: '701984', displayName: 'B J' } }],
    { ...base, name: { givenName: 'B', familyName: 'Jensen' }, displayName: 'B J', [ENT]: { employeeNumber: '701984' } },
  ],
  [
    'Entra: replace on emails[type eq "work"].value updates the element',
    base,
    [{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'barbara@example.com' }],
    { ...base, emails: [{ value: 'barbara@example.com', type: 'work', primary: true }, base.emails[1]] },
  ],
  [
    'Entra: add on a typed element that does not exist creates it',
    { userName: 'x@example.com' },
    [{ op: 'Add', path: 'phoneNumbers[type eq "work"].value', value: '+1 555 0100' }],
    { userName: 'x@example.com', phoneNumbers: [{ type: 'work', value: '+1 555 0100' }] },
  ],
  [
    'Entra: manager as a bare string',
    base,
    [{ op: 'Add', path: `${ENT}:manager`, value: 'mgr-42' }],
    { ...base, [ENT]: { manager: { value: 'mgr-42' } } },
  ],
  [
    'Entra: manager removed by replace with ""',
    { ...base, [ENT]: { manager: { value: 'mgr-42' }, department: 'R&D' } },
    [{ op: 'Replace', path: `${ENT}:manager`, value: '' }],
    { ...base, [ENT]: { department: 'R&D' } },
  ],
  ['Entra: "" then null both leave it empty', { ...base, title: 'CTO' }, [{ op: 'Replace', path: 'title', value: '' }, { op: 'Replace', path: 'title', value: null }], base],
  [
    'Entra: roles value as JSON inside a string',
    base,
    [{ op: 'Add', path: 'roles', value: '[{"value":"admin","primary":"True"}]' }],
    { ...base, roles: [{ value: 'admin', primary: true }] },
  ],
  [
    'RFC §3.5.2.1 add to a multi-valued attribute appends without duplicates',
    base,
    [{ op: 'add', path: 'emails', value: [{ value: 'babs@home.example', type: 'home' }, { value: 'b@other.example', type: 'other' }] }],
    { ...base, emails: [...base.emails, { value: 'b@other.example', type: 'other' }] },
  ],
  [
    'RFC §3.5.2.2 remove with a filter removes matching values',
    base,
    [{ op: 'remove', path: 'emails[type eq "home"]' }],
    { ...base, emails: [base.emails[0]] },
  ],
  ['RFC §3.5.2.2 remove a singular attribute', { ...base, title: 'CTO' }, [{ op: 'remove', path: 'title' }], base],
  [
    'message keys and attribute names in any case (RFC 7643 §2.1)',
    base,
    [{ OP: 'REPLACE', PATH: 'NAME.FAMILYNAME', VALUE: 'Jansen' }],
    { ...base, name: { givenName: 'Barbara', familyName: 'Jansen' } },
  ],
  [
    'Provisio extension attribute by URN path',
    base,
    [{ op: 'add', path: `${PV}:canManageLicences`, value: 'True' }],
    { ...base, [PV]: { canManageLicences: true } },
  ],
];

describe('applyPatch on users', () => {
  it.each(userCases)('%s', (_source, source, ops, target) => {
    const parsed = parsePatchRequest({ schemas: [PATCH_OP_URN], Operations: ops });
    const out = applyPatch(users, source as never, parsed, { id: ID });
    expect(out.resource).toEqual(target);
    expect(out.changed).toBe(JSON.stringify(source) !== JSON.stringify(target));
  });

  it('ignores password (writeOnly) on every form: never stored', () => {
    for (const o of [
      { op: 'replace', path: 'password', value: 'S3cret!' },
      { op: 'replace', value: { password: 'S3cret!' } },
      { op: 'add', value: { 'urn:ietf:params:scim:schemas:core:2.0:User:password': 'S3cret!' } },
    ]) {
      const out = applyPatch(users, base as never, parsePatchRequest({ Operations: [o] }), { id: ID });
      expect(JSON.stringify(out.resource)).not.toContain('S3cret!');
      expect(out.changed).toBe(false);
    }
  });

  it('marking one email primary takes the flag from the other (RFC 7643 §2.4)', () => {
    const out = applyPatch(users, base as never, parsePatchRequest({ Operations: [{ op: 'replace', path: 'emails[type eq "home"].primary', value: true }] }), { id: ID });
    expect(out.resource.emails).toEqual([{ value: 'bjensen@example.com', type: 'work' }, { value: 'babs@home.example', type: 'home', primary: true }]);
  });

  it('path-less keys naming attributes we do not have are ignored, as on create', () => {
    const out = applyPatch(
      users,
      base as never,
      parsePatchRequest({ Operations: [{ op: 'replace', value: { 'name.nickname2': 'x', [`${ENT}:costCentre`]: 'y', [ENT]: { costCentre: 'z', department: 'R&D' }, title: 'CTO' } }] }),
      { id: ID },
    );
    expect(out.resource).toEqual({ ...base, title: 'CTO', [ENT]: { department: 'R&D' } });
  });

  it('does not modify its input (a failed PATCH changes nothing)', () => {
    const source = JSON.parse(JSON.stringify(base));
    expect(() =>
      applyPatch(users, source, parsePatchRequest({ Operations: [{ op: 'replace', path: 'displayName', value: 'x' }, { op: 'replace', path: 'id', value: 'y' }] }), { id: ID }),
    ).toThrow(ScimError);
    expect(source).toEqual(base);
  });
});

const errorCases: [string, unknown, string][] = [
  ['remove without a path → noTarget (RFC §3.5.2.2)', { Operations: [{ op: 'remove' }] }, 'noTarget'],
  ['unknown attribute path → invalidPath', { Operations: [{ op: 'replace', path: 'shoeSize', value: 1 }] }, 'invalidPath'],
  ['bad filter in path → invalidPath', { Operations: [{ op: 'replace', path: 'emails[type eq ].value', value: 'x' }] }, 'invalidPath'],
  ['read-only target → mutability', { Operations: [{ op: 'replace', path: 'groups', value: [] }] }, 'mutability'],
  ['read-only id with a different value → mutability', { Operations: [{ op: 'replace', value: { id: 'other' } }] }, 'mutability'],
  ['wrong type → invalidValue', { Operations: [{ op: 'replace', path: 'active', value: 'perhaps' }] }, 'invalidValue'],
  ['removing a required attribute → invalidValue', { Operations: [{ op: 'remove', path: 'userName' }] }, 'invalidValue'],
  ['unknown op → invalidSyntax', { Operations: [{ op: 'move', path: 'title' }] }, 'invalidSyntax'],
  ['no Operations → invalidSyntax', { schemas: [PATCH_OP_URN] }, 'invalidSyntax'],
  ['replace on a filter that matches nothing and cannot seed an element → noTarget', { Operations: [{ op: 'replace', path: 'emails[value co "zzz"].type', value: 'work' }] }, 'noTarget'],
];

describe('PATCH errors', () => {
  it.each(errorCases)('%s', (_name, body, scimType) => {
    let err: unknown;
    try {
      applyPatch(users, base as never, parsePatchRequest(body), { id: ID });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScimError);
    expect((err as ScimError).status).toBe(400);
    expect((err as ScimError).scimType).toBe(scimType);
  });
});

describe('applyPatch on groups: membership deltas, never the member list', () => {
  const g = { displayName: 'Engineering' };
  const ctx = { id: ID, membership: 'members' };
  const run = (ops: unknown[]) => applyPatch(groups, g as never, parsePatchRequest({ Operations: ops }), ctx);

  it('Okta: remove members[value eq …] and add members in one request', () => {
    const out = run([
      { op: 'remove', path: 'members[value eq "0190a0a0-0000-7000-8000-0000000000a1"]' },
      { op: 'add', path: 'members', value: [{ value: '0190a0a0-0000-7000-8000-0000000000a2', display: 'Two' }] },
    ]);
    expect(out.members).toEqual({ clear: false, add: [{ id: '0190a0a0-0000-7000-8000-0000000000a2' }], remove: ['0190a0a0-0000-7000-8000-0000000000a1'] });
    expect(out.changed).toBe(false);
  });

  it('Entra: remove with a value array removes only those members', () => {
    expect(run([{ op: 'Remove', path: 'members', value: [{ value: '0190a0a0-0000-7000-8000-0000000000a1' }, { value: '0190a0a0-0000-7000-8000-0000000000a3' }] }]).members).toEqual({ clear: false, add: [], remove: ['0190a0a0-0000-7000-8000-0000000000a1', '0190a0a0-0000-7000-8000-0000000000a3'] });
  });

  it('remove members without a value clears them; replace replaces them', () => {
    expect(run([{ op: 'remove', path: 'members' }]).members).toEqual({ clear: true, add: [], remove: [] });
    expect(run([{ op: 'replace', path: 'members', value: [{ value: '0190a0a0-0000-7000-8000-0000000000a9' }] }]).members).toEqual({ clear: true, add: [{ id: '0190a0a0-0000-7000-8000-0000000000a9' }], remove: [] });
  });

  it('Okta: path-less replace carrying the group’s own id renames it', () => {
    const out = run([{ op: 'replace', value: { id: ID, displayName: 'Eng' } }]);
    expect(out.resource).toEqual({ displayName: 'Eng' });
    expect(out.members).toBeUndefined();
  });

  it('path-less add of members is an add', () => {
    expect(run([{ op: 'add', value: { members: [{ value: '0190a0a0-0000-7000-8000-0000000000a5' }] } }]).members).toEqual({ clear: false, add: [{ id: '0190a0a0-0000-7000-8000-0000000000a5' }], remove: [] });
  });

  it('a member without a UUID value → invalidValue; removing a non-UUID is a no-op', () => {
    expect(() => run([{ op: 'add', path: 'members', value: [{ display: 'no value' }] }])).toThrow(/is not the id/);
    expect(run([{ op: 'remove', path: 'members[value eq "not-a-uuid"]' }]).members).toEqual({ clear: false, add: [], remove: [] });
  });

  it('members selected by anything but value → invalidPath', () => {
    expect(() => run([{ op: 'remove', path: 'members[display eq "x"]' }])).toThrow(/selected only by value/);
  });

  it('the group kind is immutable → mutability', () => {
    const withKind = { displayName: 'E', 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'group' } };
    expect(() =>
      applyPatch(groups, withKind as never, parsePatchRequest({ Operations: [{ op: 'replace', path: 'urn:provisio:params:scim:schemas:extension:2.0:Group:kind', value: 'company' }] }), ctx),
    ).toThrow(/immutable/);
  });
});

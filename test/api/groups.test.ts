// Groups over SCIM on a real server and database (RFC 7643 §4.2, RFC 7644 §3.3–§3.6): members
// that are users or groups of the same tenant, nesting without cycles, a user's read-only
// `groups` (direct and indirect), membership filters, and the Provisio Group extension's `kind`.
import { createTenant, expectScimError, GROUP, Harness, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';

// Entra puts a non-SCIM Microsoft schema URN in the `schemas` of the groups it creates.
const MS_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

let h: Harness;
let t: TestTenant;
let other: TestTenant;
let api: ReturnType<typeof scim>;
let otherApi: ReturnType<typeof scim>;
let n = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Globex');
  api = scim(h, t);
  otherApi = scim(h, other);
});
afterAll(() => h.close());

async function user(body: Record<string, unknown> = {}): Promise<string> {
  const res = await api.post('/Users', { schemas: [USER], userName: `user${++n}@acme.test`, ...body });
  if (res.status !== 201) throw new Error(`user: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

async function group(displayName: string, members: unknown[] = [], extra: Record<string, unknown> = {}) {
  const res = await api.post('/Groups', { schemas: [GROUP], displayName, members, ...extra });
  if (res.status !== 201) throw new Error(`group ${displayName}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; meta: { version: string; lastModified: string }; members?: Member[] };
}

interface Member {
  value: string;
  $ref?: string;
  type?: string;
  display?: string;
}

const memberIds = (g: { members?: Member[] }) => (g.members ?? []).map((m) => m.value).sort();
const get = async (path: string) => (await api.get(path).expect(200)).body;
const groupCount = async (displayName: string) => (await api.get('/Groups').query({ filter: `displayName eq "${displayName}"` })).body.totalResults;

describe('create, read, list, replace, delete', () => {
  it('creates a group of users and groups with 201, Location, ETag; members carry value, $ref, type and display', async () => {
    const ann = await user({ displayName: 'Ann Smith' });
    const ben = await user({ userName: 'ben@acme.test' });
    const inner = await group('Inner');
    const res = await api.post('/Groups', {
      schemas: [GROUP],
      displayName: 'Outer',
      externalId: 'ext-outer',
      members: [{ value: ann }, { value: ben, type: 'User' }, { value: inner.id, type: 'Group' }],
    });
    expect(res.status).toBe(201);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.headers.location).toBe(`${t.base}/Groups/${res.body.id}`);
    expect(res.headers.etag).toBe(res.body.meta.version);
    expect(res.body).toMatchObject({
      schemas: [GROUP, PROVISIO_GROUP],
      displayName: 'Outer',
      externalId: 'ext-outer',
      [PROVISIO_GROUP]: { kind: 'group' },
      meta: { resourceType: 'Group', location: res.headers.location },
    });
    const byId = Object.fromEntries((res.body.members as Member[]).map((m) => [m.value, m]));
    expect(byId).toEqual({
      [ann]: { value: ann, $ref: `${t.base}/Users/${ann}`, type: 'User', display: 'Ann Smith' },
      [ben]: { value: ben, $ref: `${t.base}/Users/${ben}`, type: 'User', display: 'ben@acme.test' },
      [inner.id]: { value: inner.id, $ref: `${t.base}/Groups/${inner.id}`, type: 'Group', display: 'Inner' },
    });
    // GET shows the same.
    const got = await api.get(`/Groups/${res.body.id}`).expect(200);
    expect(got.headers.etag).toBe(res.headers.etag);
    expect(got.body.members).toHaveLength(3);
    expect(memberIds(got.body)).toEqual([ann, ben, inner.id].sort());
  });

  it('an upper-case member id and a repeated member are one membership', async () => {
    const u = await user();
    const g = await group('Dedup', [{ value: u.toUpperCase() }, { value: u }]);
    expect(g.members).toEqual([expect.objectContaining({ value: u, type: 'User' })]);
  });

  it('requires displayName', async () => {
    expectScimError(await api.post('/Groups', { schemas: [GROUP] }), 400, 'invalidValue');
    expectScimError(await api.post('/Groups', { schemas: [GROUP], displayName: '' }), 400, 'invalidValue');
  });

  it('tolerates Entra’s Microsoft schema URN in schemas, on create and on replace', async () => {
    const res = await api.post('/Groups', { schemas: [GROUP, MS_GROUP], displayName: 'Entra Group', externalId: 'e-1', members: [] });
    expect(res.status).toBe(201);
    expect(res.body.schemas).toEqual([GROUP, PROVISIO_GROUP]);
    const put = await api.put(`/Groups/${res.body.id}`, { schemas: [MS_GROUP, GROUP], displayName: 'Entra Group 2' });
    expect(put.status).toBe(200);
    expect(put.body.displayName).toBe('Entra Group 2');
  });

  it('lists every group with plain paging (PingFederate lists all groups)', async () => {
    for (let i = 0; i < 5; i++) await group(`Paged ${i}`);
    const all = await api.get('/Groups').query({ count: 1000 }).expect(200);
    expect(all.body.schemas).toEqual([LIST]);
    const total = all.body.totalResults;
    expect(total).toBe(all.body.Resources.length);
    expect(all.body.Resources.filter((g: { displayName: string }) => g.displayName.startsWith('Paged '))).toHaveLength(5);
    const walked: string[] = [];
    for (let start = 1; start <= total; start += 3) {
      const res = await api.get('/Groups').query({ startIndex: start, count: 3 }).expect(200);
      expect(res.body.totalResults).toBe(total);
      walked.push(...res.body.Resources.map((g: { id: string }) => g.id));
    }
    expect(walked).toEqual(all.body.Resources.map((g: { id: string }) => g.id));
  });

  it('PUT replaces displayName and externalId and bumps the version', async () => {
    const g = await group('Before', [], { externalId: 'x-1' });
    const res = await api.put(`/Groups/${g.id}`, { schemas: [GROUP], displayName: 'After' });
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('After');
    expect(res.body.externalId).toBeUndefined();
    expect(res.body.meta.version).not.toBe(g.meta.version);
    expect(res.headers.etag).toBe(res.body.meta.version);
    expectScimError(await api.put(`/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Again' }).set('If-Match', g.meta.version), 412);
  });

  it('PUT without members keeps the membership; members: [] clears it; a new list replaces it', async () => {
    const [a, b] = [await user(), await user()];
    const g = await group('Keep', [{ value: a }]);
    const renamed = await api.put(`/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Keep renamed' }).expect(200);
    expect(memberIds(renamed.body)).toEqual([a]);
    expect(memberIds(await get(`/Groups/${g.id}`))).toEqual([a]);
    const replaced = await api.put(`/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Keep renamed', members: [{ value: b }] }).expect(200);
    expect(memberIds(replaced.body)).toEqual([b]);
    const cleared = await api.put(`/Groups/${g.id}`, { schemas: [GROUP], displayName: 'Keep renamed', members: [] }).expect(200);
    expect(cleared.body.members).toBeUndefined();
    expect((await get(`/Groups/${g.id}`)).members).toBeUndefined();
    expect((await get(`/Users/${b}`)).groups).toBeUndefined();
  });

  it('members in the forms clients send: any key case, a single object, a bare id; null means absent', async () => {
    const [a, b, c] = [await user(), await user(), await user()];
    const g = (await api.post('/Groups', { displayName: 'Forms', MEMBERS: [{ VALUE: a, Type: 'user' }] }).expect(201)).body;
    expect(memberIds(g)).toEqual([a]);
    const one = await api.put(`/Groups/${g.id}`, { displayName: 'Forms', members: { value: b } }).expect(200);
    expect(memberIds(one.body)).toEqual([b]);
    const bare = await api.put(`/Groups/${g.id}`, { displayName: 'Forms', [`${GROUP}:members`]: [c] }).expect(200);
    expect(memberIds(bare.body)).toEqual([c]);
    const nul = await api.put(`/Groups/${g.id}`, { displayName: 'Forms', members: null }).expect(200);
    expect(memberIds(nul.body)).toEqual([c]);
  });

  it('PUT of a GET body (Okta: with id, meta and member display) keeps the members', async () => {
    const u = await user({ displayName: 'Okta Person' });
    const g = await group('Okta Group', [{ value: u }]);
    const body = await get(`/Groups/${g.id}`);
    const res = await api.put(`/Groups/${g.id}`, { ...body, displayName: 'Okta Group 2' });
    expect(res.status).toBe(200);
    expect(res.body.members).toEqual([{ value: u, $ref: `${t.base}/Users/${u}`, type: 'User', display: 'Okta Person' }]);
  });

  it('DELETE is 204, then GET, PUT and DELETE are 404; the group leaves its parents and members’ groups', async () => {
    const u = await user();
    const child = await group('Doomed', [{ value: u }]);
    const parent = await group('Parent of doomed', [{ value: child.id }]);
    expect((await get(`/Users/${u}`)).groups.map((x: { value: string }) => x.value).sort()).toEqual([child.id, parent.id].sort());
    await api.delete(`/Groups/${child.id}`).expect(204);
    expectScimError(await api.get(`/Groups/${child.id}`), 404);
    expectScimError(await api.put(`/Groups/${child.id}`, { displayName: 'x' }), 404);
    expectScimError(await api.delete(`/Groups/${child.id}`), 404);
    const p = await get(`/Groups/${parent.id}`);
    expect(p.members).toBeUndefined();
    expect(p.meta.version).not.toBe(parent.meta.version);
    expect((await get(`/Users/${u}`)).groups).toBeUndefined();
    expectScimError(await api.get('/Groups/not-a-uuid'), 404);
  });

  it('PATCH with no operations is 400 invalidSyntax (RFC 7644 §3.5.2)', async () => {
    const g = await group('Patchless');
    expectScimError(await api.patch(`/Groups/${g.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] }), 400, 'invalidSyntax');
  });
});

describe('invalid members', () => {
  const GUID = '0b6f1f9e-8f4c-4d0a-9a51-4f3b8d6c2e10';
  let otherUser: string;
  let otherGroup: string;
  beforeAll(async () => {
    otherUser = (await otherApi.post('/Users', { userName: 'stranger@globex.test' }).expect(201)).body.id;
    otherGroup = (await otherApi.post('/Groups', { displayName: 'Globex group' }).expect(201)).body.id;
  });

  it.each([
    ['an unknown id', () => [{ value: GUID }]],
    ['a malformed id', () => [{ value: 'not-an-id' }]],
    ['a number', () => [{ value: 42 }]],
    ['no value', () => [{ display: 'Someone' }]],
    ['another tenant’s user', () => [{ value: otherUser }]],
    ['another tenant’s group', () => [{ value: otherGroup }]],
    ['a user given as a Group', () => [{ value: t.primaryAdminId, type: 'Group' }]],
    ['an unknown type', () => [{ value: t.primaryAdminId, type: 'Robot' }]],
    ['one bad among good ones', () => [{ value: t.primaryAdminId }, { value: GUID }]],
  ])('%s is 400 invalidValue and nothing is created', async (_what, members) => {
    const name = `Bad members ${++n}`;
    const res = await api.post('/Groups', { schemas: [GROUP], displayName: name, members: members() });
    expectScimError(res, 400, 'invalidValue');
    expect(await groupCount(name)).toBe(0);
  });

  it('another tenant’s id reads exactly like an unknown one', async () => {
    const a = await api.post('/Groups', { displayName: 'Probe', members: [{ value: otherUser }] });
    const b = await api.post('/Groups', { displayName: 'Probe', members: [{ value: GUID }] });
    expect(a.body.detail.replace(otherUser, 'X')).toBe(b.body.detail.replace(GUID, 'X'));
  });

  it('on PUT, an invalid member changes nothing', async () => {
    const u = await user();
    const g = await group('Stable', [{ value: u }]);
    expectScimError(await api.put(`/Groups/${g.id}`, { displayName: 'Renamed', members: [{ value: otherUser }] }), 400, 'invalidValue');
    const now = await get(`/Groups/${g.id}`);
    expect(now.displayName).toBe('Stable');
    expect(memberIds(now)).toEqual([u]);
    expect(now.meta.version).toBe(g.meta.version);
  });
});

describe('nesting and cycles', () => {
  it('a group cannot contain itself', async () => {
    const g = await group('Selfish');
    expectScimError(await api.put(`/Groups/${g.id}`, { displayName: 'Selfish', members: [{ value: g.id }] }), 400, 'invalidValue');
    expect((await get(`/Groups/${g.id}`)).members).toBeUndefined();
  });

  it('nor itself through other groups (A ⊃ B ⊃ C, C ⊃ A)', async () => {
    const c = await group('C');
    const b = await group('B', [{ value: c.id }]);
    const a = await group('A', [{ value: b.id }]);
    expectScimError(await api.put(`/Groups/${c.id}`, { displayName: 'C', members: [{ value: a.id }] }), 400, 'invalidValue');
    expectScimError(await api.put(`/Groups/${b.id}`, { displayName: 'B', members: [{ value: c.id }, { value: a.id }] }), 400, 'invalidValue');
    expect((await get(`/Groups/${c.id}`)).members).toBeUndefined();
    expect(memberIds(await get(`/Groups/${b.id}`))).toEqual([c.id]);
    // A diamond is not a cycle: D ⊃ B and D ⊃ C.
    const d = await group('D', [{ value: b.id }, { value: c.id }]);
    expect(memberIds(d)).toEqual([b.id, c.id].sort());
  });

  it('a user’s groups list direct and indirect memberships', async () => {
    const u = await user();
    const team = await group('Team', [{ value: u }]);
    const dept = await group('Dept', [{ value: team.id }]);
    const org = await group('Org', [{ value: dept.id }, { value: u }]);
    const other = await group('Unrelated');
    const res = await get(`/Users/${u}`);
    const byId = Object.fromEntries(res.groups.map((g: Member) => [g.value, g]));
    expect(byId).toEqual({
      [team.id]: { value: team.id, $ref: `${t.base}/Groups/${team.id}`, display: 'Team', type: 'direct' },
      [dept.id]: { value: dept.id, $ref: `${t.base}/Groups/${dept.id}`, display: 'Dept', type: 'indirect' },
      // Direct wins when a user is in a group both ways.
      [org.id]: { value: org.id, $ref: `${t.base}/Groups/${org.id}`, display: 'Org', type: 'direct' },
    });
    expect(byId[other.id]).toBeUndefined();
    // Also in lists, and only when returned.
    const list = await api.get('/Users').query({ filter: `id eq "${u}"` });
    expect(list.body.Resources[0].groups).toHaveLength(3);
    expect((await get(`/Users/${u}?excludedAttributes=groups`)).groups).toBeUndefined();
  });

  it('groups sent on a user are ignored (read-only)', async () => {
    const g = await group('Not joined');
    const res = await api.post('/Users', { userName: `ro${++n}@acme.test`, groups: [{ value: g.id }] }).expect(201);
    expect(res.body.groups).toBeUndefined();
    expect((await get(`/Groups/${g.id}`)).members).toBeUndefined();
  });
});

describe('deleting a user', () => {
  it('removes it from every group and changes those groups’ version', async () => {
    const [u, stay] = [await user(), await user()];
    const g1 = await group('Del 1', [{ value: u }, { value: stay }]);
    const g2 = await group('Del 2', [{ value: u }]);
    const g3 = await group('Del 3', [{ value: stay }]);
    await api.delete(`/Users/${u}`).expect(204);
    const [a, b, c] = [await get(`/Groups/${g1.id}`), await get(`/Groups/${g2.id}`), await get(`/Groups/${g3.id}`)];
    expect(memberIds(a)).toEqual([stay]);
    expect(b.members).toBeUndefined();
    expect(a.meta.version).not.toBe(g1.meta.version);
    expect(b.meta.version).not.toBe(g2.meta.version);
    expect(c.meta.version).toBe(g3.meta.version);
    expect((await api.get(`/Groups/${g1.id}`).set('If-None-Match', g1.meta.version)).status).toBe(200);
    const f = await api.get('/Groups').query({ filter: `members.value eq "${u}"` });
    expect(f.body.totalResults).toBe(0);
  });
});

describe('membership filters', () => {
  let u: string;
  let v: string;
  let team: string;
  let dept: string;
  let lone: string;
  beforeAll(async () => {
    u = await user();
    v = await user();
    team = (await group('F Team', [{ value: u }])).id;
    dept = (await group('F Dept', [{ value: team }, { value: v }])).id;
    lone = (await group('F Lone')).id;
  });
  const ids = (res: { body: { Resources?: { id: string }[] } }) => (res.body.Resources ?? []).map((r) => r.id).sort();

  it('members.value eq on groups (also as members[value eq …], any id case)', async () => {
    expect(ids(await api.get('/Groups').query({ filter: `members.value eq "${u}"` }))).toEqual([team]);
    expect(ids(await api.get('/Groups').query({ filter: `members.value eq "${team.toUpperCase()}"` }))).toEqual([dept]);
    expect(ids(await api.get('/Groups').query({ filter: `members[value eq "${v}"]` }))).toEqual([dept]);
    expect(ids(await api.get('/Groups').query({ filter: `members.value eq "${u}" or members.value eq "${v}"` }))).toEqual([team, dept].sort());
    expect(ids(await api.get('/Groups').query({ filter: `displayName sw "F " and not (members pr)` }))).toEqual([lone]);
    expect(ids(await api.get('/Groups').query({ filter: 'members.value eq "nope"' }))).toEqual([]);
  });

  it('groups.value eq on users includes indirect memberships', async () => {
    expect(ids(await api.get('/Users').query({ filter: `groups.value eq "${team}"` }))).toEqual([u]);
    expect(ids(await api.get('/Users').query({ filter: `groups.value eq "${dept}"` }))).toEqual([u, v].sort());
    expect(ids(await api.get('/Users').query({ filter: `groups.value eq "${lone}"` }))).toEqual([]);
    expect(ids(await api.get('/Users').query({ filter: `groups.value eq "${dept}" and userName eq "${(await get(`/Users/${v}`)).userName}"` }))).toEqual([v]);
  });

  it('Entra’s group matching: displayName eq with excludedAttributes=members', async () => {
    const res = await api.get('/Groups').query({ filter: 'displayName eq "f team"', excludedAttributes: 'members' });
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0]).toMatchObject({ id: team, displayName: 'F Team' });
    expect(res.body.Resources[0].members).toBeUndefined();
    const none = await api.get('/Groups').query({ filter: 'displayName eq "3f0c2d36-2d1e-4ad1-9a0b-6d3e1f6c9b21"', excludedAttributes: 'members' });
    expect(none.status).toBe(200);
    expect(none.body.totalResults).toBe(0);
  });

  it('an unsupported membership filter is 400 invalidFilter', async () => {
    expectScimError(await api.get('/Groups').query({ filter: `members.value co "${u.slice(0, 8)}"` }), 400, 'invalidFilter');
    expectScimError(await api.get('/Groups').query({ filter: 'members.shoe eq "x"' }), 400, 'invalidFilter');
  });
});

describe('the Provisio Group extension: kind', () => {
  it('defaults to "group" and accepts "subAccount" and "company"', async () => {
    const plain = await group('Plain');
    expect((await get(`/Groups/${plain.id}`))[PROVISIO_GROUP]).toEqual({ kind: 'group' });
    for (const kind of ['subAccount', 'company']) {
      const res = await api.post('/Groups', { schemas: [GROUP, PROVISIO_GROUP], displayName: `Kind ${kind}`, [PROVISIO_GROUP]: { kind } });
      expect(res.status).toBe(201);
      // A sub-account is active unless said otherwise (test/api/sub-accounts.test.ts).
      const expected = kind === 'subAccount' ? { kind, active: true } : { kind };
      expect(res.body[PROVISIO_GROUP]).toEqual(expected);
      expect((await get(`/Groups/${res.body.id}`))[PROVISIO_GROUP]).toEqual(expected);
    }
  });

  it('can be filtered on', async () => {
    const res = await api.get('/Groups').query({ filter: `${PROVISIO_GROUP}:kind eq "company"` });
    expect(res.body.Resources.map((g: { displayName: string }) => g.displayName)).toEqual(['Kind company']);
  });

  it('rejects an unknown kind with 400 invalidValue', async () => {
    for (const kind of ['department', '', 7]) {
      const res = await api.post('/Groups', { displayName: `Kind bad ${n++}`, [PROVISIO_GROUP]: { kind } });
      if (kind === '') {
        // "" means absent (RFC 7643 §2.5 unassigned): the default applies.
        expect(res.status).toBe(201);
        expect(res.body[PROVISIO_GROUP]).toEqual({ kind: 'group' });
        continue;
      }
      expectScimError(res, 400, 'invalidValue');
    }
  });

  it('cannot change on PUT (400 mutability); the same kind or none keeps it', async () => {
    const res = await api.post('/Groups', { displayName: 'Sub', [PROVISIO_GROUP]: { kind: 'subAccount' } }).expect(201);
    const gid = res.body.id;
    expectScimError(await api.put(`/Groups/${gid}`, { displayName: 'Sub', [PROVISIO_GROUP]: { kind: 'company' } }), 400, 'mutability');
    expectScimError(await api.put(`/Groups/${gid}`, { displayName: 'Sub', [PROVISIO_GROUP]: { kind: 'group' } }), 400, 'mutability');
    const same = await api.put(`/Groups/${gid}`, { displayName: 'Sub 2', [PROVISIO_GROUP]: { kind: 'subAccount' } });
    expect(same.status).toBe(200);
    const none = await api.put(`/Groups/${gid}`, { displayName: 'Sub 3' });
    expect(none.status).toBe(200);
    expect(none.body[PROVISIO_GROUP]).toEqual({ kind: 'subAccount', active: true });
    expect((await get(`/Groups/${gid}`))[PROVISIO_GROUP]).toEqual({ kind: 'subAccount', active: true });
  });
});

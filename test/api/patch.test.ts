// PATCH over HTTP (RFC 7644 §3.5.2, §3.14) on both databases: responses, atomicity, ETags,
// idempotent membership, large member changes and concurrent writers. The forms themselves are
// table-tested in test/unit/patch.test.ts and replayed from IdP recordings in okta/entra tests.
import { adminApi, createTenant, expectScimError, Harness, scim, startHarness, TestTenant } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ops = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h);
  api = scim(h, t);
});
afterAll(() => h.close());

async function user(userName: string, extra: Record<string, unknown> = {}) {
  return (await api.post('/Users', { userName, ...extra }).expect(201)).body;
}
async function group(displayName: string, members: string[] = []) {
  return (await api.post('/Groups', { displayName, members: members.map((value) => ({ value })) }).expect(201)).body;
}
async function memberIds(groupId: string): Promise<string[]> {
  const g = await api.get(`/Groups/${groupId}`).expect(200);
  return (g.body.members ?? []).map((m: { value: string }) => m.value).sort();
}

describe('users', () => {
  it('answers 200 with the resource and its new ETag', async () => {
    const u = await user('p1@acme.test');
    const res = await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'title', value: 'CFO' }));
    expect(res.status).toBe(200);
    expect(res.body.title).toBe('CFO');
    expect(res.headers.etag).toBe('W/"2"');
    expect(res.body.meta.version).toBe('W/"2"');
  });

  it('is atomic: when one operation fails nothing changes', async () => {
    const u = await user('p2@acme.test', { title: 'Before' });
    const res = await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'title', value: 'After' }, { op: 'replace', path: 'groups', value: [] }));
    expectScimError(res, 400, 'mutability');
    const now = await api.get(`/Users/${u.id}`).expect(200);
    expect(now.body.title).toBe('Before');
    expect(now.body.meta.version).toBe('W/"1"');
  });

  it('a userName another user has is 409 uniqueness', async () => {
    await user('taken@acme.test');
    const u = await user('p3@acme.test');
    expectScimError(await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'userName', value: 'TAKEN@acme.test' })), 409, 'uniqueness');
  });

  it('active false keeps everything; active true brings it back unchanged', async () => {
    const u = await user('p4@acme.test', { title: 'Eng', emails: [{ value: 'p4@acme.test', type: 'work' }] });
    const off = await api.patch(`/Users/${u.id}`, ops({ op: 'replace', value: { active: false } })).expect(200);
    expect(off.body).toMatchObject({ active: false, title: 'Eng', emails: [{ value: 'p4@acme.test', type: 'work' }] });
    const on = await api.patch(`/Users/${u.id}`, ops({ op: 'Replace', path: 'active', value: 'True' })).expect(200);
    const { meta: _m1, ...before } = u;
    const { meta: _m2, ...after } = on.body;
    expect(after).toEqual(before);
  });

  it('a stale If-Match is 412 on PATCH and DELETE, and nothing changes', async () => {
    const u = await user('p5@acme.test');
    await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'title', value: 'v2' })).expect(200);
    expectScimError(await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'title', value: 'v3' })).set('If-Match', 'W/"1"'), 412);
    expectScimError(await api.delete(`/Users/${u.id}`).set('If-Match', 'W/"1"'), 412);
    expect((await api.get(`/Users/${u.id}`).expect(200)).body.title).toBe('v2');
    await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'title', value: 'v3' })).set('If-Match', 'W/"2"').expect(200);
  });

  it('another tenant’s user is 404, and a malformed body is 400 invalidSyntax', async () => {
    const other = await createTenant(h, 'Other');
    const theirs = (await scim(h, other).post('/Users', { userName: 'theirs@other.test' }).expect(201)).body;
    expectScimError(await api.patch(`/Users/${theirs.id}`, ops({ op: 'replace', path: 'title', value: 'x' })), 404);
    expect((await scim(h, other).get(`/Users/${theirs.id}`)).body.title).toBeUndefined();
    const u = await user('p6@acme.test');
    expectScimError(await api.patch(`/Users/${u.id}`, { Operations: 'nope' }), 400, 'invalidSyntax');
  });
});

describe('groups', () => {
  it('answers 204 with an ETag, or 200 with the resource when attributes are asked for', async () => {
    const a = await user('g1@acme.test');
    const g = await group('Patch Team');
    const res = await api.patch(`/Groups/${g.id}`, ops({ op: 'add', path: 'members', value: [{ value: a.id }] }));
    expect(res.status).toBe(204);
    expect(res.headers.etag).toBe('W/"2"');
    const withBody = await api.patch(`/Groups/${g.id}?attributes=displayName`, ops({ op: 'replace', path: 'displayName', value: 'Patch Team 2' }));
    expect(withBody.status).toBe(200);
    expect(withBody.body).toMatchObject({ id: g.id, displayName: 'Patch Team 2' });
    expect(withBody.body.members).toBeUndefined();
  });

  it('membership is idempotent: re-adding or removing a non-member changes nothing, not even the version', async () => {
    const a = await user('g2@acme.test');
    const b = await user('g3@acme.test');
    const g = await group('Idempotent', [a.id]);
    const again = await api.patch(`/Groups/${g.id}`, ops({ op: 'add', path: 'members', value: [{ value: a.id }] })).expect(204);
    expect(again.headers.etag).toBe('W/"1"');
    await api.patch(`/Groups/${g.id}`, ops({ op: 'remove', path: `members[value eq "${b.id}"]` })).expect(204);
    expect(await memberIds(g.id)).toEqual([a.id]);
  });

  // The users-only add is one statement (rows, version bump, audit entry: store/members-repo.ts
  // addUsersAndRecord); a change with a group member or a removal takes the statement-per-part path.
  // Both must bump the version and record the change exactly when a membership really changed.
  it('an add bumps the version and records one audit entry only when a membership is new, on both paths', async () => {
    const [a, b, c] = [await user('g10@acme.test'), await user('g11@acme.test'), await user('g12@acme.test')];
    const inner = await group('Inner');
    const g = await group('Audited', [a.id]);
    const entries = async () =>
      (await adminApi(h, t).get(`/audit?target=${g.id}&action=group.patch`).expect(200)).body.entries as { actor: { type: string }; target: { type: string; id: string }; changes: { members: unknown } }[];
    const add = (...ids: string[]) => api.patch(`/Groups/${g.id}`, ops({ op: 'add', path: 'members', value: ids.map((value) => ({ value })) }));

    // One new (b) and one already there (a): one bump, one entry naming what the request added.
    expect((await add(a.id, b.id).expect(204)).headers.etag).toBe('W/"2"');
    let got = await entries();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ actor: { type: 'token' }, target: { type: 'Group', id: g.id }, changes: { members: { added: [a.id, b.id], removed: [] } } });
    // Nothing new: no bump, no entry.
    expect((await add(a.id, b.id).expect(204)).headers.etag).toBe('W/"2"');
    expect(await entries()).toHaveLength(1);
    // A group member goes the other path: the same rule.
    expect((await add(c.id, inner.id).expect(204)).headers.etag).toBe('W/"3"');
    got = await entries();
    expect(got).toHaveLength(2);
    expect(got[0].changes.members).toEqual({ added: [c.id, inner.id], removed: [] });
    expect((await add(inner.id).expect(204)).headers.etag).toBe('W/"3"');
    expect(await entries()).toHaveLength(2);
    const read = await api.get(`/Groups/${g.id}`).expect(200);
    expect(read.body.meta.version).toBe('W/"3"');
    expect(read.body.members.map((m: { value: string }) => m.value).sort()).toEqual([a.id, b.id, c.id, inner.id].sort());
  });

  it('an unknown or foreign member fails the whole PATCH', async () => {
    const a = await user('g4@acme.test');
    const g = await group('Strict');
    const res = await api.patch(
      `/Groups/${g.id}`,
      ops({ op: 'add', path: 'members', value: [{ value: a.id }] }, { op: 'add', path: 'members', value: [{ value: '0190a0a0-0000-7000-8000-00000000dead' }] }),
    );
    expectScimError(res, 400, 'invalidValue');
    expect(await memberIds(g.id)).toEqual([]);
  });

  it('a group cannot become its own member, directly or through a cycle', async () => {
    const outer = await group('Outer');
    const inner = await group('Inner', [outer.id]);
    expectScimError(await api.patch(`/Groups/${outer.id}`, ops({ op: 'add', path: 'members', value: [{ value: outer.id }] })), 400, 'invalidValue');
    expectScimError(await api.patch(`/Groups/${outer.id}`, ops({ op: 'add', path: 'members', value: [{ value: inner.id }] })), 400, 'invalidValue');
  });

  it('accepts 1,000 member changes in one PATCH', async () => {
    const ids = (
      await h.owner((db) => db.raw(
        `INSERT INTO users (tenant_id, id, user_name, data, folded, created_at, updated_at)
         SELECT ?, gen_random_uuid(), 'bulk' || i || '@acme.test', jsonb_build_object('userName', 'bulk' || i || '@acme.test'),
                jsonb_build_object('userName', 'bulk' || i || '@acme.test'), now(), now()
           FROM generate_series(1, 1000) AS i RETURNING id`,
        [t.id],
      ))
    ).rows.map((r: { id: string }) => r.id);
    const g = await group('Thousand');
    await api.patch(`/Groups/${g.id}`, ops({ op: 'add', path: 'members', value: ids.map((value: string) => ({ value })) })).expect(204);
    expect(await memberIds(g.id)).toHaveLength(1000);
    const half = ids.slice(0, 500).map((value: string) => ({ value }));
    await api.patch(`/Groups/${g.id}`, ops({ op: 'Remove', path: 'members', value: half })).expect(204);
    expect(await memberIds(g.id)).toEqual(ids.slice(500).sort());
  });

  it('50 concurrent single-member adds leave exactly 50 new members', async () => {
    const existing = await user('g5@acme.test');
    const g = await group('Concurrent', [existing.id]);
    const users = await Promise.all(Array.from({ length: 50 }, (_, i) => user(`c${i}@acme.test`)));
    const results = await Promise.all(users.map((u) => api.patch(`/Groups/${g.id}`, ops({ op: 'add', path: 'members', value: [{ value: u.id }] }))));
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(204));
    expect(await memberIds(g.id)).toEqual([existing.id, ...users.map((u) => u.id)].sort());
    expect((await api.get(`/Groups/${g.id}`)).body.meta.version).toBe('W/"51"');
  });
});

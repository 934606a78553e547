// The primary admin rule (issue 4, "Rules"): nobody else may modify, deactivate, delete or remove
// it from groups — 403 with a clear detail — on every path: SCIM /Users (PUT, PATCH, DELETE),
// /Groups membership (PATCH remove by filter, by value array, replace, clear; PUT), and /Bulk.
// And every change lands in the audit log, listed by GET /api/v1/audit.
import { activatedBrowser } from '../support/console';
import { createTenant, expectScimError, Harness, scim, startHarness, TestTenant } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ops = (...Operations: unknown[]) => ({ schemas: [PATCH], Operations });

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
let admin: Record<string, unknown> & { id: string; userName: string };

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Guarded', 'boss@guarded.test');
  api = scim(h, t);
  admin = (await api.get(`/Users/${t.primaryAdminId}`).expect(200)).body;
});
afterAll(() => h.close());

const forbidden = (res: Parameters<typeof expectScimError>[0]) => {
  expectScimError(res, 403);
  expect(res.body.detail).toMatch(/primary admin/);
};

async function unchanged() {
  const now = (await api.get(`/Users/${t.primaryAdminId}`).expect(200)).body;
  expect(now).toEqual(admin);
}

describe('on /Users', () => {
  it('PUT that changes the primary admin is 403; an unchanged PUT (an IdP re-sync) is fine', async () => {
    forbidden(await api.put(`/Users/${admin.id}`, { ...admin, title: 'Changed' }));
    forbidden(await api.put(`/Users/${admin.id}`, { ...admin, active: false }));
    await unchanged();
    await api.put(`/Users/${admin.id}`, { ...admin, groups: [], password: 'ignored' }).expect(200);
  });

  it('PATCH (deactivate, rename by userName, externalId) is 403', async () => {
    forbidden(await api.patch(`/Users/${admin.id}`, ops({ op: 'replace', value: { active: false } })));
    forbidden(await api.patch(`/Users/${admin.id}`, ops({ op: 'Replace', path: 'userName', value: 'other@guarded.test' })));
    forbidden(await api.patch(`/Users/${admin.id}`, ops({ op: 'add', path: 'externalId', value: 'ext-1' })));
    await unchanged();
  });

  it('DELETE is 403', async () => {
    forbidden(await api.delete(`/Users/${admin.id}`));
    await unchanged();
  });

  it('through /Bulk too', async () => {
    const res = await api.post('/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'PATCH', path: `/Users/${admin.id}`, data: ops({ op: 'replace', path: 'active', value: false }) },
        { method: 'DELETE', path: `/Users/${admin.id}` },
      ],
    });
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['403', '403']);
    await unchanged();
  });

  it('another user’s userName cannot be changed to the primary admin’s (409), whatever its case', async () => {
    const u = (await api.post('/Users', { userName: 'someone@guarded.test' }).expect(201)).body;
    expectScimError(await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'userName', value: 'BOSS@guarded.test' })), 409, 'uniqueness');
  });
});

describe('not even the primary admin deletes themselves (a tenant always has one)', () => {
  it('DELETE /users/{id} and POST /users/delete with their own session are 403, and nothing changes', async () => {
    const b = await activatedBrowser(h, 'boss@guarded.test');
    const csrf = (await b.me()).body.csrfToken;
    const one = await b.agent.delete(`/api/v1/users/${admin.id}`).set('X-CSRF-Token', csrf);
    expect(one.status).toBe(403);
    expect(one.body.detail).toMatch(/primary admin cannot be deleted/);
    const created = await api.post('/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'kept-by-bulk@guarded.test' });
    expect([created.status, created.body.detail]).toEqual([201, undefined]);
    const other = created.body.id;
    const bulk = await b.agent.post('/api/v1/users/delete').set('X-CSRF-Token', csrf).send({ ids: [other, admin.id] });
    expect(bulk.status).toBe(403);
    // All or nothing: the other person is still there, and so is the primary admin.
    await api.get(`/Users/${other}`).expect(200);
    await api.get(`/Users/${admin.id}`).expect(200);
  });
});

describe('on /Groups membership', () => {
  let groupId: string;
  let other: string;
  beforeAll(async () => {
    other = (await api.post('/Users', { userName: 'member@guarded.test' }).expect(201)).body.id;
    groupId = (await api.post('/Groups', { displayName: 'Admins', members: [{ value: admin.id }, { value: other }] }).expect(201)).body.id;
  });
  const members = async () => ((await api.get(`/Groups/${groupId}`).expect(200)).body.members ?? []).map((m: { value: string }) => m.value).sort();

  it.each([
    ['Okta: remove members[value eq admin]', () => ops({ op: 'remove', path: `members[value eq "${admin.id}"]` })],
    ['Entra: Remove with a value array', () => ops({ op: 'Remove', path: 'members', value: [{ value: admin.id }] })],
    ['remove all members', () => ops({ op: 'remove', path: 'members' })],
    ['replace members without the admin', () => ops({ op: 'replace', path: 'members', value: [{ value: other }] })],
    ['path-less replace of members', () => ops({ op: 'replace', value: { members: [] } })],
  ])('%s is 403 and changes nothing', async (_name, body) => {
    forbidden(await api.patch(`/Groups/${groupId}`, body()));
    expect(await members()).toEqual([admin.id, other].sort());
  });

  it('PUT of the group without the admin is 403; with it, fine', async () => {
    forbidden(await api.put(`/Groups/${groupId}`, { displayName: 'Admins', members: [{ value: other }] }));
    await api.put(`/Groups/${groupId}`, { displayName: 'Admins', members: [{ value: admin.id }] }).expect(200);
    expect(await members()).toEqual([admin.id]);
    await api.patch(`/Groups/${groupId}`, ops({ op: 'add', path: 'members', value: [{ value: other }] })).expect(204);
  });

  it('other members can still be removed, and groups without the admin can be cleared', async () => {
    await api.patch(`/Groups/${groupId}`, ops({ op: 'remove', path: `members[value eq "${other}"]` })).expect(204);
    expect(await members()).toEqual([admin.id]);
    const g = (await api.post('/Groups', { displayName: 'No admin', members: [{ value: other }] }).expect(201)).body.id;
    await api.patch(`/Groups/${g}`, ops({ op: 'remove', path: 'members' })).expect(204);
  });
});

describe('audit log', () => {
  it('records who changed what and when, without secrets, filtered by actor, target, action and time', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    const u = (await api.post('/Users', { userName: 'audited@guarded.test', title: 'A', password: 'Never-In-Audit-1' }).expect(201)).body;
    await api.patch(`/Users/${u.id}`, ops({ op: 'replace', path: 'title', value: 'B' })).expect(200);
    await api.delete(`/Users/${u.id}`).expect(204);

    const auth = { Authorization: `Bearer ${t.token}` };
    const res = await h.http.get('/api/v1/audit').query({ target: u.id }).set(auth).expect(200);
    expect(res.body.entries.map((e: { action: string }) => e.action)).toEqual(['user.delete', 'user.patch', 'user.create']);
    const [del, patch, create] = res.body.entries;
    expect(create.changes.set).toMatchObject({ userName: 'audited@guarded.test', title: 'A' });
    expect(patch.changes).toEqual({ set: { title: 'B' } });
    expect(del.actor).toEqual({ type: 'token', id: expect.any(String) });
    expect(create.target).toEqual({ type: 'User', id: u.id });
    expect(JSON.stringify(res.body)).not.toContain('Never-In-Audit-1');

    const byAction = await h.http.get('/api/v1/audit').query({ action: 'user.delete', from: since }).set(auth).expect(200);
    expect(byAction.body.entries.map((e: { target: { id: string } }) => e.target.id)).toContain(u.id);
    const byActor = await h.http.get('/api/v1/audit').query({ actor: del.actor.id, limit: 2 }).set(auth).expect(200);
    expect(byActor.body.entries).toHaveLength(2);
    expect(byActor.body.next).toEqual(expect.any(String));
    const page2 = await h.http.get('/api/v1/audit').query({ actor: del.actor.id, limit: 2, before: byActor.body.next }).set(auth).expect(200);
    expect(page2.body.entries[0].id).not.toBe(byActor.body.entries[1].id);
    const future = await h.http.get('/api/v1/audit').query({ from: '2999-01-01T00:00:00Z' }).set(auth).expect(200);
    expect(future.body.entries).toEqual([]);
    expect((await h.http.get('/api/v1/audit').query({ from: 'yesterday' }).set(auth)).status).toBe(400);
  });

  it('a failed change leaves no audit entry; another tenant’s log is not visible', async () => {
    const before = (await h.http.get('/api/v1/audit').set('Authorization', `Bearer ${t.token}`).expect(200)).body.entries.length;
    await api.delete(`/Users/${admin.id}`).expect(403);
    const after = (await h.http.get('/api/v1/audit').set('Authorization', `Bearer ${t.token}`).expect(200)).body.entries.length;
    expect(after).toBe(before);
    const other = await createTenant(h, 'Else');
    const theirs = await h.http.get('/api/v1/audit').set('Authorization', `Bearer ${other.token}`).expect(200);
    expect(theirs.body.entries.every((e: { target: { id: string } }) => e.target.id !== admin.id)).toBe(true);
  });
});

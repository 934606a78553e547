// Kinds of groups (issue 4): sub-account attributes and their checks, the tenant's displayName
// rules for IdP-pushed groups, deactivation and reactivation, the purge twelve months after
// deactivation (on a clock the test moves), and licence permissions on companies.
import { createTenant, expectScimError, Harness, PROVISIO_GROUP, PROVISIO_USER, scim, startHarness, TestTenant } from '../support/harness';
import { blockedBySubAccounts } from '../../server/store/tenancy-repo';
import { inTenant } from '../../server/store/scope';
import { createDeps } from '../../server/deps';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let now = new Date('2026-01-15T10:00:00Z');
let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
beforeAll(async () => {
  h = await startHarness({ clock: () => now });
  t = await createTenant(h);
  api = scim(h, t);
});
afterAll(() => h.close());

const adminApi = (method: 'get' | 'patch', path: string) => h.http[method](`/api/v1${path}`).set('Authorization', `Bearer ${t.token}`);
const user = async (userName: string, extra: Record<string, unknown> = {}) => (await api.post('/Users', { userName, ...extra }).expect(201)).body.id as string;
const sub = (displayName: string, ext: Record<string, unknown> = {}, members: string[] = []) =>
  api.post('/Groups', { displayName, members: members.map((value) => ({ value })), [PROVISIO_GROUP]: { kind: 'subAccount', ...ext } });

describe('sub-account attributes', () => {
  it('carries parent, active, limits and admins; admins must be members', async () => {
    const alice = await user('alice@sub.test');
    const bob = await user('bob@sub.test');
    const parent = (await sub('Parent').expect(201)).body.id;
    const res = await sub('Child', { parent, dailyLimit: '5', monthlyLimit: 100, admins: [{ value: alice }] }, [alice, bob]);
    expect(res.status).toBe(201);
    expect(res.body[PROVISIO_GROUP]).toEqual({ kind: 'subAccount', parent, active: true, dailyLimit: 5, monthlyLimit: 100, admins: [{ value: alice }] });

    expectScimError(await sub('Bad admin', { admins: [{ value: alice }] }, [bob]), 400, 'invalidValue');
    expectScimError(await sub('Bad limit', { dailyLimit: -1 }), 400, 'invalidValue');
    expectScimError(await sub('Bad parent', { parent: '0190a0a0-0000-7000-8000-000000000009' }), 400, 'invalidValue');
    const plain = (await api.post('/Groups', { displayName: 'Plain' }).expect(201)).body.id;
    expectScimError(await sub('Parent is not a sub-account', { parent: plain }), 400, 'invalidValue');
    expectScimError(await api.post('/Groups', { displayName: 'Company', [PROVISIO_GROUP]: { kind: 'company', dailyLimit: 1 } }), 400, 'invalidValue');
    // No cycles: the parent cannot be moved under its own child.
    expectScimError(
      await api.patch(`/Groups/${parent}`, { schemas: [PATCH], Operations: [{ op: 'add', path: `${PROVISIO_GROUP}:parent`, value: res.body.id }] }),
      400,
      'invalidValue',
    );
  });

  it('deactivation keeps everything and records when; reactivation restores it', async () => {
    const member = await user('carol@sub.test');
    const g = (await sub('Dept', {}, [member]).expect(201)).body.id;
    const off = await api.patch(`/Groups/${g}?attributes=${PROVISIO_GROUP},members`, { schemas: [PATCH], Operations: [{ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: 'False' }] });
    expect(off.status).toBe(200);
    expect(off.body[PROVISIO_GROUP]).toMatchObject({ active: false, deactivatedAt: now.toISOString() });
    expect(off.body.members.map((m: { value: string }) => m.value)).toEqual([member]);
    const on = await api.patch(`/Groups/${g}?attributes=${PROVISIO_GROUP}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: true }] });
    expect(on.body[PROVISIO_GROUP]).toEqual({ kind: 'subAccount', active: true });
  });
});

describe('kind rules on displayName', () => {
  it('gives IdP-pushed groups a kind by prefix or pattern; an explicit kind wins', async () => {
    const rules = [
      { kind: 'company', prefix: 'CO-' },
      { kind: 'subAccount', pattern: 'Dept * (EU)' },
    ];
    const set = await adminApi('patch', '/settings').send({ groupKindRules: rules }).expect(200);
    expect(set.body.groupKindRules).toEqual(rules);
    expect((await adminApi('get', '/settings').expect(200)).body.groupKindRules).toEqual(rules);
    const kindOf = async (displayName: string, ext?: Record<string, unknown>) =>
      (await api.post('/Groups', { displayName, ...(ext ? { [PROVISIO_GROUP]: ext } : {}) }).expect(201)).body[PROVISIO_GROUP].kind;
    expect(await kindOf('co-Initech')).toBe('company');
    expect(await kindOf('Dept Sales (EU)')).toBe('subAccount');
    expect(await kindOf('Dept Sales (US)')).toBe('group');
    expect(await kindOf('CO-Explicit', { kind: 'group' })).toBe('group');
    expect((await adminApi('patch', '/settings').send({ groupKindRules: [{ kind: 'robot', prefix: 'x' }] })).status).toBe(400);
    expect((await adminApi('patch', '/settings').send({ groupKindRules: [{ kind: 'company', prefix: 'x', pattern: 'y' }] })).status).toBe(400);
    expect((await adminApi('patch', '/settings').send({ color: 'blue' })).status).toBe(400);
  });

  it('matches 100 rules of 200 characters built to make a backtracking engine explode, and still gives the kind (issue 9)', async () => {
    // As RegExps (`^.*a.*a….*b$`) these never finish against 256 × 'a': the request, and every
    // other tenant's with it, would hang. The linear matcher (server/resources/glob.ts) answers.
    const other = await createTenant(h, 'Rules');
    const otherApi = scim(h, other);
    const evil = `${'*a'.repeat(99)}*b`;
    const rules = [...Array.from({ length: 99 }, () => ({ kind: 'company', pattern: evil })), { kind: 'subAccount', pattern: `${'*a?'.repeat(66)}*` }];
    await h.http.patch('/api/v1/settings').set('Authorization', `Bearer ${other.token}`).send({ groupKindRules: rules }).expect(200);
    const long = 'a'.repeat(256);
    expect((await otherApi.post('/Groups', { displayName: long }).expect(201)).body[PROVISIO_GROUP].kind).toBe('subAccount');
    expect((await otherApi.post('/Groups', { displayName: `${'a'.repeat(255)}b` }).expect(201)).body[PROVISIO_GROUP].kind).toBe('company');
  });

  it('a displayName is at most 256 characters (what Entra and Okta send): longer is 400 invalidValue on POST, PUT and PATCH', async () => {
    const max = 'é'.repeat(255) + '😀'; // characters, not UTF-16 units: the emoji counts once
    const made = (await api.post('/Groups', { displayName: max }).expect(201)).body;
    expect(made.displayName).toBe(max);
    const tooLong = 'x'.repeat(257);
    const before = Number((await h.owner((db) => db('groups').where({ tenant_id: t.id }).count({ n: '*' })))[0].n);
    const post = await api.post('/Groups', { displayName: tooLong });
    expectScimError(post, 400, 'invalidValue');
    expect(post.body.detail).toBe('displayName must be at most 256 characters');
    expectScimError(await api.put(`/Groups/${made.id}`, { displayName: tooLong }), 400, 'invalidValue');
    expectScimError(await api.patch(`/Groups/${made.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'displayName', value: tooLong }] }), 400, 'invalidValue');
    expect((await api.get(`/Groups/${made.id}`)).body.displayName).toBe(max);
    expect(Number((await h.owner((db) => db('groups').where({ tenant_id: t.id }).count({ n: '*' })))[0].n)).toBe(before);
  });
});

describe('purge twelve months after deactivation', () => {
  it('purges the sub-account, its memberships and users who belong to nothing else — on time, and audited', async () => {
    now = new Date('2026-02-01T00:00:00Z');
    const only = await user('only@purge.test');
    const shared = await user('shared@purge.test');
    const keeper = (await api.post('/Groups', { displayName: 'Keeper', members: [{ value: shared }] }).expect(201)).body.id;
    const doomed = (await sub('Doomed', { active: false }, [only, shared, t.primaryAdminId]).expect(201)).body.id;
    const revived = (await sub('Revived', { active: false }, []).expect(201)).body.id;

    now = new Date('2027-01-31T23:59:00Z'); // not yet twelve months
    expect(await h.deps.jobs.purgeSubAccounts()).toEqual([]);
    await api.patch(`/Groups/${revived}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: `${PROVISIO_GROUP}:active`, value: true }] }).expect(204);

    now = new Date('2027-02-01T00:00:01Z');
    const done = await h.deps.jobs.purgeSubAccounts();
    expect(done).toEqual([{ tenantId: t.id, subAccountId: doomed, usersDeleted: 1 }]);
    expectScimError(await api.get(`/Groups/${doomed}`), 404);
    expectScimError(await api.get(`/Users/${only}`), 404);
    await api.get(`/Users/${shared}`).expect(200);
    await api.get(`/Users/${t.primaryAdminId}`).expect(200);
    await api.get(`/Groups/${revived}`).expect(200);
    expect((await api.get(`/Groups/${keeper}`)).body.members.map((m: { value: string }) => m.value)).toEqual([shared]);
    const audit = await h.http.get('/api/v1/audit').query({ action: 'subAccount.purge' }).set('Authorization', `Bearer ${t.token}`).expect(200);
    expect(audit.body.entries).toEqual([expect.objectContaining({ actor: { type: 'system', id: 'purge' }, target: { type: 'Group', id: doomed } })]);
    expect(audit.body.entries[0].changes.usersDeleted).toEqual([only]);
    expect(await h.deps.jobs.purgeSubAccounts()).toEqual([]);
  });

  it('two instances running the purge at once purge each sub-account once (issue 12: main.ts runs it on every instance)', async () => {
    now = new Date('2026-03-01T00:00:00Z');
    const doomed: string[] = [];
    const members: string[] = [];
    for (let i = 0; i < 6; i++) {
      const m = await user(`twice${i}@purge.test`);
      members.push(m);
      doomed.push((await sub(`Twice ${i}`, { active: false }, [m]).expect(201)).body.id);
    }
    const second = await createDeps(h.deps.config, h.deps.logger, { db: h.db, skipMigrations: true, clock: () => now });
    try {
      now = new Date('2027-03-02T00:00:00Z');
      const [a, b] = await Promise.all([h.deps.jobs.purgeSubAccounts(), second.jobs.purgeSubAccounts()]);
      const purged = [...a, ...b].map((r) => r.subAccountId);
      expect(purged.sort()).toEqual([...doomed].sort());
      expect([...a, ...b].reduce((n, r) => n + r.usersDeleted, 0)).toBe(members.length);
      for (const id of doomed) {
        const audit = await h.http.get('/api/v1/audit').query({ action: 'subAccount.purge', target: id }).set('Authorization', `Bearer ${t.token}`).expect(200);
        expect(audit.body.entries).toHaveLength(1);
      }
      for (const id of members) expectScimError(await api.get(`/Users/${id}`), 404);
    } finally {
      await second.close();
    }
  });
});

describe('licence permissions', () => {
  it('lists the companies a user manages and whether it may manage their licences', async () => {
    const co1 = (await api.post('/Groups', { displayName: 'Acme Corp', [PROVISIO_GROUP]: { kind: 'company' } }).expect(201)).body.id;
    const managerWith = await user('with@lic.test', { [PROVISIO_USER]: { canManageLicences: true } });
    const managerWithout = await user('without@lic.test');
    const co2 = (await api.post('/Groups', { displayName: 'Beta Ltd', members: [{ value: managerWith }, { value: managerWithout }], [PROVISIO_GROUP]: { kind: 'company' } }).expect(201)).body.id;
    await api.post('/Groups', { displayName: 'Not a company', members: [{ value: managerWith }] }).expect(201);

    const perms = async (id: string) => (await adminApi('get', `/users/${id}/permissions`).expect(200)).body;
    expect((await perms(managerWith)).companies).toEqual([{ id: co2, displayName: 'Beta Ltd', manageLicences: true }]);
    expect((await perms(managerWithout)).companies).toEqual([{ id: co2, displayName: 'Beta Ltd', manageLicences: false }]);
    const adminPerms = await perms(t.primaryAdminId);
    expect(adminPerms.companies).toEqual(expect.arrayContaining([{ id: co1, displayName: 'Acme Corp', manageLicences: true }, { id: co2, displayName: 'Beta Ltd', manageLicences: true }]));
    expect(adminPerms.companies.every((c: { manageLicences: boolean }) => c.manageLicences)).toBe(true);
    expect((await adminApi('get', '/users/0190a0a0-0000-7000-8000-000000000009/permissions')).status).toBe(404);
    const other = await createTenant(h, 'Other');
    expect((await h.http.get(`/api/v1/users/${managerWith}/permissions`).set('Authorization', `Bearer ${other.token}`)).status).toBe(404);
  });
});

describe('price list that applies', () => {
  it('is the user’s own list, else the tenant default, and says which', async () => {
    const gold = (await h.http.post('/api/v1/price-lists').set('Authorization', `Bearer ${t.token}`).send({ name: 'Gold' }).expect(201)).body;
    const withList = await user('gold@pl.test', { [PROVISIO_USER]: { priceList: gold.id } });
    const without = await user('plain@pl.test');
    expect((await adminApi('get', `/users/${withList}/price-list`).expect(200)).body).toEqual({ priceList: { id: gold.id, name: 'Gold' }, source: 'assigned' });
    const def = (await adminApi('get', `/users/${without}/price-list`).expect(200)).body;
    expect(def).toMatchObject({ source: 'default', priceList: { name: 'Standard' } });
    // Deleting the list moves its users to the default.
    await h.http.delete(`/api/v1/price-lists/${gold.id}`).set('Authorization', `Bearer ${t.token}`).expect(204);
    expect((await adminApi('get', `/users/${withList}/price-list`).expect(200)).body).toEqual(def);
  });
});

describe('deactivated sub-accounts and sign-in', () => {
  it('block a member only when every sub-account it belongs to is inactive (itself or above it)', async () => {
    const blocked = (userId: string) => inTenant(h.db.knex, t.id, (trx) => blockedBySubAccounts(trx, t.id, userId));
    const patchActive = (gid: string, value: boolean) =>
      api.patch(`/Groups/${gid}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: `${PROVISIO_GROUP}:active`, value }] }).expect(204);
    const solo = await user('solo@signin.test');
    const both = await user('both@signin.test');
    const none = await user('none@signin.test');
    const top = (await sub('Top', {}, [solo]).expect(201)).body.id;
    const child = (await sub('Below', { parent: top }, [both]).expect(201)).body.id;
    const other = (await sub('Elsewhere', {}, [both]).expect(201)).body.id;
    expect([await blocked(solo), await blocked(both), await blocked(none)]).toEqual([false, false, false]);
    await patchActive(top, false);
    // solo's only account is off; both is in Below (off through Top) but also in an active one.
    expect([await blocked(solo), await blocked(both), await blocked(none)]).toEqual([true, false, false]);
    await patchActive(other, false);
    expect(await blocked(both)).toBe(true);
    await patchActive(top, true);
    expect([await blocked(solo), await blocked(both)]).toEqual([false, false]);
    void child;
  });
});

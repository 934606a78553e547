// Services assigned to people (issue 10, "Services (assigned to people)") on a real server and
// database: the tenant's catalogue at /api/v1/services (keys unique per tenant ignoring case and
// immutable, writes for tenant-wide credentials only, reads for bound ones too, audited); a
// user's services as SCIM `entitlements` of type `service`, checked and normalized on create,
// PUT, PATCH (Okta's and Entra's forms) and Bulk; filters; deleting a service takes it from
// everyone in the same transaction; the account page lists a person's services by name.
import { browser, linkToken } from '../support/browser';
import { adminApi, createTenant, expectJsonError, expectScimError, GROUP, Harness, OPERATOR_TOKEN, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
let h: Harness;
let t: TestTenant;
let other: TestTenant;
let now = Date.parse('2026-11-21T09:00:00Z');
const clock = () => new Date(now);
let seq = 0;

beforeAll(async () => {
  h = await startHarness({ clock });
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Globex');
  for (const [key, name] of [['m365', 'Microsoft 365'], ['crm', 'CRM'], ['backup', 'Backup']]) {
    await admin(t).post('/services', { key, name }).expect(201);
  }
  await admin(other).post('/services', { key: 'globex-only', name: 'Theirs' }).expect(201);
});
afterAll(() => h.close());

const admin = (tenant: TestTenant, token = tenant.token) => adminApi(h, tenant, token);


const keys = async (tenant = t) => ((await admin(tenant).get('/services').expect(200)).body.services as { key: string }[]).map((s) => s.key);

async function newUser(entitlements?: unknown, tenant = t): Promise<{ id: string; userName: string }> {
  const userName = `person${++seq}@services.test`;
  const res = await scim(h, tenant).post('/Users', { schemas: [USER], userName, ...(entitlements !== undefined ? { entitlements } : {}) });
  if (res.status !== 201) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, userName };
}

const stored = async (id: string) => h.owner(async (db) => db('users').where({ id }).first(['data', 'folded', 'version', 'updated_at']));
const service = (value: string) => ({ value, type: 'service' });

async function auditOf(tenant: TestTenant, query: Record<string, string>) {
  return (await admin(tenant).get('/audit').query(query).expect(200)).body.entries as { action: string; target: { type: string; id: string }; changes: Record<string, unknown> }[];
}

async function boundAdminToken(): Promise<string> {
  const sub = await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: `Dept ${++seq}`, 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } }).expect(201);
  return (await admin(t).post('/tokens', { name: 'dept admin', scopes: ['admin', 'scim'], subAccount: sub.body.id }).expect(201)).body.token;
}

describe('the catalogue: /api/v1/services', () => {
  it('creates a service with 201, Location and {key, name, description, createdAt, updatedAt}; the key is kept lower-cased', async () => {
    const res = await admin(t).post('/services', { key: 'Teams.Phone', name: '  Teams Phone ', description: ' Calls from Teams ' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ key: 'teams.phone', name: 'Teams Phone', description: 'Calls from Teams', createdAt: new Date(now).toISOString(), updatedAt: new Date(now).toISOString() });
    expect(res.headers.location).toBe('/api/v1/services/teams.phone');
    expect((await admin(t).get('/services/TEAMS.PHONE').expect(200)).body).toEqual(res.body);
    expect((await admin(t).post('/services', { key: 'nodesc', name: 'No description' }).expect(201)).body.description).toBeNull();
  });

  it.each([
    ['no body', undefined, /^2 fields are not right: key, name$/],
    ['an array', [], /The body must be an object/],
    ['no key', { name: 'X' }, /^key is required$/],
    ['a key with a space', { key: 'm 365', name: 'X' }, /^key must be/],
    ['a key starting with a dot', { key: '.x', name: 'X' }, /^key must be/],
    ['a key of 65 characters', { key: 'k'.repeat(65), name: 'X' }, /^key must be/],
    ['a numeric key', { key: 365, name: 'X' }, /^key must be text$/],
    ['no name', { key: 'noname' }, /name is required/],
    ['a blank name', { key: 'blank', name: '  ' }, /name is required/],
    ['a name of 201 characters', { key: 'long', name: 'n'.repeat(201) }, /at most 200/],
    ['a description that is not a string', { key: 'd1', name: 'D', description: 5 }, /description must be text or null/],
    ['a description of 1001 characters', { key: 'd2', name: 'D', description: 'd'.repeat(1001) }, /at most 1000/],
    ['an unknown attribute', { key: 'u1', name: 'U', price: 3 }, /price is not a field here; the fields are key, name, description/],
  ])('refuses %s with 400 invalidValue and creates nothing', async (_what, body, detail) => {
    const before = await keys();
    expectJsonError(await admin(t).post('/services', body), 400, 'invalidValue', detail);
    expect(await keys()).toEqual(before);
  });

  it('a key is unique in the tenant whatever its case (409 uniqueness); another tenant may use it', async () => {
    expectJsonError(await admin(t).post('/services', { key: 'M365', name: 'Again' }), 409, 'uniqueness', /"m365" already exists/);
    await admin(other).post('/services', { key: 'm365', name: 'Globex 365' }).expect(201);
    expect((await admin(t).get('/services/m365').expect(200)).body.name).toBe('Microsoft 365');
  });

  it('lists the tenant’s services by name, never another tenant’s; one of another tenant is 404', async () => {
    const list = (await admin(t).get('/services').expect(200)).body.services as { key: string; name: string }[];
    const names = list.map((s) => s.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }) || 0));
    expect(list.map((s) => s.key)).toEqual(expect.arrayContaining(['m365', 'crm', 'backup']));
    expect(list.map((s) => s.key)).not.toContain('globex-only');
    expectJsonError(await admin(t).get('/services/globex-only'), 404);
    expectJsonError(await admin(t).get('/services/nothing-here'), 404);
    expectJsonError(await admin(t).patch('/services/globex-only', { name: 'Mine' }), 404);
    expectJsonError(await admin(t).delete('/services/globex-only'), 404);
    expect((await admin(other).get('/services/globex-only').expect(200)).body.name).toBe('Theirs');
  });

  it('PATCH changes name and description (null clears it); the same key is accepted, another is 400 invalidValue', async () => {
    await admin(t).post('/services', { key: 'edit-me', name: 'Edit me', description: 'Old' }).expect(201);
    now += 60_000;
    const res = await admin(t).patch('/services/Edit-Me', { name: 'Edited', description: null, key: 'EDIT-ME' }).expect(200);
    expect(res.body).toMatchObject({ key: 'edit-me', name: 'Edited', description: null, updatedAt: new Date(now).toISOString() });
    expect(res.body.createdAt).not.toBe(res.body.updatedAt);
    expectJsonError(await admin(t).patch('/services/edit-me', { key: 'renamed' }), 400, 'invalidValue', /key is immutable/);
    expectJsonError(await admin(t).patch('/services/edit-me', { key: 'renamed', name: 'Also' }), 400, 'invalidValue', /key is immutable/);
    expect((await admin(t).get('/services/edit-me').expect(200)).body.name).toBe('Edited');
    expectJsonError(await admin(t).get('/services/renamed'), 404);
    expectJsonError(await admin(t).patch('/services/edit-me', {}), 400, 'invalidValue', /The body has nothing to change/);
    expectJsonError(await admin(t).patch('/services/edit-me', { name: '' }), 400, 'invalidValue', /name is required/);
    expectJsonError(await admin(t).patch('/services/edit-me', { default: true }), 400, 'invalidValue', /default is not a field here/);
    expectJsonError(await admin(t).patch('/services/nope', { name: 'X' }), 404);
  });

  it('other methods are 405 with Allow', async () => {
    const put = await admin(t).put('/services/m365', { name: 'x' });
    expectJsonError(put, 405);
    expect(put.headers.allow).toBe('GET, PATCH, DELETE');
    const del = await admin(t).delete('/services');
    expectJsonError(del, 405);
    expect(del.headers.allow).toBe('GET, POST');
  });

  it('a credential bound to a sub-account reads the catalogue but changes nothing (403)', async () => {
    const bound = admin(t, await boundAdminToken());
    expect((await bound.get('/services').expect(200)).body.services.map((s: { key: string }) => s.key)).toEqual(await keys());
    expect((await bound.get('/services/m365').expect(200)).body.name).toBe('Microsoft 365');
    expectJsonError(await bound.post('/services', { key: 'sneaky', name: 'Sneaky' }), 403, undefined, /tenant-wide credential/);
    expectJsonError(await bound.patch('/services/m365', { name: 'Renamed' }), 403);
    expectJsonError(await bound.delete('/services/m365'), 403);
    expect(await keys()).not.toContain('sneaky');
    expect((await admin(t).get('/services/m365').expect(200)).body.name).toBe('Microsoft 365');
  });

  it('records create, update and delete in the audit log', async () => {
    // Entries come newest first: each step a minute apart.
    await admin(t).post('/services', { key: 'audited', name: 'Audited' }).expect(201);
    now += 60_000;
    await admin(t).patch('/services/audited', { description: 'Now with words' }).expect(200);
    now += 60_000;
    await admin(t).delete('/services/audited').expect(204);
    const entries = await auditOf(t, { target: 'audited' });
    expect(entries.map((e) => [e.action, e.target.type, e.changes])).toEqual([
      ['service.delete', 'Service', { name: 'Audited', usersChanged: 0 }],
      ['service.update', 'Service', { set: { description: 'Now with words' } }],
      ['service.create', 'Service', { set: { key: 'audited', name: 'Audited', description: null } }],
    ]);
  });
});

describe('a user’s services: SCIM entitlements', () => {
  it('on create: stored as {value: <key>, type: "service"}, keys in any case, no type read as a service, duplicates merged, display dropped', async () => {
    const res = await scim(h, t).post('/Users', {
      schemas: [USER],
      userName: 'ent-create@services.test',
      entitlements: [{ value: 'M365', type: 'Service', display: 'Office', primary: true }, { value: 'crm' }, { value: 'm365', type: 'service' }],
    });
    expect(res.status).toBe(201);
    expect(res.body.entitlements).toEqual([service('m365'), service('crm')]);
    expect((await stored(res.body.id)).data.entitlements).toEqual([service('m365'), service('crm')]);
  });

  it.each([
    ['an unknown key', [{ value: 'nope', type: 'service' }], /entitlements: "nope" is not a service of this tenant/],
    ['several unknown keys, each named', [{ value: 'm365' }, { value: 'nope' }, { value: 'Nada' }], /entitlements: "nope", "nada" are not services of this tenant/],
    ['another tenant’s key', [{ value: 'globex-only' }], /"globex-only" is not a service/],
    ['a value that cannot be a key', [{ value: 'not a key' }], /"not a key" is not a service/],
    ['another type', [{ value: 'm365', type: 'licence' }], /entitlements\[0\]\.type "licence" is not supported: entitlements are services, with type "service" or no type/],
    ['an element without a value', [{ type: 'service' }], /entitlements\[0\]\.value is required/],
  ])('refuses %s with 400 invalidValue on create, creating nothing', async (_what, entitlements, detail) => {
    const userName = `refused${++seq}@services.test`;
    const res = await scim(h, t).post('/Users', { schemas: [USER], userName, entitlements });
    expectScimError(res, 400, 'invalidValue');
    expect(res.body.detail).toMatch(detail);
    expect((await scim(h, t).get('/Users').query({ filter: `userName eq "${userName}"` })).body.totalResults).toBe(0);
  });

  it('PUT replaces them, an unknown key is 400 and changes nothing, and a PUT without them clears them', async () => {
    const u = await newUser([{ value: 'm365' }]);
    const put = (entitlements?: unknown) => scim(h, t).put(`/Users/${u.id}`, { schemas: [USER], userName: u.userName, ...(entitlements ? { entitlements } : {}) });
    expect((await put([{ value: 'CRM', type: 'service' }, { value: 'backup' }]).expect(200)).body.entitlements).toEqual([service('crm'), service('backup')]);
    const before = await stored(u.id);
    expectScimError(await put([{ value: 'crm' }, { value: 'gone' }]), 400, 'invalidValue');
    expect(await stored(u.id)).toEqual(before);
    // The same list again is no change: no new version.
    await put([service('crm'), service('backup')]).expect(200);
    expect((await stored(u.id)).version).toBe(before.version);
    expect((await put().expect(200)).body.entitlements).toBeUndefined();
    expect((await stored(u.id)).data.entitlements).toBeUndefined();
  });

  describe('PATCH, in the forms IdPs send', () => {
    const patch = (id: string, ...Operations: unknown[]) => scim(h, t).patch(`/Users/${id}`, { schemas: [PATCH], Operations });

    it.each([
      ['add with a list (Okta, RFC 7644 §3.5.2.1): appended, no duplicates', [{ value: 'm365' }], { op: 'add', path: 'entitlements', value: [{ value: 'crm' }, { value: 'M365' }] }, ['m365', 'crm']],
      ['Add with the list as JSON text (Entra)', [{ value: 'm365' }], { op: 'Add', path: 'entitlements', value: '[{"value":"backup","type":"service"}]' }, ['m365', 'backup']],
      ['replace of the whole list', [{ value: 'm365' }, { value: 'crm' }], { op: 'replace', path: 'entitlements', value: [{ value: 'backup', type: 'service' }] }, ['backup']],
      ['a path-less replace', [{ value: 'm365' }], { op: 'replace', value: { entitlements: [{ value: 'crm' }] } }, ['crm']],
      ['remove of one by a value filter (Okta)', [{ value: 'm365' }, { value: 'crm' }], { op: 'remove', path: 'entitlements[value eq "m365"]' }, ['crm']],
      ['Remove with a value list (Entra)', [{ value: 'm365' }, { value: 'crm' }], { op: 'Remove', path: 'entitlements', value: [{ value: 'crm' }] }, ['m365']],
      ['remove of them all', [{ value: 'm365' }, { value: 'crm' }], { op: 'remove', path: 'entitlements' }, undefined],
      ['add through a filter that matches nothing yet (Entra’s expression mapping): created', undefined, { op: 'Add', path: 'entitlements[type eq "service"].value', value: 'CRM' }, ['crm']],
      ['add of a type through a value filter: created', [{ value: 'm365' }], { op: 'add', path: 'entitlements[value eq "backup"].type', value: 'service' }, ['m365', 'backup']],
      ['remove through a filter on type and value', [{ value: 'm365' }, { value: 'crm' }], { op: 'remove', path: 'entitlements[type eq "service" and value eq "crm"]' }, ['m365']],
    ])('%s', async (_what, start, op, after) => {
      const u = await newUser(start);
      const res = await patch(u.id, op);
      expect(res.status).toBe(200);
      expect(res.body.entitlements).toEqual(after?.map(service));
      expect((await stored(u.id)).data.entitlements).toEqual(after?.map(service));
    });

    it.each([
      ['an unknown key added', { op: 'add', path: 'entitlements', value: [{ value: 'crm' }, { value: 'unknown-one' }] }, /"unknown-one" is not a service/],
      ['an unknown key through a filter', { op: 'add', path: 'entitlements[type eq "service"].value', value: 'nope' }, /"nope" is not a service/],
      ['another type', { op: 'add', path: 'entitlements', value: [{ value: 'crm', type: 'role' }] }, /type "role" is not supported/],
    ])('refuses %s with 400 invalidValue, the whole PATCH changing nothing', async (_what, op, detail) => {
      const u = await newUser([{ value: 'm365' }]);
      const before = await stored(u.id);
      const res = await patch(u.id, { op: 'replace', path: 'displayName', value: 'Changed' }, op);
      expectScimError(res, 400, 'invalidValue');
      expect(res.body.detail).toMatch(detail);
      expect(await stored(u.id)).toEqual(before);
    });

    it('a user stored with other entitlements before these rules can still be changed (they are checked only when changed)', async () => {
      const u = await newUser();
      const legacy = [{ value: 'Gold', type: 'licence' }];
      await h.owner((db) => db('users').where({ id: u.id }).update({ data: db.raw(`jsonb_set(data, '{entitlements}', ?::jsonb)`, [JSON.stringify(legacy)]) }));
      await patch(u.id, { op: 'replace', path: 'active', value: false }).expect(200);
      expect((await stored(u.id)).data).toMatchObject({ active: false, entitlements: legacy });
      expectScimError(await patch(u.id, { op: 'add', path: 'entitlements', value: [{ value: 'crm' }] }), 400, 'invalidValue');
    });
  });

  it('a credential bound to a sub-account assigns services to the people it administers', async () => {
    const bound = scim(h, { ...t, token: await boundAdminToken() });
    const made = await bound.post('/Users', { schemas: [USER], userName: `bound${++seq}@services.test`, entitlements: [{ value: 'crm' }] }).expect(201);
    expect(made.body.entitlements).toEqual([service('crm')]);
    const changed = await bound.patch(`/Users/${made.body.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'entitlements', value: [{ value: 'm365' }] }] }).expect(200);
    expect(changed.body.entitlements).toEqual([service('crm'), service('m365')]);
  });

  it('Bulk applies the same rules to each operation', async () => {
    const res = await scim(h, t).post('/Bulk', {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
      Operations: [
        { method: 'POST', bulkId: 'a', path: '/Users', data: { schemas: [USER], userName: 'bulk-ok@services.test', entitlements: [{ value: 'Backup' }] } },
        { method: 'POST', bulkId: 'b', path: '/Users', data: { schemas: [USER], userName: 'bulk-bad@services.test', entitlements: [{ value: 'unknown' }] } },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.Operations.map((o: { status: string }) => o.status)).toEqual(['201', '400']);
    expect(res.body.Operations[1].response.detail).toMatch(/"unknown" is not a service/);
    const made = (await scim(h, t).get('/Users').query({ filter: 'userName eq "bulk-ok@services.test"' })).body.Resources[0];
    expect(made.entitlements).toEqual([service('backup')]);
  });

  it('filters on entitlements find them, in any case', async () => {
    const a = await newUser([{ value: 'backup' }, { value: 'crm' }]);
    const b = await newUser([{ value: 'backup' }]);
    const ids = async (filter: string) => ((await scim(h, t).get('/Users').query({ filter, count: 1000 }).expect(200)).body.Resources as { id: string }[]).map((r) => r.id);
    for (const filter of ['entitlements[value eq "crm"]', 'entitlements.value eq "CRM"', 'entitlements[type eq "service" and value eq "crm"]']) {
      const found = await ids(filter);
      expect({ filter, a: found.includes(a.id), b: found.includes(b.id) }).toEqual({ filter, a: true, b: false });
    }
    expect(await ids('entitlements[value eq "backup"]')).toEqual(expect.arrayContaining([a.id, b.id]));
  });
});

describe('deleting a service', () => {
  it('takes it from every user who has it, in data and filters, with a new version and lastModified; audited with the count', async () => {
    await admin(t).post('/services', { key: 'doomed', name: 'Doomed' }).expect(201);
    const both = await newUser([{ value: 'doomed' }, { value: 'm365' }]);
    const only = await newUser([{ value: 'DOOMED' }]);
    const without = await newUser([{ value: 'm365' }]);
    // Another tenant's users are not touched, even with the same key.
    await admin(other).post('/services', { key: 'doomed', name: 'Theirs' }).expect(201);
    const theirs = await newUser([{ value: 'doomed' }], other);
    const before = { both: await stored(both.id), only: await stored(only.id), without: await stored(without.id), theirs: await stored(theirs.id) };
    const etag = (await scim(h, t).get(`/Users/${both.id}`)).headers.etag;

    now += 3_600_000;
    await admin(t).delete('/services/Doomed').expect(204);

    const after = { both: await stored(both.id), only: await stored(only.id), without: await stored(without.id), theirs: await stored(theirs.id) };
    expect(after.both.data.entitlements).toEqual([service('m365')]);
    expect(after.both.folded.entitlements).toEqual([service('m365')]);
    expect(after.only.data.entitlements).toBeUndefined();
    expect(after.only.folded.entitlements).toBeUndefined();
    for (const k of ['both', 'only'] as const) {
      expect(Number(after[k].version)).toBe(Number(before[k].version) + 1);
      expect(new Date(after[k].updated_at).toISOString()).toBe(new Date(now).toISOString());
    }
    expect(after.without).toEqual(before.without);
    expect(after.theirs).toEqual(before.theirs);
    const read = await scim(h, t).get(`/Users/${both.id}`).expect(200);
    expect(read.headers.etag).not.toBe(etag);
    expect(read.body.meta.lastModified).toBe(new Date(now).toISOString());
    expect((await scim(h, t).get('/Users').query({ filter: 'entitlements[value eq "doomed"]' })).body.totalResults).toBe(0);

    expect((await auditOf(t, { target: 'doomed', action: 'service.delete' }))[0].changes).toEqual({ name: 'Doomed', usersChanged: 2 });
    expect((await auditOf(t, { target: both.id, action: 'user.patch' }))[0].changes).toEqual({ set: { entitlements: [service('m365')] }, cause: { serviceDeleted: 'doomed' } });
    expect((await auditOf(t, { target: only.id, action: 'user.patch' }))[0].changes).toEqual({ removed: ['entitlements'], cause: { serviceDeleted: 'doomed' } });

    expectJsonError(await admin(t).delete('/services/doomed'), 404);
    expectScimError(await scim(h, t).patch(`/Users/${without.id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'entitlements', value: [{ value: 'doomed' }] }] }), 400, 'invalidValue');
  });
});

describe('the account page', () => {
  it('lists the services assigned to the person by name, not their groups', async () => {
    const userName = `page${++seq}@services.test`;
    const u = (await scim(h, t).post('/Users', { schemas: [USER], userName, entitlements: [{ value: 'crm' }, { value: 'm365' }] }).expect(201)).body;
    await scim(h, t).post('/Groups', { schemas: [GROUP], displayName: 'Plain Group Name', members: [{ value: u.id }] }).expect(201);
    const mail = await h.http.get('/operator/v1/mail').query({ to: userName }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`).expect(200);
    const secret = linkToken(mail.body.messages.find((m: { template: string }) => m.template === 'activation').text, '/activate');
    const b = browser(h.app);
    await b.get(`/activate?token=${secret}`);
    expect((await b.post('/activate', { token: secret, password: 'correct-horse-battery-staple-42', acceptPrivacy: 'yes' })).status).toBe(303);
    const page = await b.get('/account');
    expect(page.status).toBe(200);
    const section = page.text.slice(page.text.indexOf('Assigned services'));
    expect(section).toMatch(/<li>CRM<\/li>\s*<li>Microsoft 365<\/li>/);
    expect(page.text).not.toContain('Plain Group Name');

    // What the lead's GET /users/{id}/permissions will call: services with names, by name.
    expect((await h.deps.accounts.assignments.of(t.id, u.id))?.services).toEqual([
      { key: 'crm', name: 'CRM' },
      { key: 'm365', name: 'Microsoft 365' },
    ]);
    await admin(t).patch('/services/crm', { name: 'Sales CRM' }).expect(200);
    expect((await h.deps.accounts.assignments.of(t.id, u.id))?.services.map((s) => s.name)).toEqual(['Microsoft 365', 'Sales CRM']);
  });
});

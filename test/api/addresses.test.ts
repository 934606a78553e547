// Issue 9, point 14: every address the server may send mail to is checked by one rule
// (server/scim/email-address.ts) on every write path — SCIM POST, PUT, PATCH and Bulk (userName
// holding an '@', the extension's credentialsEmail and notificationEmail), the tenant setting
// credentialsEmail, the operator's adminEmail (API and CLI) — and a bad one is 400 invalidValue
// naming the attribute, with nothing stored and no mail queued. Before, these reached the
// outbox's own check and answered 500.
import { runCli } from '../../server/cli';
import { createTenant, expectScimError, Harness, OPERATOR_TOKEN, PROVISIO_USER, scim, startHarness, TestTenant, USER, withCliDatabase } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
/** The three of the issue, and one each the old checks let through to a 500 or to the relay. */
const BAD = ['bad@', 'x y@acme.example', 'two@@acme.example', 'a,b@acme.example', 'ada@acme..example'];

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h);
  api = scim(h, t);
});
afterAll(() => h.close());

const count = async (table: string, tenantId = t.id) => Number((await h.owner((db) => db(table).where({ tenant_id: tenantId }).count({ n: '*' })))[0].n);
/** Users and queued mails of the tenant: a refused write changes neither. */
const snapshot = async (tenantId = t.id) => ({ users: await count('users', tenantId), outbox: await count('outbox', tenantId) });
const admin = (tenant: TestTenant) => ({
  settings: (body: unknown) => h.http.patch('/api/v1/settings').set('Authorization', `Bearer ${tenant.token}`).send(body as object),
});

describe('SCIM userName holding an @', () => {
  it.each(BAD)('POST /Users with userName %j is 400 invalidValue naming userName; nothing stored, no mail', async (userName) => {
    const before = await snapshot();
    const res = await api.post('/Users', { schemas: [USER], userName });
    expectScimError(res, 400, 'invalidValue');
    expect(res.body.detail).toMatch(/^userName holds an '@'/);
    expect(await snapshot()).toEqual(before);
  });

  it('the same in generatedCredentials mode (no credentials mail either)', async () => {
    const before = await snapshot();
    const res = await api.post('/Users', { schemas: [USER], userName: 'bad@', [PROVISIO_USER]: { activationMode: 'generatedCredentials', credentialsEmail: 'it@acme.example' } });
    expectScimError(res, 400, 'invalidValue');
    expect(await snapshot()).toEqual(before);
  });

  it('a userName without @ is not an address and needs none of this; an international domain is sent as A-labels', async () => {
    await api.post('/Users', { schemas: [USER], userName: 'jdoe' }).expect(201);
    const idn = await api.post('/Users', { schemas: [USER], userName: 'hans@bücher.example' }).expect(201);
    expect(idn.body.userName).toBe('hans@bücher.example');
    const mail = await h.owner((db) => db('outbox').where({ tenant_id: t.id, template: 'activation' }).orderBy('created_at', 'desc').first());
    expect(mail.recipient).toBe('hans@xn--bcher-kva.example');
  });

  it.each(BAD)('PUT and PATCH to userName %j are 400 naming userName; the user and the outbox stay as they were', async (bad) => {
    const user = (await api.post('/Users', { schemas: [USER], userName: `keep-${BAD.indexOf(bad)}@acme.example` }).expect(201)).body;
    const before = await snapshot();
    const put = await api.put(`/Users/${user.id}`, { schemas: [USER], userName: bad });
    expectScimError(put, 400, 'invalidValue');
    expect(put.body.detail).toMatch(/^userName/);
    const patch = await api.patch(`/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: bad }] });
    expectScimError(patch, 400, 'invalidValue');
    expect(patch.body.detail).toMatch(/^userName/);
    // The PATCH form without a path (Entra) goes through the same check.
    expectScimError(await api.patch(`/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', value: { userName: bad } }] }), 400, 'invalidValue');
    expect((await api.get(`/Users/${user.id}`)).body.userName).toBe(user.userName);
    expect(await snapshot()).toEqual(before);
  });

  it('Bulk: each bad operation is refused with 400 invalidValue, the good one runs', async () => {
    const target = (await api.post('/Users', { schemas: [USER], userName: 'bulk-target@acme.example' }).expect(201)).body;
    const before = await snapshot();
    const res = await api.post('/Bulk', {
      schemas: [BULK],
      Operations: [
        { method: 'POST', path: '/Users', bulkId: 'a', data: { schemas: [USER], userName: 'bad@' } },
        { method: 'POST', path: '/Users', bulkId: 'b', data: { schemas: [USER], userName: 'x y@acme.example' } },
        { method: 'PUT', path: `/Users/${target.id}`, data: { schemas: [USER], userName: 'two@@acme.example' } },
        { method: 'PATCH', path: `/Users/${target.id}`, data: { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'bad@' }] } },
        { method: 'POST', path: '/Users', bulkId: 'c', data: { schemas: [USER], [PROVISIO_USER]: { credentialsEmail: 'it@@acme.example' }, userName: 'fine@acme.example' } },
        { method: 'POST', path: '/Users', bulkId: 'd', data: { schemas: [USER], userName: 'good@acme.example' } },
      ],
    });
    expect(res.status).toBe(200);
    const ops = res.body.Operations as { status: string; response?: { scimType: string; detail: string } }[];
    expect(ops.map((o) => o.status)).toEqual(['400', '400', '400', '400', '400', '201']);
    for (const o of ops.slice(0, 5)) expect(o.response?.scimType).toBe('invalidValue');
    expect(ops[4].response?.detail).toMatch(/credentialsEmail/);
    // One user and its one activation mail: the good operation, nothing from the bad ones.
    expect(await snapshot()).toEqual({ users: before.users + 1, outbox: before.outbox + 1 });
    expect((await api.get(`/Users/${target.id}`)).body.userName).toBe('bulk-target@acme.example');
  });
});

describe('the Provisio extension’s addresses', () => {
  it.each(['credentialsEmail', 'notificationEmail'])('%s: a bad address is 400 naming it on POST, PUT and PATCH; nothing stored, no mail', async (name) => {
    for (const bad of BAD) {
      const before = await snapshot();
      const res = await api.post('/Users', { schemas: [USER], userName: `ext-${name}@acme.example`, [PROVISIO_USER]: { activationMode: 'generatedCredentials', [name]: bad } });
      expectScimError(res, 400, 'invalidValue');
      expect(res.body.detail).toContain(`${PROVISIO_USER}:${name} must be an email address`);
      expect(await snapshot()).toEqual(before);
    }
    const user = (await api.post('/Users', { schemas: [USER], userName: `ext-${name}@acme.example`, [PROVISIO_USER]: { [name]: 'ok@acme.example' } }).expect(201)).body;
    const before = await snapshot();
    expectScimError(await api.put(`/Users/${user.id}`, { schemas: [USER], userName: user.userName, [PROVISIO_USER]: { [name]: 'two@@acme.example' } }), 400, 'invalidValue');
    expectScimError(await api.patch(`/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: `${PROVISIO_USER}:${name}`, value: 'bad@' }] }), 400, 'invalidValue');
    expect((await api.get(`/Users/${user.id}`)).body[PROVISIO_USER][name]).toBe('ok@acme.example');
    expect(await snapshot()).toEqual(before);
  });

  it('a good credentialsEmail still receives the generated credentials', async () => {
    await api.post('/Users', { schemas: [USER], userName: 'gen@acme.example', [PROVISIO_USER]: { activationMode: 'generatedCredentials', credentialsEmail: 'IT@Acme.Example' } }).expect(201);
    const mail = await h.owner((db) => db('outbox').where({ tenant_id: t.id, template: 'credentials' }).orderBy('created_at', 'desc').first());
    expect(mail.recipient).toBe('IT@Acme.Example');
  });
});

describe('values stored before the rule', () => {
  it('an unchanged old address does not block other changes (the IdP can still deactivate the user)', async () => {
    const user = (await api.post('/Users', { schemas: [USER], userName: 'old@acme.example' }).expect(201)).body;
    // As the old outbox check accepted it (two dots in a row in the domain).
    await h.owner((db) => db.raw(`UPDATE users SET user_name = 'old@acme..example', data = data || '{"userName": "old@acme..example"}'::jsonb WHERE tenant_id = ? AND id = ?`, [t.id, user.id]));
    const off = await api.patch(`/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expectScimError(await api.patch(`/Users/${user.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'userName', value: 'old2@acme..example' }] }), 400, 'invalidValue');
  });

  it('the outbox’s last-line check: a stored tenant credentialsEmail the rule refuses makes a create 400, not 500, and nothing is stored', async () => {
    const other = await createTenant(h, 'Legacy');
    await h.owner((db) => db.raw(`UPDATE tenants SET settings = settings || '{"activationMode": "generatedCredentials", "credentialsEmail": "rh,it@legacy.example"}'::jsonb WHERE id = ?`, [other.id]));
    const before = await snapshot(other.id);
    const res = await scim(h, other).post('/Users', { schemas: [USER], userName: 'new@legacy.example' });
    expectScimError(res, 400, 'invalidValue');
    expect(res.body.detail).toMatch(/^The recipient of this email must be an email address/);
    expect(await snapshot(other.id)).toEqual(before);
  });
});

describe('tenant settings: credentialsEmail', () => {
  it.each(BAD)('%j is 400 invalidValue naming credentialsEmail; the setting is unchanged', async (bad) => {
    const res = await admin(t).settings({ credentialsEmail: bad });
    // The admin API answers errors as application/json, with the SCIM error's fields.
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringMatching(/^credentialsEmail must be an email address/) });
    const now = await h.http.get('/api/v1/settings').set('Authorization', `Bearer ${t.token}`).expect(200);
    expect(now.body.credentialsEmail).toBeNull();
  });

  it('a good address and null are accepted', async () => {
    expect((await admin(t).settings({ credentialsEmail: 'rh@acme.example' })).body.credentialsEmail).toBe('rh@acme.example');
    expect((await admin(t).settings({ credentialsEmail: null })).body.credentialsEmail).toBeNull();
  });
});

describe('the operator’s adminEmail', () => {
  it.each(BAD)('POST /operator/v1/tenants with adminEmail %j is 400 naming adminEmail; no tenant, no mail', async (adminEmail) => {
    const tenants = async () => Number((await h.owner((db) => db('tenants').count({ n: '*' })))[0].n);
    const mails = async () => Number((await h.owner((db) => db('outbox').count({ n: '*' })))[0].n);
    const before = [await tenants(), await mails()];
    const res = await h.http.post('/operator/v1/tenants').set('Authorization', `Bearer ${OPERATOR_TOKEN}`).send({ name: 'Bad Admin', adminEmail });
    // The operator API answers errors as application/json, with the same fields.
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ scimType: 'invalidValue', detail: expect.stringMatching(/^adminEmail must be an email address/) });
    expect([await tenants(), await mails()]).toEqual(before);
  });

  it('the CLI refuses it with the same words and creates nothing', async () => {
    await withCliDatabase(async (out, print) => {
      expect(await runCli(['migrate'], print)).toBe(0);
      await expect(runCli(['tenants', 'create', '--name', 'Cli Co', '--admin-email', 'two@@cli.example'], print)).rejects.toMatchObject({
        status: 400,
        scimType: 'invalidValue',
        message: expect.stringMatching(/^adminEmail must be an email address .*exactly one '@'/),
    });
    expect(await runCli(['tenants', 'list'], print)).toBe(0);
    expect(JSON.parse(out[out.length - 1])).toEqual([]);
    });
  }, 60_000);
});

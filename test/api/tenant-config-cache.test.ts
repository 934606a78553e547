// Fewer round trips per create (issue 12, docs/performance.md): a user's audit entry is written by
// the INSERT's own statement (a CTE), and what a create reads about its tenant (name, settings, the
// domains that require SSO, the event streams) is cached per instance, trusted only for the
// tenant's config_version the INSERT returns (store/tenant-config.ts, migration 0024). Proven
// here on PGlite and PostgreSQL: a settings change made on one instance is seen by the very next
// create on another, and the audit entry commits and rolls back with its create.
import request from 'supertest';
import { createApp } from '../../server/app';
import { createDeps, Deps } from '../../server/deps';
import { adminApi, createTenant, expectScimError, Harness, PROVISIO_USER, startHarness, TestTenant, USER } from '../support/harness';

let h: Harness;
let t: TestTenant;
let second: Deps;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Cache Co', 'owner@cache.test');
  second = await createDeps(h.deps.config, h.deps.logger, { db: h.db, skipMigrations: true });
});
afterAll(async () => {
  await second?.close();
  await h.close();
});

/** POST /Users on one of the two instances (same database). */
const create = (app: Parameters<typeof request>[0], body: Record<string, unknown>) =>
  request(app).post(`${t.path}/Users`).set('Authorization', `Bearer ${t.token}`).set('Content-Type', 'application/scim+json').send(JSON.stringify({ schemas: [USER], ...body }));
const email = () => `person${++seq}@cache.test`;
const auditOf = async (userId: string) =>
  h.owner(async (trx) => (await trx.raw(`SELECT action, target_type, changes FROM audit_log WHERE tenant_id = ? AND target_id = ? ORDER BY at, id`, [t.id, userId])).rows);

describe('the tenant settings a create reads, cached per instance', () => {
  it('a settings change made on another instance applies to the very next create here, both ways', async () => {
    const here = h.app;
    const there = createApp(second);
    // Fills this instance's cache: the default mode, an activation email, pending.
    const first = await create(here, { userName: email() });
    expect(first.status).toBe(201);
    expect(first.body[PROVISIO_USER].activationState).toBe('pending');
    // The change goes through the other instance's admin API.
    const settings = (body: unknown) => request(there).patch('/api/v1/settings').set('Authorization', `Bearer ${t.token}`).send(body as object);
    expect((await settings({ activationMode: 'generatedCredentials', credentialsEmail: 'it@cache.test' })).status).toBe(200);
    const next = await create(here, { userName: email() });
    expect(next.status).toBe(201);
    expect(next.body[PROVISIO_USER].activationState).toBe('active');
    // ...and back, with this instance's cache now holding generatedCredentials.
    expect((await settings({ activationMode: 'activationEmail' })).status).toBe(200);
    const after = await create(here, { userName: email() });
    expect(after.body[PROVISIO_USER].activationState).toBe('pending');
    // The other instance, whose cache was filled before neither change, agrees.
    const onSecond = await create(there, { userName: email() });
    expect(onSecond.body[PROVISIO_USER].activationState).toBe('pending');
  });

  it('a change rolled back never reaches a cache: the version comes from a sequence, not a counter', async () => {
    const before = (await h.owner((trx) => trx.raw('SELECT config_version::text AS v FROM tenants WHERE id = ?', [t.id]))).rows[0].v;
    // A refused settings change (400) leaves the version, and creates go on as before.
    expect((await adminApi(h, t).patch('/settings', { activationMode: 'sometimes' })).status).toBe(400);
    expect((await h.owner((trx) => trx.raw('SELECT config_version::text AS v FROM tenants WHERE id = ?', [t.id]))).rows[0].v).toBe(before);
    // A change bumps it to a value never used before, even after a rolled-back bump.
    await h.owner(async (trx) => {
      await trx.raw('SAVEPOINT s');
      await trx.raw("UPDATE tenants SET settings = settings || '{\"x\": 1}' WHERE id = ?", [t.id]);
      await trx.raw('ROLLBACK TO SAVEPOINT s');
    });
    expect((await adminApi(h, t).patch('/settings', { language: 'fr' })).status).toBe(200);
    const changed = (await h.owner((trx) => trx.raw('SELECT config_version::text AS v FROM tenants WHERE id = ?', [t.id]))).rows[0].v;
    expect(BigInt(changed) > BigInt(before) + 1n).toBe(true);
    await adminApi(h, t).patch('/settings', { language: 'en' });
  });
});

describe('what bumps the version (the triggers of migration 0024)', () => {
  const version = async () => BigInt((await h.owner((trx) => trx.raw('SELECT config_version::text AS v FROM tenants WHERE id = ?', [t.id]))).rows[0].v);
  it("a cached column of an event stream bumps it; the push worker's bookkeeping does not", async () => {
    const streamId = '0190c0de-0000-7000-8000-0000000c0024';
    const at = new Date();
    const v0 = await version();
    await h.owner((trx) => trx('event_streams').insert({ tenant_id: t.id, id: streamId, name: 'S', delivery: 'poll', audience: 'https://rp.cache.test', events: ['urn:ietf:params:SCIM:event:prov:create:full'], form: 'full', created_at: at, updated_at: at }));
    const v1 = await version();
    expect(v1 > v0).toBe(true);
    // failures, last_error, last_delivered_at, updated_at: not what a create reads.
    await h.owner((trx) => trx('event_streams').where({ tenant_id: t.id, id: streamId }).update({ failures: 3, last_error: 'x', last_delivered_at: at, updated_at: new Date() }));
    expect(await version()).toBe(v1);
    // events: what a create reads.
    await h.owner((trx) => trx('event_streams').where({ tenant_id: t.id, id: streamId }).update({ events: ['urn:ietf:params:SCIM:event:prov:patch:full'] }));
    const v2 = await version();
    expect(v2 > v1).toBe(true);
    await h.owner((trx) => trx('event_streams').where({ tenant_id: t.id, id: streamId }).delete());
    expect((await version()) > v2).toBe(true);
  });
});

describe("a create's audit entry, written by the INSERT's own statement", () => {
  it('is there, with the resource as stored', async () => {
    const userName = email();
    const res = await create(h.app, { userName, displayName: 'Audited' });
    expect(res.status).toBe(201);
    const rows = await auditOf(res.body.id);
    expect(rows).toEqual([expect.objectContaining({ action: 'user.create', target_type: 'User' })]);
    expect(rows[0].changes.set).toMatchObject({ userName, displayName: 'Audited' });
  });

  it('rolls back with a create refused after the insert (a pushed password the policy refuses): no user, no entry', async () => {
    expect((await adminApi(h, t).patch('/settings', { passwordSync: true })).status).toBe(200);
    try {
      const userName = email();
      expectScimError(await create(h.app, { userName, password: 'password1234' }), 400, 'invalidValue');
      const left = await h.owner(async (trx) => ({
        users: (await trx.raw('SELECT count(*)::int AS n FROM users WHERE tenant_id = ? AND user_name_ci = ?', [t.id, userName])).rows[0].n,
        audit: (await trx.raw(`SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ? AND action = 'user.create' AND changes -> 'set' ->> 'userName' = ?`, [t.id, userName])).rows[0].n,
      }));
      expect(left).toEqual({ users: 0, audit: 0 });
    } finally {
      await adminApi(h, t).patch('/settings', { passwordSync: false });
    }
  });
});

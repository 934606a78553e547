// Isolation in depth (issue 4): PostgreSQL row-level security, forced on every tenant table,
// behind the application's own tenant checks. The pool works as provisio_app, which owns nothing;
// the tenant is set per transaction (store/scope.ts). On both databases.
import { StatementNames } from '../../server/store/prepared';
import { inTenant, TenantReads } from '../../server/store/scope';
import { createTenant, Harness, scim, startHarness, TestTenant } from '../support/harness';

let h: Harness;
let a: TestTenant;
let b: TestTenant;
let bUserId: string;

beforeAll(async () => {
  h = await startHarness();
  a = await createTenant(h, 'A');
  b = await createTenant(h, 'B');
  await scim(h, a).post('/Users', { userName: 'a1@a.test' }).expect(201);
  bUserId = (await scim(h, b).post('/Users', { userName: 'b1@b.test' }).expect(201)).body.id;
});
afterAll(() => h.close());

const TABLES = [
  'tenants', 'api_tokens', 'users', 'groups', 'group_user_members', 'group_group_members', 'price_lists', 'audit_log',
  // The front door (migration 0007): credentials, links, SSO, sessions, the outbox.
  'user_credentials', 'one_time_links', 'sso_connections', 'sso_domains', 'sso_identities', 'sessions', 'outbox',
  // OAuth for SCIM (migrations 0012, 0013): SCIM clients and the trusted external issuer.
  'scim_clients', 'scim_issuers',
  // Services and permission profiles (migrations 0014, 0015).
  'services', 'permission_profiles',
  // Users' email values, kept by a trigger for indexed lookups (migration 0018).
  'user_emails',
  // SCIM event streams and the events waiting in them (migration 0019).
  'event_streams', 'event_outbox',
  // Agents and agentic applications (migration 0021, draft-abbey-scim-agent-extension-00).
  'agents', 'agentic_applications',
  // The OAuth authorization code grant: grants, codes, refresh tokens (migration 0022).
  'oauth_grants', 'oauth_codes', 'oauth_refresh_tokens',
  // Exact per-tenant counts of users and groups, kept by triggers (migration 0023).
  'resource_counts',
];

it('every table with a tenant_id column is in the list above (a new tenant table cannot miss its policy)', async () => {
  const rows = await h.owner((db) => db.raw(`SELECT DISTINCT table_name FROM information_schema.columns WHERE table_schema = 'public' AND column_name = 'tenant_id'`));
  const withTenant = rows.rows.map((r: { table_name: string }) => r.table_name).sort();
  expect(withTenant.filter((t: string) => !TABLES.includes(t))).toEqual([]);
});

it('the application role cannot read the server keys', async () => {
  await expect(h.db.knex.raw('SELECT value FROM server_keys')).rejects.toThrow(/permission denied/);
});

it('the application role reads the public half of the OAuth signing keys, never the sealed private half', async () => {
  await h.http.get('/.well-known/jwks.json').expect(200);
  expect((await h.db.knex.raw('SELECT kid, public_jwk FROM oauth_signing_keys')).rows.length).toBeGreaterThan(0);
  await expect(h.db.knex.raw('SELECT private_sealed FROM oauth_signing_keys')).rejects.toThrow(/permission denied/);
  // Stored sealed even for the owner: no private JWK member in clear.
  const sealed = (await h.owner((db) => db.raw('SELECT private_sealed FROM oauth_signing_keys'))).rows[0].private_sealed as string;
  expect(sealed).toMatch(/^v1\./);
  expect(sealed).not.toMatch(/"d"/);
});

it('the pool works as a role that owns no table, and every tenant table forces row-level security', async () => {
  expect((await h.db.knex.raw('SELECT current_user AS u')).rows[0].u).toBe('provisio_app');
  const rows = await h.owner((db) => db.raw('SELECT relname, relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relname = ANY(?)', [TABLES]));
  expect(rows.rows).toHaveLength(TABLES.length);
  for (const r of rows.rows) {
    expect({ table: r.relname, rls: r.relrowsecurity, forced: r.relforcerowsecurity }).toEqual({ table: r.relname, rls: true, forced: true });
    expect(r.owner).not.toBe('provisio_app');
  }
});

it('a query run without the tenant set returns nothing', async () => {
  const total = await h.owner((db) => db('users').count({ n: '*' }));
  expect(Number(total[0].n)).toBeGreaterThanOrEqual(4);
  for (const table of TABLES) {
    // Deliberately without a tenant condition (the marker tells the harness's statement check so).
    const res = await h.db.knex.raw(`SELECT count(*)::int AS n FROM ${table} /* cross-tenant: proving row-level security */`);
    expect({ table, n: res.rows[0].n }).toEqual({ table, n: 0 });
  }
});

it('with a tenant set, another tenant’s rows are invisible even without a tenant condition', async () => {
  const seen = await inTenant(h.db.knex, a.id, async (trx) => ({
    users: (await trx.raw('SELECT user_name FROM users /* cross-tenant: proving row-level security */ ORDER BY user_name')).rows.map((r: { user_name: string }) => r.user_name),
    bUser: (await trx.raw('SELECT id FROM users /* cross-tenant: proving row-level security */ WHERE id = ?', [bUserId])).rows.length,
    tenants: (await trx.raw('SELECT id FROM tenants')).rows.map((r: { id: string }) => r.id),
  }));
  expect(seen.users).toEqual(expect.arrayContaining(['a1@a.test']));
  expect(seen.users).not.toContain('b1@b.test');
  expect(seen.bUser).toBe(0);
  expect(seen.tenants).toEqual([a.id]);
});

it('a tenant cannot write rows of another tenant, nor change another tenant’s rows', async () => {
  await expect(
    inTenant(h.db.knex, a.id, (trx) =>
      trx.raw(`INSERT INTO users (tenant_id, id, user_name, data, folded, created_at, updated_at) VALUES (?, gen_random_uuid(), 'x@b.test', '{}', '{}', now(), now())`, [b.id]),
    ),
  ).rejects.toThrow(/row-level security/);
  const updated = await inTenant(h.db.knex, a.id, (trx) => trx.raw(`UPDATE users /* cross-tenant: proving row-level security */ SET user_name = 'hijacked' WHERE id = ?`, [bUserId]));
  expect(updated.rowCount).toBe(0);
  const still = await scim(h, b).get(`/Users/${bUserId}`).expect(200);
  expect(still.body.userName).toBe('b1@b.test');
});

it('a pooled connection never carries one request’s tenant into the next', async () => {
  // Alternate tenant-scoped transactions with plain queries on the same pool and check, on every
  // connection that served a tenant, that the setting is gone afterwards.
  const served = new Set<number>();
  let checked = 0;
  for (let i = 0; i < 20; i++) {
    const pid = await inTenant(h.db.knex, i % 2 ? a.id : b.id, async (trx) => (await trx.raw('SELECT pg_backend_pid() AS p')).rows[0].p as number);
    served.add(pid);
    const after = (await h.db.knex.raw("SELECT pg_backend_pid() AS p, COALESCE(current_setting('provisio.tenant_id', true), '') AS t, (SELECT count(*)::int FROM users /* cross-tenant: proving row-level security */) AS n")).rows[0];
    if (!served.has(after.p)) continue;
    checked++;
    expect({ tenant: after.t, users: after.n }).toEqual({ tenant: '', users: 0 });
  }
  expect(checked).toBeGreaterThan(0);
});

describe('reads (TenantReads: each statement sent with the tenant setting, no transaction; store/pg-client.ts 3.)', () => {
  const reads = () => new TenantReads(h.db.knex);

  it('every statement of a read sees its tenant only, named (prepared) statements included', async () => {
    const names = new StatementNames(4);
    const seen = await reads().run(a.id, async (trx) => ({
      users: (await trx.raw('SELECT user_name FROM users /* cross-tenant: proving row-level security */ ORDER BY user_name')).rows.map((r: { user_name: string }) => r.user_name),
      bUser: (await trx.raw('SELECT id FROM users /* cross-tenant: proving row-level security */ WHERE id = ?', [bUserId])).rows.length,
      tenant: (await trx.raw("SELECT current_setting('provisio.tenant_id', true) AS t")).rows[0].t,
      // Twice the same name: parsed on the first use of the connection, bound only after.
      named: [
        (await names.raw(trx, 'SELECT count(*)::int AS n FROM users /* cross-tenant: proving row-level security */ WHERE user_name <> ?', ['-'])).rows[0].n,
        (await names.raw(trx, 'SELECT count(*)::int AS n FROM users /* cross-tenant: proving row-level security */ WHERE user_name <> ?', ['-'])).rows[0].n,
      ],
    }));
    expect(seen.users).toEqual(expect.arrayContaining(['a1@a.test']));
    expect(seen.users).not.toContain('b1@b.test');
    expect(seen.bUser).toBe(0);
    expect(seen.tenant).toBe(a.id);
    expect(seen.named[0]).toBe(seen.users.length);
    expect(seen.named[1]).toBe(seen.users.length);
  });

  it('a read of tenant B after one of tenant A on the same connection sees B only', async () => {
    for (let i = 0; i < 6; i++) {
      const t = i % 2 ? a : b;
      const names = await reads().run(t.id, async (trx) => (await trx.raw('SELECT user_name FROM users /* cross-tenant: proving row-level security */')).rows.map((r: { user_name: string }) => r.user_name));
      expect(names).toContain(t === a ? 'a1@a.test' : 'b1@b.test');
      expect(names).not.toContain(t === a ? 'b1@b.test' : 'a1@a.test');
    }
  });

  it('no read leaves its tenant on the pooled connection, whether its statement succeeds or fails', async () => {
    const served = new Set<number>();
    let checked = 0;
    for (let i = 0; i < 20; i++) {
      const fail = i % 3 === 0;
      const pid = await reads().run(i % 2 ? a.id : b.id, async (trx) => {
        const p = (await trx.raw('SELECT pg_backend_pid() AS p')).rows[0].p as number;
        served.add(p);
        if (fail) await trx.raw('SELECT 1 / (SELECT count(*) FROM users /* cross-tenant: proving row-level security */ WHERE false)::int AS boom');
        return p;
      }).catch((err: Error) => {
        expect(err.message).toMatch(/division by zero/);
        return undefined;
      });
      if (!fail) expect(pid).toEqual(expect.any(Number));
      const after = (await h.db.knex.raw("SELECT pg_backend_pid() AS p, COALESCE(current_setting('provisio.tenant_id', true), '') AS t, (SELECT count(*)::int FROM users /* cross-tenant: proving row-level security */) AS n")).rows[0];
      if (!served.has(after.p)) continue;
      checked++;
      expect({ tenant: after.t, users: after.n }).toEqual({ tenant: '', users: 0 });
      // A tenant transaction after the read works as ever on that connection.
      const inA = await inTenant(h.db.knex, a.id, async (trx) => (await trx.raw('SELECT count(*)::int AS n FROM users /* cross-tenant: proving row-level security */')).rows[0].n);
      expect(inA).toBeGreaterThan(0);
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('a named statement PostgreSQL refuses to parse leaves the connection usable for named statements after', async () => {
    const names = new StatementNames(4);
    for (let i = 0; i < 6; i++) {
      await expect(reads().run(a.id, (trx) => names.raw(trx, 'SELEC count(*) FROM users WHERE tenant_id = ?', [a.id]))).rejects.toThrow(/syntax error/);
      const n = await reads().run(a.id, async (trx) => (await names.raw(trx, 'SELECT count(*)::int AS n FROM users WHERE tenant_id = ?', [a.id])).rows[0].n);
      expect(n).toBeGreaterThan(0);
    }
  });

  it('a read refuses a tenant id that is not a UUID, before anything is sent', async () => {
    await expect(reads().run("x'; SELECT 1; --", async (trx) => trx.raw('SELECT 1'))).rejects.toThrow(/UUID/);
  });
});

// A database outage must not crash the process: requests answer 503 (SCIM error body) and
// /readyz 503 while PostgreSQL refuses connections, and everything works again afterwards
// without a restart. Simulated on PostgreSQL by terminating our backends and refusing new
// connections to the test database (the machine's server keeps serving the other tests).
// PGlite is in-process and cannot go away on its own, so this file runs on PostgreSQL only.
import knexFactory from 'knex';
import { ADMIN_URL, createTenant, expectScimError, Harness, scim, startHarness } from '../support/harness';

const onPostgres = process.env.TEST_DB === 'postgres' ? describe : describe.skip;

onPostgres('database outage', () => {
  let h: Harness;
  const admin = knexFactory({ client: 'pg', connection: ADMIN_URL, pool: { min: 0, max: 1 } });

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await admin.destroy();
    await h.close();
  });

  it('answers 503 during the outage and recovers after it', async () => {
    const t = await createTenant(h);
    const api = scim(h, t);
    await api.get('/Users').expect(200);
    const dbName = (await h.db.knex.raw('SELECT current_database() AS d')).rows[0].d as string;

    await admin.raw(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS false`);
    await admin.raw('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()', [dbName]);
    try {
      // The token is cached for a few seconds; a new one forces a database round trip too.
      const first = await api.get("/Users");
      expectScimError(first, 503);
      expectScimError(await api.post('/Users', { userName: 'during@outage.test' }), 503);
      await h.http.get('/readyz').expect(503);
      await h.http.get('/healthz').expect(200);
    } finally {
      await admin.raw(`ALTER DATABASE ${dbName} ALLOW_CONNECTIONS true`);
    }

    await h.http.get('/readyz').expect(200);
    await api.post('/Users', { userName: 'after@outage.test' }).expect(201);
    const list = await api.get('/Users').query({ filter: 'userName eq "during@outage.test"' }).expect(200);
    expect(list.body.totalResults).toBe(0);
  }, 60_000);
});

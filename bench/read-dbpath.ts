// The database path of a read alone, without HTTP: N sequential tenant-scoped lookups through
// inTenant (BEGIN + tenant, statement, COMMIT) and TenantReads (store/pg-client.ts, 3.),
// alternated, wall time and this process's CPU per lookup. Not part of the product; loopback only.
//   BENCH_DB_URL=postgres://postgres@127.0.0.1:5432/provisio_bench_… node --import tsx bench/read-dbpath.ts
import pino from 'pino';
import { openDatabase } from '../server/store/db';
import { asOwner, Db, inTenant, TenantReads } from '../server/store/scope';
import { StatementNames } from '../server/store/prepared';

(async () => {
  const db = await openDatabase({ databaseUrl: process.env.BENCH_DB_URL!, poolSize: 10, logger: pino({ level: 'warn' }) });
  const names = new StatementNames(8);
  const tenant = (await asOwner(db.knex, (trx) => trx.raw("SELECT id FROM tenants WHERE name = 'Big'"))).rows[0].id as string;
  const users = await inTenant(db.knex, tenant, async (trx) => (await trx.raw('SELECT user_name_ci FROM users WHERE tenant_id = ? LIMIT 1000', [tenant])).rows.map((r: { user_name_ci: string }) => r.user_name_ci));
  const sql = 'SELECT id, data, version FROM users WHERE tenant_id = ? AND user_name_ci = ?';
  const n = Number(process.env.BENCH_N || 2000);
  const reads = new TenantReads(db.knex);
  const run = async (how: 'inTenant' | 'TenantReads') => {
    const lookup = (db: Db, name: string) => names.raw(db, sql, [tenant, name]);
    const one = how === 'inTenant' ? (name: string) => inTenant(db.knex, tenant, (trx) => lookup(trx, name)) : (name: string) => reads.run(tenant, (d) => lookup(d, name));
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await one(users[i % users.length]);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    return { how, wallMsPerLookup: +(ms / n).toFixed(3), cpuMsPerLookup: +((c.user + c.system) / 1000 / n).toFixed(3) };
  };
  await run('inTenant');
  await run('TenantReads');
  for (let r = 0; r < 3; r++) for (const how of ['inTenant', 'TenantReads'] as const) console.log(JSON.stringify(await run(how)));
  await db.close();
})();

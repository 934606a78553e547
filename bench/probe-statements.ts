// Statements and server CPU per request for two hot paths (issue 12): a PATCH adding one member to
// a group, and GET /api/v1/users/{id}/permissions. Runs the real app in-process (test harness) on a
// fresh PostgreSQL database at 127.0.0.1 (TEST_DB=postgres) and counts what knex sends.
// `node --import tsx bench/probe-statements.ts [N]` — docs/performance.md, "Membership PATCH and
// the permissions answer (issue 12)". Not part of the product.
process.env.TEST_DB = process.env.TEST_DB ?? 'postgres';
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import pg from 'pg';
import { ADMIN_URL, adminApi, createTenant, GROUP, PROVISIO_GROUP, PROVISIO_USER, scim, startHarness, USER } from '../test/support/harness';

const PATCH_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const N = Number(process.argv[2] ?? 300);

async function main() {
  const h = await startHarness();
  try {
    const t = await createTenant(h, 'Probe');
    const s = scim(h, t);
    const api = adminApi(h, t);
    const mkUser = async (i: number, extra: object = {}) => {
      const r = await s.post('/Users', { schemas: [USER], userName: `probe.${i}@example.com`, ...extra });
      if (r.status !== 201) throw new Error(`POST /Users ${r.status} ${JSON.stringify(r.body)}`);
      return r.body.id as string;
    };
    const users: string[] = [];
    for (let i = 0; i < N + 50; i++) users.push(await mkUser(i));
    const g = await s.post('/Groups', { schemas: [GROUP], displayName: 'G', members: users.slice(0, 5).map((value) => ({ value })) });
    const groupId = g.body.id as string;
    // Permissions set-up like the bench's people.
    await api.post('/permission-profiles', { key: 'probe-viewer', name: 'Viewer', permissions: [] }).expect(201);
    for (const key of ['probe-a', 'probe-b']) await api.post('/services', { key, name: key }).expect(201);
    const gold = (await api.post('/price-lists', { name: 'Gold' }).expect(201)).body;
    const people: string[] = [];
    for (let i = 0; i < 20; i++) {
      people.push(
        await mkUser(100000 + i, {
          entitlements: [{ type: 'service', value: 'probe-a' }, { type: 'service', value: 'probe-b' }],
          [PROVISIO_USER]: { permissionProfile: 'probe-viewer', priceList: gold.id, canManageLicences: true },
        }),
      );
    }
    const members = people.map((value) => ({ value }));
    await s.post('/Groups', { schemas: [GROUP], displayName: 'Co', members, [PROVISIO_GROUP]: { kind: 'company' } }).expect(201);
    const parent = (await s.post('/Groups', { schemas: [GROUP], displayName: 'Region', members, [PROVISIO_GROUP]: { kind: 'subAccount', dailyLimit: 100 } }).expect(201)).body;
    await s.post('/Groups', { schemas: [GROUP], displayName: 'Office', members, [PROVISIO_GROUP]: { kind: 'subAccount', parent: parent.id, dailyLimit: 10 } }).expect(201);

    // PostgreSQL's CPU: the backends of this database (the server's pool), from /proc (ticks).
    const dbName = (await h.owner((trx) => trx.raw('SELECT current_database() AS d'))).rows[0].d as string;
    const backends = async () => {
      const admin = new pg.Client({ connectionString: ADMIN_URL });
      await admin.connect();
      try {
        const r = await admin.query("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", [dbName]);
        return r.rows.map((x: { pid: number }) => x.pid);
      } finally {
        await admin.end();
      }
    };
    const ticks = (pids: number[]) =>
      pids.reduce((sum, pid) => {
        try {
          const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
          return sum + Number(f[11]) + Number(f[12]);
        } catch {
          return sum;
        }
      }, 0);
    const hz = 100;
    let statements: string[] = [];
    h.db.knex.on('query', (q: { sql?: string }) => statements.push(q.sql ?? ''));
    const measure = async (label: string, n: number, fn: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < 20; i++) await fn(i); // warm-up (JIT, prepared statements on each pooled connection)
      statements = [];
      await fn(20);
      const one = statements.slice();
      // PROBE_PROFILE=<file prefix>: a CPU profile of the measured requests only (.cpuprofile).
      const profiler = process.env.PROBE_PROFILE ? new Session() : undefined;
      if (profiler) {
        profiler.connect();
        await profiler.post('Profiler.enable');
        await profiler.post('Profiler.start');
      }
      const pids = await backends();
      const p0 = ticks(pids);
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 21; i < n; i++) await fn(i);
      const cpu = process.cpuUsage(c0);
      const wall = Number(process.hrtime.bigint() - t0) / 1e6;
      const pg = ((ticks(pids) - p0) * (1000 / hz)) / (n - 21);
      if (profiler) {
        const { profile } = await profiler.post('Profiler.stop');
        fs.writeFileSync(`${process.env.PROBE_PROFILE}-${label.replace(/[^a-z0-9]+/gi, '_')}.cpuprofile`, JSON.stringify(profile));
        profiler.disconnect();
      }
      console.log(
        `${label}: ${one.length} statements per request; node (server + client, in-process) CPU ${((cpu.user + cpu.system) / 1000 / (n - 21)).toFixed(3)} ms/request; PostgreSQL CPU ${pg.toFixed(3)} ms/request (wall ${(wall / (n - 21)).toFixed(3)} ms)`,
      );
      for (const sql of one) console.log(`    ${sql.replace(/\s+/g, ' ').slice(0, 150)}`);
    };
    let next = 5;
    await measure('PATCH add 1 member', N, async () => {
      await s.patch(`/Groups/${groupId}`, { schemas: [PATCH_URN], Operations: [{ op: 'add', path: 'members', value: [{ value: users[next++] }] }] }).expect(204);
    });
    await measure('GET /api/v1/users/{id}/permissions', N, async (i) => {
      await api.get(`/users/${people[i % people.length]}/permissions`).expect(200);
    });
  } finally {
    await h.close();
  }
}
main().catch((err) => {
  console.error(err);
  process.exit(1);
});

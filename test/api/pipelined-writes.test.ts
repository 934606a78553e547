// Tenant transactions that send BEGIN and the tenant setting with their first statement, and
// writes whose result nobody reads sent with the next statement or the COMMIT (store/pg-client.ts,
// 4.). What must not change: each statement sees its tenant only, runs in the order it was made,
// in the same transaction; a failure aborts the whole transaction and leaves nothing on the pooled
// connection; a ROLLBACK undoes what waits. On PostgreSQL and PGlite (not through PgBouncer, where
// transactions keep their plain form).
import { Client } from 'pg';
import { deferred } from '../../server/store/pg-client';
import { StatementNames } from '../../server/store/prepared';
import { inTenant } from '../../server/store/scope';
import { createTenant, Harness, scim, startHarness, TestTenant } from '../support/harness';

let h: Harness;
let a: TestTenant;
let b: TestTenant;

beforeAll(async () => {
  h = await startHarness();
  a = await createTenant(h, 'A');
  b = await createTenant(h, 'B');
});
afterAll(() => h.close());

const ACTOR = '00000000-0000-7000-8000-000000000001';
const auditInsert = (db: Parameters<Parameters<typeof inTenant>[2]>[0], tenantId: string, action: string) =>
  db.raw(
    `INSERT INTO audit_log (tenant_id, id, at, actor_type, actor_id, action, target_type, target_id, changes)
     VALUES (?, gen_random_uuid(), now(), 'token', ?, ?, 'Test', NULL, '{}'::jsonb)`,
    [tenantId, ACTOR, action],
  );
const actions = async (tenantId: string, prefix: string) =>
  (await h.owner((db) => db.raw('SELECT action FROM audit_log WHERE tenant_id = ? AND action LIKE ? ORDER BY action', [tenantId, `${prefix}%`]))).rows.map((r: { action: string }) => r.action);

/** The pooled connection's state after a transaction: no tenant, no open or aborted transaction. */
async function cleanAfter(): Promise<void> {
  const row = (await h.db.knex.raw("SELECT COALESCE(current_setting('provisio.tenant_id', true), '') AS t, (SELECT count(*)::int FROM users /* cross-tenant: proving row-level security */) AS n")).rows[0];
  expect({ tenant: row.t, users: row.n }).toEqual({ tenant: '', users: 0 });
}

it('the first statement of a transaction carries BEGIN and the tenant: it sees its tenant only, on a connection that served the other', async () => {
  await scim(h, a).post('/Users', { userName: 'pa@a.test' }).expect(201);
  await scim(h, b).post('/Users', { userName: 'pb@b.test' }).expect(201);
  for (let i = 0; i < 6; i++) {
    const t = i % 2 ? a : b;
    const seen = await inTenant(h.db.knex, t.id, async (trx) => ({
      first: (await trx.raw("SELECT current_setting('provisio.tenant_id', true) AS t, txid_current()::text AS x")).rows[0],
      second: (await trx.raw('SELECT txid_current()::text AS x')).rows[0].x,
      names: (await trx.raw('SELECT user_name FROM users /* cross-tenant: proving row-level security */')).rows.map((r: { user_name: string }) => r.user_name),
    }));
    expect(seen.first.t).toBe(t.id);
    // One transaction id for both statements: the first one's BEGIN opened a block that the second
    // ran in (outside a block, each statement is a transaction of its own, with its own id).
    // Comparing now() with statement_timestamp() said the same on PostgreSQL, but PGlite's clock
    // can give both statements the same microsecond.
    expect(seen.second).toBe(seen.first.x);
    expect(seen.names).toContain(t === a ? 'pa@a.test' : 'pb@b.test');
    expect(seen.names).not.toContain(t === a ? 'pb@b.test' : 'pa@a.test');
  }
  await cleanAfter();
});

it('deferred writes run in order, in the transaction: a later statement sees them, and a transaction of deferred writes alone commits them', async () => {
  const seen = await inTenant(h.db.knex, a.id, async (trx) => {
    await deferred(auditInsert(trx, a.id, 'order.1'));
    await deferred(auditInsert(trx, a.id, 'order.2'));
    return (await trx.raw("SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ? AND action LIKE 'order.%'", [a.id])).rows[0].n;
  });
  expect(seen).toBe(2);
  await inTenant(h.db.knex, a.id, async (trx) => {
    await deferred(auditInsert(trx, a.id, 'order.3'));
  });
  expect(await actions(a.id, 'order.')).toEqual(['order.1', 'order.2', 'order.3']);
  await cleanAfter();
});

it("a deferred write's failure fails the COMMIT, undoes the whole transaction and leaves the connection usable", async () => {
  for (let i = 0; i < 4; i++) {
    await expect(
      inTenant(h.db.knex, a.id, async (trx) => {
        await auditInsert(trx, a.id, `undone.sent.${i}`);
        await deferred(auditInsert(trx, a.id, `undone.waiting.${i}`));
        // Waits too, and fails when it runs: after the two above, before the COMMIT.
        await deferred(trx.raw('INSERT INTO audit_log (tenant_id, id, at, actor_type, actor_id, action, target_type, changes) VALUES (?, gen_random_uuid(), now(), ?, ?, ?, ?, ?::jsonb)', [a.id, 'token', ACTOR, 'undone.bad', 'Test', 'not json']));
      }),
    ).rejects.toThrow(/json/i);
    await cleanAfter();
    // The next transaction on the pool works, deferral included.
    await inTenant(h.db.knex, a.id, async (trx) => {
      await deferred(auditInsert(trx, a.id, `after.${i}`));
    });
  }
  expect(await actions(a.id, 'undone.')).toEqual([]);
  expect(await actions(a.id, 'after.')).toHaveLength(4);
});

it('a deferred write that fails is reported by the next statement, which does not run', async () => {
  await expect(
    inTenant(h.db.knex, a.id, async (trx) => {
      await deferred(trx.raw('SELECT 1 / 0'));
      await auditInsert(trx, a.id, 'never.1');
    }),
  ).rejects.toThrow(/division by zero/);
  expect(await actions(a.id, 'never.')).toEqual([]);
  await cleanAfter();
});

it('a ROLLBACK drops what waits: the deferred write never runs, and the error is the caller’s', async () => {
  await expect(
    inTenant(h.db.knex, a.id, async (trx) => {
      await auditInsert(trx, a.id, 'dropped.sent');
      await deferred(trx.raw('SELECT 1 / 0'));
      throw new Error('refused by the caller');
    }),
  ).rejects.toThrow('refused by the caller');
  // Refused before anything was sent: nothing to roll back, no round trip needed.
  await expect(
    inTenant(h.db.knex, a.id, async (trx) => {
      await deferred(auditInsert(trx, a.id, 'dropped.waiting'));
      throw new Error('refused early');
    }),
  ).rejects.toThrow('refused early');
  expect(await actions(a.id, 'dropped.')).toEqual([]);
  await cleanAfter();
});

it('a transaction that sends nothing ends without error and leaves nothing behind', async () => {
  for (let i = 0; i < 3; i++) expect(await inTenant(h.db.knex, a.id, async () => 'nothing')).toBe('nothing');
  await cleanAfter();
});

it('named statements sent ahead are parsed once, and one skipped after an error is parsed again next time', async () => {
  const names = new StatementNames(4);
  const named = (trx: Parameters<Parameters<typeof inTenant>[2]>[0], action: string) =>
    deferred(names.raw(trx, "INSERT INTO audit_log (tenant_id, id, at, actor_type, actor_id, action, target_type, changes) VALUES (?, gen_random_uuid(), now(), 'token', ?, ?, 'Test', '{}'::jsonb)", [a.id, ACTOR, action]));
  for (let i = 0; i < 4; i++) {
    // An error ahead of the named statement: the server skips its Parse.
    await expect(
      inTenant(h.db.knex, a.id, async (trx) => {
        await deferred(trx.raw('SELECT 1 / 0'));
        await named(trx, `named.skipped.${i}`);
      }),
    ).rejects.toThrow(/division by zero/);
    await inTenant(h.db.knex, a.id, async (trx) => {
      await named(trx, `named.kept.${i}.a`);
      await named(trx, `named.kept.${i}.b`);
    });
    // The same with the named statement as the pipeline's own (not deferred): pg marked it as
    // sent when its Parse went out, and the Parse was skipped.
    await expect(
      inTenant(h.db.knex, a.id, async (trx) => {
        await deferred(trx.raw('SELECT 1 / 0'));
        await names.raw(trx, 'SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ? AND action LIKE ?', [a.id, 'named.%']);
      }),
    ).rejects.toThrow(/division by zero/);
    const n = await inTenant(h.db.knex, a.id, async (trx) => (await names.raw(trx, 'SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ? AND action LIKE ?', [a.id, 'named.%'])).rows[0].n);
    expect(n).toBe(2 * (i + 1));
  }
  expect(await actions(a.id, 'named.skipped')).toEqual([]);
  expect(await actions(a.id, 'named.kept')).toHaveLength(8);
  await cleanAfter();
});

it('inside a nested transaction (a savepoint) nothing is deferred: its failure stays inside it and the outer one goes on', async () => {
  await inTenant(h.db.knex, a.id, async (trx) => {
    await auditInsert(trx, a.id, 'outer.1');
    await expect(trx.transaction(async (inner) => {
      await deferred(inner.raw('SELECT 1 / 0'));
    })).rejects.toThrow(/division by zero/);
    await deferred(auditInsert(trx, a.id, 'outer.2'));
  });
  expect(await actions(a.id, 'outer.')).toEqual(['outer.1', 'outer.2']);
  await cleanAfter();
});

it('a SCIM create is three round trips, its audit row and activation email written with it', async () => {
  const calls: string[] = [];
  const original = Client.prototype.query;
  // Every statement the server's pg clients send, one per round trip (a pipeline is one call).
  Client.prototype.query = function (this: Client, ...args: unknown[]) {
    const q = args[0] as { text?: string } | string;
    calls.push(typeof q === 'string' ? q : String(q?.text ?? ''));
    return (original as (...x: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  let id: string;
  try {
    await scim(h, a).post('/Users', { userName: 'warm@a.test' }).expect(201);
    calls.length = 0;
    id = (await scim(h, a).post('/Users', { userName: 'three@a.test', emails: [{ value: 'three@a.test', primary: true }] }).expect(201)).body.id;
  } finally {
    Client.prototype.query = original;
  }
  expect(calls).toHaveLength(3);
  expect(calls[2]).toMatch(/^COMMIT/);
  const written = await h.owner(async (db) => ({
    audit: (await db.raw("SELECT count(*)::int AS n FROM audit_log WHERE tenant_id = ? AND target_id = ? AND action = 'user.create'", [a.id, id])).rows[0].n,
    mail: (await db.raw("SELECT count(*)::int AS n FROM outbox WHERE tenant_id = ? AND recipient = 'three@a.test'", [a.id])).rows[0].n,
  }));
  expect(written).toEqual({ audit: 1, mail: 1 });
});

it("a user create's statements are all named, so each connection parses and plans them once (COMMIT aside)", async () => {
  // The first create of a tenant also reads its settings into the per-instance cache; the second is the steady state.
  await scim(h, a).post('/Users', { userName: 'named-1@a.test' }).expect(201);
  const sent: { sql: string; name?: string }[] = [];
  const listen = (q: { sql?: string; options?: { name?: string } }) => sent.push({ sql: (q.sql ?? '').trim(), name: q.options?.name });
  h.db.knex.on('query', listen);
  try {
    await scim(h, a).post('/Users', { userName: 'named-2@a.test', emails: [{ value: 'named-2@a.test', type: 'work' }] }).expect(201);
  } finally {
    h.db.knex.off('query', listen);
  }
  // The profile lookup, the user with its audit row, the activation link with its email.
  expect(sent.filter((s) => s.name).map((s) => s.sql.match(/FROM permission_profiles|INSERT INTO users|INSERT INTO outbox/)?.[0])).toEqual([
    'FROM permission_profiles',
    'INSERT INTO users',
    'INSERT INTO outbox',
  ]);
  expect(sent.filter((s) => !s.name && !/^COMMIT;?$/i.test(s.sql)).map((s) => s.sql)).toEqual([]);
});

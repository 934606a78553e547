// Users' email lookups through the user_emails side table (issue 12; migrations/0018): Okta's
// `emails eq`, `emails.value eq` and Entra's `emails[type eq "work"].value eq` answer exactly what
// the JSON holds after every kind of write (create, PUT, PATCH, Bulk, delete), never across
// tenants, and — on PostgreSQL, under row-level security as the application role — through the
// index rather than a scan of the tenant. Runs on PGlite and PostgreSQL.
import { parseFilter } from '../../server/scim/filter';
import { inTenant } from '../../server/store/scope';
import { createTenant, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
let h: Harness;
let t: TestTenant;
let other: TestTenant;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Other');
});
afterAll(async () => h.close());

const ids = async (tenant: TestTenant, filter: string): Promise<string[]> => {
  const res = await scim(h, tenant).get(`/Users?filter=${encodeURIComponent(filter)}`);
  expect(res.status).toBe(200);
  return (res.body.Resources ?? []).map((r: { id: string }) => r.id).sort();
};

async function user(emails: unknown[]): Promise<string> {
  const res = await scim(h, t).post('/Users', { schemas: [USER], userName: `u${++seq}-${Date.now() % 1e5}`, emails });
  expect(res.status).toBe(201);
  return res.body.id;
}

it('finds people by any email, case-insensitively, with or without the type, after create', async () => {
  const a = await user([{ value: 'Ada@Work.test', type: 'work', primary: true }, { value: 'ada@home.test', type: 'home' }]);
  const b = await user([{ value: 'bob@work.test', type: 'Work' }]);
  expect(await ids(t, 'emails eq "ADA@work.test"')).toEqual([a]);
  expect(await ids(t, 'emails.value eq "ada@home.test"')).toEqual([a]);
  expect(await ids(t, 'emails[type eq "work"].value eq "ada@work.test"')).toEqual([a]);
  expect(await ids(t, 'emails[type eq "work"].value eq "ada@home.test"')).toEqual([]);
  expect(await ids(t, 'emails[type eq "WORK"].value eq "bob@work.test"')).toEqual([b]);
  // NOT around the lookup is exact: everyone else, including people with no email at all.
  const none = await user([]);
  const notAda = await ids(t, 'not (emails eq "ada@work.test")');
  expect(notAda).toContain(b);
  expect(notAda).toContain(none);
  expect(notAda).not.toContain(a);
  // Never another tenant's person.
  expect(await ids(other, 'emails eq "ada@work.test"')).toEqual([]);
});

it('follows PUT, PATCH (add, replace, remove, Entra’s filtered path), Bulk and delete', async () => {
  const id = await user([{ value: 'first@x.test', type: 'work' }]);
  const put = await scim(h, t).put(`/Users/${id}`, { schemas: [USER], userName: `put-${id}`, emails: [{ value: 'second@x.test', type: 'work' }] });
  expect(put.status).toBe(200);
  expect(await ids(t, 'emails eq "first@x.test"')).toEqual([]);
  expect(await ids(t, 'emails eq "second@x.test"')).toEqual([id]);

  const entra = await scim(h, t).patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'third@x.test' }] });
  expect(entra.status).toBe(200);
  expect(await ids(t, 'emails[type eq "work"].value eq "third@x.test"')).toEqual([id]);
  expect(await ids(t, 'emails eq "second@x.test"')).toEqual([]);

  await scim(h, t).patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'add', path: 'emails', value: [{ value: 'extra@x.test', type: 'other' }] }] });
  expect(await ids(t, 'emails[type eq "other"].value eq "extra@x.test"')).toEqual([id]);
  await scim(h, t).patch(`/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'remove', path: 'emails' }] });
  expect(await ids(t, 'emails eq "third@x.test"')).toEqual([]);
  expect(await ids(t, 'emails eq "extra@x.test"')).toEqual([]);

  const bulk = await scim(h, t).post('/Bulk', {
    schemas: [BULK],
    Operations: [{ method: 'PATCH', path: `/Users/${id}`, data: { schemas: [PATCH], Operations: [{ op: 'add', path: 'emails', value: [{ value: 'bulk@x.test' }] }] } }],
  });
  expect(bulk.status).toBe(200);
  expect(await ids(t, 'emails eq "bulk@x.test"')).toEqual([id]);

  expect((await scim(h, t).delete(`/Users/${id}`)).status).toBe(204);
  expect(await ids(t, 'emails eq "bulk@x.test"')).toEqual([]);
  const left = await h.owner((db) => db.raw('SELECT count(*)::int AS n FROM user_emails WHERE tenant_id = ? AND user_id = ?', [t.id, id]));
  expect(left.rows[0].n).toBe(0);
});

it('the side table holds exactly what users.folded holds, for every user of the tenant', async () => {
  const mismatch = await h.owner((db) =>
    db.raw(
      `SELECT u.id FROM users u
        WHERE u.tenant_id = ? AND
          (SELECT coalesce(array_agg(e.elem ->> 'value' ORDER BY e.ord), '{}') FROM jsonb_array_elements(coalesce(u.folded -> 'emails', '[]')) WITH ORDINALITY e(elem, ord) WHERE e.elem ->> 'value' IS NOT NULL)
          IS DISTINCT FROM
          (SELECT coalesce(array_agg(ue.value_ci ORDER BY ue.position), '{}') FROM user_emails ue WHERE ue.tenant_id = u.tenant_id AND ue.user_id = u.id)`,
      [t.id],
    ),
  );
  expect(mismatch.rows).toEqual([]);
});

const onPostgres = process.env.TEST_DB === 'postgres' ? it : it.skip;
// A table of a few dozen rows is cheaper to scan, so the planner is told not to scan: what this
// proves is that row-level security lets the index drive the lookup at all (it does not for the
// JSON containment, whatever the settings: docs/performance.md). bench/ measures it at 1M users.
onPostgres('on PostgreSQL, under row-level security as the application role, the index can drive the lookup', async () => {
  for (let i = 0; i < 30; i++) await user([{ value: `bulk-${i}@plan.test`, type: 'work' }]);
  const compiled = h.deps.catalog.users.repo.compiler.compile(parseFilter('emails[type eq "work"].value eq "bulk-7@plan.test"'), t.id);
  const plan = await inTenant(h.deps.db.knex, t.id, async (trx) => {
    await trx.raw('SET LOCAL enable_seqscan = off');
    return trx.raw(`EXPLAIN SELECT u.id FROM users u WHERE u.tenant_id = ? AND ${compiled.sql}`, [t.id, ...compiled.bindings]);
  });
  const text = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
  expect(text).toMatch(/Index (Only )?Scan using user_emails_value on user_emails/);
  expect(text).not.toMatch(/Seq Scan on users/);
});

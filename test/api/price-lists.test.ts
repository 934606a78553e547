// Admin API: price lists (/api/v1/price-lists, issue 4 "Price lists") on a real server and
// database — one default per tenant from birth, names unique per tenant case-insensitively, the
// default moved in one transaction, deleting a list in use moves its users to the default, and
// another tenant's list is 404. Also the helpers other code validates a user's priceList with.
import { defaultPriceList, priceListExists } from '../../server/store/price-lists-repo';
import { inTenant } from '../../server/store/scope';
import { adminApi, createTenant, expectJsonError, Harness, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

let h: Harness;
let t: TestTenant;
let other: TestTenant;
let n = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme');
  other = await createTenant(h, 'Globex');
});
afterAll(() => h.close());

interface PriceList {
  id: string;
  name: string;
  default: boolean;
  createdAt: string;
}

const admin = (tenant: TestTenant, token = tenant.token) => adminApi(h, tenant, token);

/** Asserts an admin API error: JSON with the SCIM error shape, this status and scimType. */

async function lists(tenant: TestTenant = t): Promise<PriceList[]> {
  const res = await admin(tenant).get('/price-lists').expect(200);
  return res.body.priceLists;
}

async function create(name: string, tenant: TestTenant = t): Promise<PriceList> {
  const res = await admin(tenant).post('/price-lists', { name });
  if (res.status !== 201) throw new Error(`price list ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

const defaults = (all: PriceList[]) => all.filter((l) => l.default);

describe('a new tenant', () => {
  it('has exactly one price list, "Standard", the default', async () => {
    const fresh = await createTenant(h, 'Fresh');
    const all = await lists(fresh);
    expect(all).toEqual([{ id: expect.any(String), name: 'Standard', default: true, createdAt: expect.any(String) }]);
    const rows = await h.owner((db) => db('price_lists').where({ tenant_id: fresh.id }));
    expect(rows).toHaveLength(1);
  });
});

describe('POST /api/v1/price-lists', () => {
  it('creates a list with 201, Location and {id, name, default: false, createdAt}; the name is trimmed', async () => {
    const res = await admin(t).post('/price-lists', { name: '  Gold partners  ' });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'Gold partners', default: false, createdAt: expect.any(String) });
    expect(new Date(res.body.createdAt).toISOString()).toBe(res.body.createdAt);
    expect(res.headers.location).toBe(`/api/v1/price-lists/${res.body.id}`);
    expect((await admin(t).get(`/price-lists/${res.body.id}`).expect(200)).body).toEqual(res.body);
    expect((await lists()).map((l) => l.name)).toContain('Gold partners');
  });

  it.each([
    ['no body', undefined, /name/],
    ['an array', [], /The body must be an object/],
    ['no name', {}, /name is required/],
    ['a blank name', { name: '   ' }, /name is required/],
    ['a number', { name: 42 }, /name must be text/],
    ['a name of 201 characters', { name: 'x'.repeat(201) }, /at most 200/],
    ['an unknown attribute', { name: 'Fine', default: true }, /default is not a field here/],
  ])('rejects %s with 400 invalidValue, creating nothing', async (_what, body, detail) => {
    const before = (await lists()).length;
    const res = await admin(t).post('/price-lists', body);
    expectJsonError(res, 400, 'invalidValue', detail);
    expect((await lists()).length).toBe(before);
  });

  it('accepts a name of exactly 200 characters', async () => {
    const res = await admin(t).post('/price-lists', { name: 'y'.repeat(200) });
    expect(res.status).toBe(201);
  });

  it('answers 409 uniqueness for a name already used in the tenant, whatever its case', async () => {
    await create('Silver');
    expectJsonError(await admin(t).post('/price-lists', { name: 'silver' }), 409, 'uniqueness', /already exists/);
    expectJsonError(await admin(t).post('/price-lists', { name: ' SILVER ' }), 409, 'uniqueness');
    expectJsonError(await admin(t).post('/price-lists', { name: 'standard' }), 409, 'uniqueness');
    expect((await lists()).filter((l) => l.name.toLowerCase() === 'silver')).toHaveLength(1);
  });

  it('lets two tenants use the same name', async () => {
    await create('Platinum');
    await create('Platinum', other);
  });
});

describe('GET /api/v1/price-lists', () => {
  it('lists every list of the tenant with exactly one default, and nothing of another tenant', async () => {
    const mine = await create('Listed here');
    const theirs = await create('Listed there', other);
    const all = await lists();
    expect(defaults(all)).toHaveLength(1);
    expect(all.map((l) => l.id)).toContain(mine.id);
    expect(all.map((l) => l.id)).not.toContain(theirs.id);
    for (const l of all) expect(Object.keys(l).sort()).toEqual(['createdAt', 'default', 'id', 'name']);
  });
});

describe('PATCH /api/v1/price-lists/{id}', () => {
  it('renames a list', async () => {
    const l = await create('Bronze');
    const res = await admin(t).patch(`/price-lists/${l.id}`, { name: ' Bronze 2024 ' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ...l, name: 'Bronze 2024' });
    expect((await admin(t).get(`/price-lists/${l.id}`).expect(200)).body.name).toBe('Bronze 2024');
  });

  it('may change only the case of its own name, but not take another list\'s name (409)', async () => {
    const a = await create('Copper');
    await create('Nickel');
    expect((await admin(t).patch(`/price-lists/${a.id}`, { name: 'COPPER' }).expect(200)).body.name).toBe('COPPER');
    expectJsonError(await admin(t).patch(`/price-lists/${a.id}`, { name: 'nickel' }), 409, 'uniqueness');
    expect((await admin(t).get(`/price-lists/${a.id}`).expect(200)).body.name).toBe('COPPER');
  });

  it('makes a list the default; the previous default loses it', async () => {
    const before = defaults(await lists())[0];
    const l = await create('New default');
    const res = await admin(t).patch(`/price-lists/${l.id}`, { default: true });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: l.id, default: true });
    const all = await lists();
    expect(defaults(all).map((x) => x.id)).toEqual([l.id]);
    expect(all.find((x) => x.id === before.id)).toMatchObject({ default: false });
    // Again: nothing changes, still one default.
    await admin(t).patch(`/price-lists/${l.id}`, { default: true }).expect(200);
    expect(defaults(await lists()).map((x) => x.id)).toEqual([l.id]);
    // And back, with a rename in the same request.
    const back = await admin(t).patch(`/price-lists/${before.id}`, { default: true, name: 'Standard (again)' }).expect(200);
    expect(back.body).toMatchObject({ id: before.id, name: 'Standard (again)', default: true });
    expect(defaults(await lists()).map((x) => x.id)).toEqual([before.id]);
  });

  it('keeps exactly one default when several lists are made the default at once', async () => {
    const made = await Promise.all(['Race A', 'Race B', 'Race C', 'Race D'].map((name) => create(name)));
    const results = await Promise.all(made.map((l) => admin(t).patch(`/price-lists/${l.id}`, { default: true })));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(defaults(await lists())).toHaveLength(1);
    const rows = await h.owner((db) => db('price_lists').where({ tenant_id: t.id, is_default: true }));
    expect(rows).toHaveLength(1);
  });

  it('refuses to unset the default (409) and accepts "default": false on another list as a no-op', async () => {
    const current = defaults(await lists())[0];
    expectJsonError(await admin(t).patch(`/price-lists/${current.id}`, { default: false }), 409, undefined, /make another list the default/);
    const l = await create('Not default');
    expect((await admin(t).patch(`/price-lists/${l.id}`, { default: false }).expect(200)).body.default).toBe(false);
    expect(defaults(await lists()).map((x) => x.id)).toEqual([current.id]);
  });

  it.each([
    ['nothing to change', {}, /The body has nothing to change/],
    ['a blank name', { name: '' }, /name is required/],
    ['a long name', { name: 'z'.repeat(201) }, /at most 200/],
    ['a string default', { default: 'true' }, /default must be true or false/],
    ['an unknown attribute', { name: 'X', colour: 'red' }, /colour is not a field here/],
  ])('rejects %s with 400 invalidValue', async (_what, body, detail) => {
    const l = await create(`Patch target ${++n}`);
    expectJsonError(await admin(t).patch(`/price-lists/${l.id}`, body), 400, 'invalidValue', detail);
    expect((await admin(t).get(`/price-lists/${l.id}`).expect(200)).body).toEqual(l);
  });
});

describe('DELETE /api/v1/price-lists/{id}', () => {
  it('deletes a list with 204', async () => {
    const l = await create('Short lived');
    await admin(t).delete(`/price-lists/${l.id}`).expect(204);
    expectJsonError(await admin(t).get(`/price-lists/${l.id}`), 404);
    expect((await lists()).map((x) => x.id)).not.toContain(l.id);
    expectJsonError(await admin(t).delete(`/price-lists/${l.id}`), 404);
  });

  it('refuses to delete the default with 409 and a clear detail; after another is made the default, it can go', async () => {
    const current = defaults(await lists())[0];
    const res = await admin(t).delete(`/price-lists/${current.id}`);
    expectJsonError(res, 409, undefined, /default price list and cannot be deleted: make another list the default first/);
    expect((await lists()).map((x) => x.id)).toContain(current.id);
    const next = await create('Successor');
    await admin(t).patch(`/price-lists/${next.id}`, { default: true }).expect(200);
    await admin(t).delete(`/price-lists/${current.id}`).expect(204);
    const all = await lists();
    expect(defaults(all).map((x) => x.id)).toEqual([next.id]);
  });

  it('moves the users of a deleted list to the default: priceList removed from data and folded, version bumped, in one transaction', async () => {
    const api = scim(h, t);
    const doomed = await create('Doomed');
    const kept = await create('Kept');
    const mk = async (ext: Record<string, unknown>) => {
      const res = await api.post('/Users', { schemas: [USER, PROVISIO_USER], userName: `pl-user${++n}@acme.test`, [PROVISIO_USER]: ext });
      if (res.status !== 201) throw new Error(`user: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body as { id: string; meta: { version: string; lastModified: string } };
    };
    const withOther = await mk({ priceList: doomed.id, notificationEmail: 'Notify@Acme.test' });
    const onlyList = await mk({ priceList: doomed.id });
    const elsewhere = await mk({ priceList: kept.id });
    const none = await mk({ notificationEmail: 'n@acme.test' });
    // A value stored with capitals (priceList is caseExact) is still the same list.
    const shouted = await mk({ notificationEmail: 'loud@acme.test' });
    await h.owner((db) =>
      db.raw(
        `UPDATE users SET data = jsonb_set(data, '{${PROVISIO_USER},priceList}', to_jsonb(?::text)), folded = jsonb_set(folded, '{${PROVISIO_USER},priceList}', to_jsonb(?::text))
          WHERE tenant_id = ? AND id = ?`,
        [doomed.id.toUpperCase(), doomed.id.toUpperCase(), t.id, shouted.id],
      ),
    );
    const filter = `${PROVISIO_USER}:priceList eq "${doomed.id}"`;
    expect((await api.get('/Users').query({ filter }).expect(200)).body.totalResults).toBe(2);

    await admin(t).delete(`/price-lists/${doomed.id}`).expect(204);

    const after = async (id: string) => (await api.get(`/Users/${id}`).expect(200)).body;
    const a = await after(withOther.id);
    expect(a[PROVISIO_USER].priceList).toBeUndefined();
    expect(a[PROVISIO_USER].notificationEmail).toBe('Notify@Acme.test');
    expect(a.meta.version).not.toBe(withOther.meta.version);
    const b = await after(onlyList.id);
    expect(b[PROVISIO_USER].priceList).toBeUndefined();
    expect(b.meta.version).not.toBe(onlyList.meta.version);
    expect((await after(shouted.id))[PROVISIO_USER].priceList).toBeUndefined();
    // Users of other lists, or of none, are untouched.
    const c = await after(elsewhere.id);
    expect(c[PROVISIO_USER].priceList).toBe(kept.id);
    expect(c.meta.version).toBe(elsewhere.meta.version);
    expect((await after(none.id)).meta.version).toBe(none.meta.version);

    const rows = await h.owner((db) => db('users').where({ tenant_id: t.id }).whereIn('id', [withOther.id, onlyList.id, shouted.id]));
    for (const r of rows) {
      expect(JSON.stringify(r.data)).not.toMatch(/priceList/);
      expect(JSON.stringify(r.folded)).not.toMatch(/priceList/);
    }
    // The rest of the extension stays: every user holds a permission profile (issue 10).
    expect(rows.find((r: { id: string }) => r.id === onlyList.id).data[PROVISIO_USER]).toEqual({ permissionProfile: 'enterprise' });
    expect(rows.find((r: { id: string }) => r.id === withOther.id).folded[PROVISIO_USER]).toEqual({ notificationEmail: 'notify@acme.test', permissionProfile: 'enterprise' });
    expect((await api.get('/Users').query({ filter }).expect(200)).body.totalResults).toBe(0);
    // Recorded in the audit log, with the actor.
    const audit = await h.owner((db) =>
      db('audit_log').where({ tenant_id: t.id }).whereIn('target_id', [doomed.id, withOther.id, onlyList.id, shouted.id]).whereIn('action', ['priceList.create', 'priceList.delete', 'user.patch']),
    );
    expect(audit.map((e: { action: string }) => e.action).sort()).toEqual(['priceList.create', 'priceList.delete', 'user.patch', 'user.patch', 'user.patch']);
    expect(audit.find((e: { action: string }) => e.action === 'priceList.delete')).toMatchObject({ actor_type: 'token', changes: { name: 'Doomed', usersMoved: 3 } });
  });
});

describe('isolation', () => {
  it("answers 404 for another tenant's list on GET, PATCH and DELETE, and changes nothing", async () => {
    const theirs = await create('Theirs', other);
    expectJsonError(await admin(t).get(`/price-lists/${theirs.id}`), 404);
    expectJsonError(await admin(t).patch(`/price-lists/${theirs.id}`, { name: 'Mine now' }), 404);
    expectJsonError(await admin(t).patch(`/price-lists/${theirs.id}`, { default: true }), 404);
    expectJsonError(await admin(t).delete(`/price-lists/${theirs.id}`), 404);
    const otherDefault = defaults(await lists(other))[0];
    expectJsonError(await admin(t).delete(`/price-lists/${otherDefault.id}`), 404);
    expect((await admin(other).get(`/price-lists/${theirs.id}`).expect(200)).body).toEqual(theirs);
    expect(defaults(await lists(other)).map((x) => x.id)).toEqual([otherDefault.id]);
  });

  it('answers 404 for an id that is not a UUID or does not exist', async () => {
    expectJsonError(await admin(t).get('/price-lists/not-a-uuid'), 404);
    expectJsonError(await admin(t).patch('/price-lists/not-a-uuid', { name: 'x' }), 404);
    expectJsonError(await admin(t).delete('/price-lists/0190a0a0-0000-7000-8000-000000000001'), 404);
  });
});

describe('authentication', () => {
  it('needs an admin-scoped token', async () => {
    expectJsonError(await h.http.get('/api/v1/price-lists'), 401);
    expectJsonError(await h.http.get('/api/v1/price-lists').set('Authorization', 'Bearer pvs_nope'), 401);
    const created = await admin(t).post('/tokens', { name: 'scim only', scopes: ['scim'] }).expect(201);
    expectJsonError(await h.http.post('/api/v1/price-lists').set('Authorization', `Bearer ${created.body.token}`).send({ name: 'Sneaky' }), 403);
    expect((await lists()).map((l) => l.name)).not.toContain('Sneaky');
  });

  it('answers 405 with Allow for other methods', async () => {
    const res = await admin(t).put('/price-lists', { name: 'x' });
    expectJsonError(res, 405);
    expect(res.headers.allow).toBe('GET, POST');
    const l = await create('Put target');
    expect((await admin(t).put(`/price-lists/${l.id}`, { name: 'x' })).headers.allow).toBe('GET, PATCH, DELETE');
  });
});

describe('priceListExists and defaultPriceList (for validating a user\'s priceList in a tenant transaction)', () => {
  it("know the tenant's lists, and nothing of another tenant's; a non-UUID leaves the transaction usable", async () => {
    const mine = await create('Exists');
    const theirs = await create('Exists elsewhere', other);
    const out = await inTenant(h.db.knex, t.id, async (trx) => ({
      mine: await priceListExists(trx, t.id, mine.id),
      upper: await priceListExists(trx, t.id, mine.id.toUpperCase()),
      theirs: await priceListExists(trx, t.id, theirs.id),
      junk: await priceListExists(trx, t.id, 'PL-Gold'),
      notString: await priceListExists(trx, t.id, 42),
      missing: await priceListExists(trx, t.id, '0190a0a0-0000-7000-8000-000000000001'),
      def: await defaultPriceList(trx, t.id),
    }));
    expect(out).toEqual({ mine: true, upper: true, theirs: false, junk: false, notString: false, missing: false, def: { id: defaults(await lists())[0].id, name: expect.any(String) } });
    // Even asked with another tenant's id, the tenant set on the transaction decides (RLS).
    expect(await inTenant(h.db.knex, t.id, (trx) => priceListExists(trx, other.id, theirs.id))).toBe(false);
  });
});

// PUT /api/v1/managers/{id}/companies (docs/admin-api.md "Delegated managers"): a manager's whole
// set of managed companies replaced in one transaction, with one audit entry naming what was
// added and removed. Any refusal — an unknown or another tenant's company id, the authority rule
// half-way through — changes nothing. Runs on PGlite and PostgreSQL.
import { adminApi, createTenant, expectJsonError, Harness, startHarness, TestTenant } from '../support/harness';

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

const company = async (tenant = t, token?: string) => {
  const res = await adminApi(h, tenant, token).post('/companies', { name: `Client ${++seq}` });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const manager = async () => (await adminApi(h, t).post('/managers', { email: `mc${++seq}@acme.test`, name: `Manager ${seq}` })).body.id as string;
/** The ids of the companies this person manages, as the companies' member lists say. */
const managed = async (id: string) => {
  const list = (await adminApi(h, t).get('/managers')).body.managers as { id: string; companies: { id: string }[] }[];
  return (list.find((m) => m.id === id)?.companies ?? []).map((c) => c.id).sort();
};
const managersOf = async (companyId: string) => (await adminApi(h, t).get(`/companies/${companyId}`)).body.managers as number;
const auditOf = async (id: string) => (await adminApi(h, t).get(`/audit?target=${id}&action=user.companies`)).body.entries as { action: string; changes: { groups: { added: string[]; removed: string[] } } }[];

describe('PUT /managers/{id}/companies', () => {
  it('replaces the whole set in one call, audited once with what was added and removed', async () => {
    const api = adminApi(h, t);
    const m = await manager();
    const [c1, c2, c3] = [await company(), await company(), await company()];
    const first = await api.put(`/managers/${m}/companies`, { companies: [c1, c2] });
    expect(first.status).toBe(200);
    expect(first.body.companies.map((c: { id: string }) => c.id).sort()).toEqual([c1, c2].sort());
    expect(await managed(m)).toEqual([c1, c2].sort());

    // One manager read on its own (what the console's confirmations use), the same row.
    const one = await api.get(`/managers/${m}`);
    expect(one.status).toBe(200);
    expect(one.body.companies.map((c: { id: string }) => c.id).sort()).toEqual([c1, c2].sort());
    expectJsonError(await adminApi(h, other).get(`/managers/${m}`), 404);

    const second = await api.put(`/managers/${m}/companies`, { companies: [c2, c3] });
    expect(second.status).toBe(200);
    expect(await managed(m)).toEqual([c2, c3].sort());
    const entries = await auditOf(m);
    expect(entries).toHaveLength(2);
    // Newest first: the second call added c3 and removed c1 (c2 stayed: not named).
    expect(entries[0].changes.groups).toEqual({ added: [c3], removed: [c1] });
    expect(entries[1].changes.groups.added.sort()).toEqual([c1, c2].sort());
    // No per-company entries: the one entry on the person is the record.
    expect((await api.get(`/audit?target=${c3}&action=group.patch`)).body.entries).toEqual([]);

    // The same set again changes nothing and records nothing.
    expect((await api.put(`/managers/${m}/companies`, { companies: [c3, c2] })).status).toBe(200);
    expect(await auditOf(m)).toHaveLength(2);
    // None at all.
    expect((await api.put(`/managers/${m}/companies`, { companies: [] })).body.companies).toEqual([]);
    expect(await managed(m)).toEqual([]);
  });

  it('changes nothing when one id among valid ones is unknown or another tenant’s (404 naming it)', async () => {
    const api = adminApi(h, t);
    const m = await manager();
    const [c1, c2] = [await company(), await company()];
    await api.put(`/managers/${m}/companies`, { companies: [c1] });
    const unknown = '0190a0b0-0000-7000-8000-000000000000';
    const res = await api.put(`/managers/${m}/companies`, { companies: [c2, unknown] });
    expectJsonError(res, 404);
    expect(res.body.errors[0]).toMatchObject({ field: 'companies', detail: expect.stringContaining(unknown) });
    const foreign = await company(other);
    const theirs = await api.put(`/managers/${m}/companies`, { companies: [c2, foreign] });
    expectJsonError(theirs, 404);
    // Read the same as an unknown id: no hint that it exists elsewhere.
    expect(theirs.body.detail).toBe(`No such company: ${foreign}`);
    expect(await managed(m)).toEqual([c1]);
    expect(await auditOf(m)).toHaveLength(1);
    // Another tenant's manager is not found either.
    expectJsonError(await adminApi(h, other).put(`/managers/${m}/companies`, { companies: [] }), 404);
    expect(await managed(m)).toEqual([c1]);
  });

  it('refuses a bad body by field', async () => {
    const api = adminApi(h, t);
    const m = await manager();
    for (const body of [{}, { companies: 'x' }, { companies: ['not-an-id'] }, { companies: [], name: 'x' }]) {
      const res = await api.put(`/managers/${m}/companies`, body);
      expectJsonError(res, 400);
      expect(res.body.errors.length).toBeGreaterThan(0);
    }
    expectJsonError(await api.patch(`/managers/${m}/companies`, { companies: [] }), 405);
  });

  it('rolls back a change the authority rule refuses half-way (the primary admin kept in a company)', async () => {
    const api = adminApi(h, t);
    // uuidv7 ids grow with time: `b` sorts first, so its add is made before the refused removal from `a`.
    const b = await company();
    const a = await company();
    expect((await api.put(`/managers/${t.primaryAdminId}/companies`, { companies: [a] })).status).toBe(200);
    const res = await api.put(`/managers/${t.primaryAdminId}/companies`, { companies: [b] });
    expectJsonError(res, 403);
    expect(await managersOf(a)).toBe(1);
    expect(await managersOf(b)).toBe(0);
  });

  it('gives a sub-account-bound credential the 403 it gets today for someone it does not fully administer', async () => {
    const api = adminApi(h, t);
    const m = await manager();
    const outside = await company();
    await api.put(`/managers/${m}/companies`, { companies: [outside] });
    const p = await manager();
    const sub = (await api.post('/sub-accounts', { name: `Bound ${++seq}`, members: [m, p] })).body.id;
    const token = (await api.post('/tokens', { name: 'bound', scopes: ['admin'], subAccount: sub })).body.token;
    const inside = await company(t, token);
    expectJsonError(await adminApi(h, t, token).put(`/managers/${m}/companies`, { companies: [inside] }), 403);
    expect(await managed(m)).toEqual([outside]);
    // Someone wholly inside the sub-account is theirs to place.
    const ok = await adminApi(h, t, token).put(`/managers/${p}/companies`, { companies: [inside] });
    expect(ok.status).toBe(200);
    expect(ok.body.companies.map((c: { id: string }) => c.id)).toEqual([inside]);
  });
});

// The console's Companies page (issue 11): list, create (error next to the field), rename, delete
// behind a server-rendered confirmation; another tenant's company is a 404. PGlite and PostgreSQL.
import { Browser, csrfOf } from '../support/browser';
import { primaryAdmin } from '../support/console';
import { adminApi, createTenant, Harness, startHarness, TestTenant } from '../support/harness';

let h: Harness;
let t: TestTenant;
let admin: Browser;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme Partners', `owner-${Date.now() % 100000}@acme.test`);
  admin = await primaryAdmin(h, t);
});
afterAll(async () => h.close());

async function postForm(b: Browser, path: string, page: string, fields: [string, string][]) {
  return b.agent.post(path).type('form').send(new URLSearchParams([['_csrf', csrfOf(page)], ...fields]).toString());
}
const companies = async () => (await adminApi(h, t).get('/companies')).body.companies as { id: string; name: string; managers: number }[];

describe('the Companies page', () => {
  it('creates, renames and deletes (after a confirmation) a company', async () => {
    const page = await admin.get('/console/companies');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Create a company');
    const empty = await postForm(admin, '/console/companies', page.text, [['name', '  ']]);
    expect(empty.status).toBe(400);
    expect(empty.text).toMatch(/id="f-name-error"[^>]*>is required/);
    expect(await companies()).toEqual([]);

    const created = await postForm(admin, '/console/companies', page.text, [['name', 'Dupont & Fils <SARL>']]);
    expect(created.status).toBe(303);
    const [c] = await companies();
    expect(c.name).toBe('Dupont & Fils <SARL>');
    const listed = await admin.get('/console/companies?notice=companies.created');
    expect(listed.text).toContain('Dupont &amp; Fils &lt;SARL&gt;');
    expect(listed.text).toContain('The company was created.');

    const edit = await admin.get(`/console/companies/${c.id}`);
    const renamed = await postForm(admin, `/console/companies/${c.id}`, edit.text, [['name', 'Dupont SA']]);
    expect(renamed.status).toBe(303);
    expect((await companies())[0].name).toBe('Dupont SA');
    const badRename = await postForm(admin, `/console/companies/${c.id}`, edit.text, [['name', '']]);
    expect(badRename.status).toBe(400);
    expect((await companies())[0].name).toBe('Dupont SA');

    const ask = await postForm(admin, `/console/companies/${c.id}/delete`, listed.text, []);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('Delete Dupont SA?');
    expect(await companies()).toHaveLength(1);
    const gone = await postForm(admin, `/console/companies/${c.id}/delete`, ask.text, [['confirm', 'yes']]);
    expect(gone.status).toBe(303);
    expect(await companies()).toEqual([]);
  });

  it("is a 404 for another tenant's company", async () => {
    const other = await createTenant(h, 'Other');
    const theirs = (await adminApi(h, other).post('/companies', { name: 'Theirs' })).body.id;
    expect((await admin.get(`/console/companies/${theirs}`)).status).toBe(404);
    const page = await admin.get('/console/companies');
    expect((await postForm(admin, `/console/companies/${theirs}/delete`, page.text, [['confirm', 'yes']])).status).toBe(404);
    expect((await adminApi(h, other).get('/companies')).body.companies).toHaveLength(1);
  });
});

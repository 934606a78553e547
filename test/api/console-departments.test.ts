// The console's Departments page (issue 11): sub-accounts as accounts — list, create with limits
// (errors next to their fields, keeping what was typed), members and admins chosen from the
// account's people, deactivation behind a server-rendered confirmation with the purge date shown,
// reactivation; a department's own admin is not offered what only the account above may do.
// Runs on PGlite and PostgreSQL.
import { Browser, csrfOf } from '../support/browser';
import { activatedBrowser, primaryAdmin } from '../support/console';
import { adminApi, createTenant, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';

let h: Harness;
let t: TestTenant;
let admin: Browser;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme Partners', `owner-${Date.now() % 100000}@acme.test`);
  admin = await primaryAdmin(h, t);
});
afterAll(async () => h.close());

async function person(): Promise<{ id: string; email: string }> {
  const email = `dept-person${++seq}-${Date.now() % 100000}@acme.test`;
  const res = await scim(h, t).post('/Users', { schemas: [USER], userName: email, displayName: `Person ${seq}` });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

/** Posts a form with repeated fields (checkboxes) and the CSRF token of the page just shown. */
async function postForm(b: Browser, path: string, page: string, fields: [string, string][]) {
  const body = new URLSearchParams([['_csrf', csrfOf(page)], ...fields]);
  return b.agent.post(path).type('form').send(body.toString());
}

describe('the Departments page', () => {
  it('creates a department, keeping what was typed next to each error', async () => {
    const page = await admin.get('/console/departments');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Create a department');
    const bad = await postForm(admin, '/console/departments', page.text, [['name', ''], ['dailyLimit', 'ten'], ['monthlyLimit', '300']]);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="f-name"[^>]*aria-invalid="true"/);
    expect(bad.text).toMatch(/id="f-name-error"[^>]*>is required/);
    expect(bad.text).toMatch(/id="f-dailyLimit"[^>]*value="ten"|value="ten"[^>]*id="f-dailyLimit"/);
    expect(bad.text).toContain('value="300"');
    expect((await adminApi(h, t).get('/sub-accounts')).body.subAccounts).toEqual([]);

    const ok = await postForm(admin, '/console/departments', page.text, [['name', 'Paris office'], ['dailyLimit', '10'], ['monthlyLimit', '']]);
    expect(ok.status).toBe(303);
    const [d] = (await adminApi(h, t).get('/sub-accounts')).body.subAccounts;
    expect(d).toMatchObject({ name: 'Paris office', dailyLimit: 10, monthlyLimit: null, active: true });
    expect(ok.headers.location).toBe(`/console/departments/${d.id}?notice=departments.created`);
  });

  it('chooses members and admins from the account\'s people, then deactivates after a confirmation and shows the purge date', async () => {
    const [a, b] = [await person(), await person()];
    const id = (await adminApi(h, t).post('/sub-accounts', { name: `Lyon ${seq}` })).body.id;
    const edit = await admin.get(`/console/departments/${id}`);
    expect(edit.status).toBe(200);
    expect(edit.text).toContain(`value="${a.id}"`);
    const saved = await postForm(admin, `/console/departments/${id}`, edit.text, [['name', `Lyon ${seq}`], ['ownedAbove', 'yes'], ['dailyLimit', '5'], ['monthlyLimit', '50'], ['members', a.id], ['members', b.id], ['admins', b.id]]);
    expect(saved.status).toBe(303);
    const after = (await adminApi(h, t).get(`/sub-accounts/${id}`)).body;
    expect(after.members.map((m: { id: string }) => m.id).sort()).toEqual([a.id, b.id].sort());
    expect(after).toMatchObject({ admins: [b.id], dailyLimit: 5, monthlyLimit: 50 });

    const shown = await admin.get(`/console/departments/${id}`);
    // The confirmation step first: nothing changes until it is confirmed.
    const ask = await postForm(admin, `/console/departments/${id}/state`, shown.text, [['active', 'no']]);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(`Deactivate Lyon ${seq}?`);
    expect(ask.text).toContain('12 months');
    expect((await adminApi(h, t).get(`/sub-accounts/${id}`)).body.active).toBe(true);
    const done = await postForm(admin, `/console/departments/${id}/state`, ask.text, [['active', 'no'], ['confirm', 'yes']]);
    expect(done.status).toBe(303);
    const off = (await adminApi(h, t).get(`/sub-accounts/${id}`)).body;
    expect(off.active).toBe(false);
    const page = await admin.get(`/console/departments/${id}?notice=departments.deactivated`);
    const purge = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(off.purgeAt));
    expect(page.text).toContain(`Will be deleted on ${purge}.`);
    expect(page.text).toContain('The department was deactivated.');
    const list = await admin.get('/console/departments');
    expect(list.text).toContain(`Will be deleted on ${purge}.`);

    const back = await postForm(admin, `/console/departments/${id}/state`, page.text, [['active', 'yes']]);
    expect(back.status).toBe(303);
    expect((await adminApi(h, t).get(`/sub-accounts/${id}`)).body).toMatchObject({ active: true, purgeAt: null });
  });

  it('a department\'s own admin is not offered deactivation, limits or admins, and the API refuses them anyway', async () => {
    const boss = await person();
    const id = (await adminApi(h, t).post('/sub-accounts', { name: `Own ${seq}`, admins: [boss.id] })).body.id;
    const b = await activatedBrowser(h, boss.email);
    const list = await b.get('/console/departments');
    expect(list.status).toBe(200);
    expect(list.text).toContain(`Own ${seq}`);
    expect(list.text).not.toContain(`/console/departments/${id}/state`);
    const edit = await b.get(`/console/departments/${id}`);
    expect(edit.text).toContain('Only an admin of the account above');
    expect(edit.text).not.toContain('name="dailyLimit"');
    expect(edit.text).not.toContain('name="admins" value="' + boss.id + '"' + ' checked aria');
    // Posting the switch anyway: the admin API's 403, nothing changed.
    const forced = await postForm(b, `/console/departments/${id}/state`, edit.text, [['active', 'no'], ['confirm', 'yes']]);
    expect(forced.status).toBe(403);
    expect((await adminApi(h, t).get(`/sub-accounts/${id}`)).body.active).toBe(true);
    // Renaming stays theirs.
    const renamed = await postForm(b, `/console/departments/${id}`, edit.text, [['name', `Own ${seq} renamed`], ['members', boss.id], ['admins', boss.id]]);
    expect(renamed.status).toBe(303);
    expect((await adminApi(h, t).get(`/sub-accounts/${id}`)).body.name).toBe(`Own ${seq} renamed`);
  });

  it('another tenant\'s department is a 404 page; French words on the French page', async () => {
    const other = await createTenant(h, 'Other');
    const theirs = (await adminApi(h, other).post('/sub-accounts', { name: 'Theirs' })).body.id;
    const res = await admin.get(`/console/departments/${theirs}`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('Theirs');
    const fr = await admin.agent.get('/console/departments').set('Cookie', 'provisio.lang=fr');
    expect(fr.text).toContain('Créer un département');
  });
});

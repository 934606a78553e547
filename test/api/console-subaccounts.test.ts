// The console's Sub-accounts page (issue 11): delegated managers as cards — create behind a
// confirmation that warns a temporary password will be emailed (and the email), managed
// companies saved through a server-rendered confirmation, the licences switch, reset password and
// delete each confirmed; the primary admin's licence rights shown; errors next to their fields.
// Runs on PGlite and PostgreSQL.
import { Browser, csrfOf } from '../support/browser';
import { activatedBrowser, primaryAdmin } from '../support/console';
import { adminApi, createTenant, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';
import { keptMail } from '../support/web';

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

async function postForm(b: Browser, path: string, page: string, fields: [string, string][]) {
  const body = new URLSearchParams([['_csrf', csrfOf(page)], ...fields]);
  return b.agent.post(path).type('form').send(body.toString());
}

const managerByEmail = async (email: string) => (await adminApi(h, t).get('/managers')).body.managers.find((m: { email: string }) => m.email === email);

describe('the Sub-accounts page', () => {
  it('creates a sub-account after a confirmation that warns of the emailed temporary password', async () => {
    const email = `chloe${++seq}@acme.test`;
    const page = await admin.get('/console/sub-accounts');
    expect(page.status).toBe(200);
    expect(page.text).toContain('Create a sub-account');
    // The primary admin keeps licence rights on every company the tenant created, and the page says so.
    expect(page.text).toMatch(new RegExp(`${t.adminEmail.replace('.', '\\.')}, your primary admin, manages every company[^<]*always keeps the right to manage their licences`));

    const ask = await postForm(admin, '/console/sub-accounts', page.text, [['email', email], ['name', 'Chloé Martin'], ['canManageLicences', 'yes']]);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(`An email with a temporary password will be sent to ${email}.`);
    expect(await managerByEmail(email)).toBeUndefined();

    const done = await postForm(admin, '/console/sub-accounts', ask.text, [['email', email], ['name', 'Chloé Martin'], ['canManageLicences', 'yes'], ['confirm', 'yes']]);
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/console/sub-accounts?notice=subaccounts.created');
    expect(await managerByEmail(email)).toMatchObject({ name: 'Chloé Martin', canManageLicences: true, state: 'active' });
    await h.deps.later.idle();
    expect((await keptMail(h, email, 'credentials')).text).toContain(email);
    const after = await admin.get(done.headers.location);
    expect(after.text).toContain('The sub-account was created.');
    expect(after.text).toContain('Chloé Martin');
  });

  it('shows a bad email and a missing name next to their fields, keeping what was typed', async () => {
    const page = await admin.get('/console/sub-accounts');
    const res = await postForm(admin, '/console/sub-accounts', page.text, [['email', 'chloe at acme'], ['name', ''], ['confirm', 'yes']]);
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="f-email-error"[^>]*>must be an email address mail can go to/);
    expect(res.text).toMatch(/id="f-name-error"[^>]*>is required/);
    expect(res.text).toContain('value="chloe at acme"');
  });

  it('saves managed companies through a confirmation, toggles licences, resets the password and deletes, each confirmed', async () => {
    const email = `ben${++seq}@acme.test`;
    const m = (await adminApi(h, t).post('/managers', { email, name: `Ben ${seq}` })).body;
    const [c1, c2, c3] = await Promise.all(['Dupont', 'Durand', 'Martin'].map(async (n) => (await adminApi(h, t).post('/companies', { name: `${n} ${seq}` })).body.id));
    const page = await admin.get('/console/sub-accounts');
    expect(page.text).toContain(`value="${c3}"`);

    const ask = await postForm(admin, `/console/sub-accounts/${m.id}/companies`, page.text, [['companies', c1], ['companies', c2]]);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(`Ben ${seq} will manage: Dupont ${seq}, Durand ${seq}.`);
    expect((await managerByEmail(email)).companies).toEqual([]);
    const saved = await postForm(admin, `/console/sub-accounts/${m.id}/companies`, ask.text, [['companies', c1], ['companies', c2], ['confirm', 'yes']]);
    expect(saved.status).toBe(303);
    expect((await managerByEmail(email)).companies.map((c: { id: string }) => c.id).sort()).toEqual([c1, c2].sort());
    // One call, one transaction, one audit entry naming both companies (PUT /managers/{id}/companies).
    const entries = (await adminApi(h, t).get(`/audit?target=${m.id}&action=user.companies`)).body.entries;
    expect(entries).toHaveLength(1);
    expect(entries[0].changes.groups.added.sort()).toEqual([c1, c2].sort());

    const shown = await admin.get('/console/sub-accounts');
    expect(shown.text).toMatch(new RegExp(`action="/console/sub-accounts/${m.id}/licences"[\\s\\S]*?role="switch" aria-checked="false"`));
    const on = await postForm(admin, `/console/sub-accounts/${m.id}/licences`, shown.text, [['canManageLicences', 'yes']]);
    expect(on.status).toBe(303);
    expect((await managerByEmail(email)).canManageLicences).toBe(true);

    const askReset = await postForm(admin, `/console/sub-accounts/${m.id}/reset`, shown.text, []);
    expect(askReset.text).toContain(`A temporary password will be emailed to ${email}.`);
    const reset = await postForm(admin, `/console/sub-accounts/${m.id}/reset`, askReset.text, [['confirm', 'yes']]);
    expect(reset.status).toBe(303);
    await h.deps.later.idle();
    expect((await keptMail(h, email, 'temporary-password')).text).toContain('Temporary password');

    const askDelete = await postForm(admin, `/console/sub-accounts/${m.id}/delete`, shown.text, []);
    expect(askDelete.status).toBe(200);
    expect(await managerByEmail(email)).toBeDefined();
    const deleted = await postForm(admin, `/console/sub-accounts/${m.id}/delete`, askDelete.text, [['confirm', 'yes']]);
    expect(deleted.status).toBe(303);
    expect(await managerByEmail(email)).toBeUndefined();
  });

  it('a department admin is not offered the licences switch; a stranger\'s manager is a 404', async () => {
    const boss = `boss${++seq}@acme.test`;
    const bossId = (await scim(h, t).post('/Users', { schemas: [USER], userName: boss })).body.id;
    await adminApi(h, t).post('/sub-accounts', { name: `Dept ${seq}`, admins: [bossId] });
    const b = await activatedBrowser(h, boss);
    const page = await b.get('/console/sub-accounts');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('role="switch"');
    // Creating one decides licence rights, which is the whole account's: not offered, and refused.
    expect(page.text).not.toContain('name="email"');
    expect(page.text).toContain('Sub-accounts are created by your account');
    const forced = await postForm(b, '/console/sub-accounts', page.text, [['email', `forced${seq}@acme.test`], ['name', 'Forced'], ['confirm', 'yes']]);
    expect(forced.status).toBe(403);
    expect(forced.text).toContain('canManageLicences can only be set by tenant-wide credentials');
    expect(await managerByEmail(`forced${seq}@acme.test`)).toBeUndefined();
    const other = await createTenant(h, 'Other');
    const theirs = (await adminApi(h, other).post('/managers', { email: `x${seq}@other.test`, name: 'X' })).body.id;
    const res = await postForm(admin, `/console/sub-accounts/${theirs}/delete`, (await admin.get('/console/sub-accounts')).text, [['confirm', 'yes']]);
    expect(res.status).toBe(404);
  });
});

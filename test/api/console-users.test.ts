// The console's Users pages (issue 11, "Users" and "New user"; server/console/pages/users/): the
// list (search, state and role filters, cursor paging), creating a user with the activation email
// or with credentials shown once, field errors that keep what was typed, the bulk confirmation
// step and all-or-nothing bulk actions, the per-person page and its actions, the primary admin
// out of every other admin's reach (not offered; a forged post refused by the admin API, nothing
// changed), and a sub-account admin seeing only their sub-account. Runs on PGlite and PostgreSQL.
import { Browser, csrfOf } from '../support/browser';
import { activatedBrowser, GOOD_PASSWORD, primaryAdmin, signedIn } from '../support/console';
import { adminApi, createTenant, GROUP, Harness, PROVISIO_GROUP, scim, startHarness, TestTenant } from '../support/harness';
import { keptMail, mailCount } from '../support/web';

let h: Harness;
let t: TestTenant;
let boss: Browser;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Users & Co', `owner-${Date.now() % 100000}@users.test`);
  boss = await primaryAdmin(h, t);
});
afterAll(async () => h.close());

const unique = (tag: string) => `${tag}${++seq}x${Date.now() % 100000}`;

/** A user made over the admin API (pending, no email unless asked). */
async function makeUser(o: { given?: string; family?: string; email?: string; role?: string; activation?: string } = {}): Promise<{ id: string; email: string }> {
  const email = o.email ?? `${unique('p')}@users.test`;
  const res = await adminApi(h, t).post('/users', { givenName: o.given ?? 'Pat', familyName: o.family ?? 'Person', email, role: o.role ?? 'user', activation: o.activation ?? 'later' });
  if (res.status !== 201) throw new Error(`user: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email };
}

/** Posts a form with repeated fields (checkboxes), with the CSRF token of `page`. */
async function postForm(b: Browser, path: string, pairs: [string, string][], page: string) {
  const body = new URLSearchParams([...pairs, ['_csrf', csrfOf(page)]]);
  return b.agent.post(path).type('form').send(body.toString());
}

const userOf = async (id: string) => adminApi(h, t).get(`/users/${id}`);
const rowIds = (html: string) => [...html.matchAll(/href="\/console\/users\/([0-9a-f-]{36})"/g)].map((m) => m[1]);

describe('the list', () => {
  it('searches by name or email, filters by state and role, and pages with the admin API’s cursor', async () => {
    const tag = unique('Zed');
    const a = await makeUser({ given: tag, family: 'Alpha' });
    const b = await makeUser({ given: 'Bea', family: tag, role: 'admin' });
    const c = await makeUser({ email: `${tag.toLowerCase()}@users.test` });
    await makeUser({ given: 'Other', family: 'Person' });
    const list = await boss.get(`/console/users?q=${tag}`);
    expect(list.status).toBe(200);
    expect(rowIds(list.text).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(list.text).toContain('3 users');
    expect(list.text).toContain('class="pill pending"');
    expect(list.text).toMatch(/Never/);

    expect(rowIds((await boss.get(`/console/users?q=${tag}&role=admin`)).text)).toEqual([b.id]);
    expect(rowIds((await boss.get(`/console/users?q=${tag}&state=active`)).text)).toEqual([]);
    expect(rowIds((await boss.get(`/console/users?q=${tag}&state=pending`)).text).length).toBe(3);

    // Two rows a page: the first page counts, the next comes by the cursor and is the last.
    const p1 = await boss.get(`/console/users?q=${tag}&size=2`);
    expect(rowIds(p1.text)).toHaveLength(2);
    const next = /href="(\/console\/users\?[^"]*cursor=[^"]+)" rel="next"/.exec(p1.text)![1].replace(/&amp;/g, '&');
    expect(next).toContain(`q=${tag}`);
    const p2 = await boss.get(next);
    expect(p2.status).toBe(200);
    const second = rowIds(p2.text);
    expect(second).toHaveLength(1);
    expect([...rowIds(p1.text), ...second].sort()).toEqual([a.id, b.id, c.id].sort());
    expect(p2.text).not.toContain('rel="next"');
    expect(p2.text).toContain('First page');

    // A bad filter is the admin API's 400, shown on the page; never a 500.
    const bad = await boss.get('/console/users?state=sleeping');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/state must be one of/);
  });

  it('the primary admin’s row has no checkbox and says why', async () => {
    const page = await boss.get(`/console/users?q=${encodeURIComponent(t.adminEmail)}`);
    expect(rowIds(page.text)).toEqual([t.primaryAdminId]);
    expect(page.text).not.toContain(`name="ids" value="${t.primaryAdminId}"`);
    expect(page.text).toContain('nobody else may delete or sign out the tenant’s primary admin');
  });
});

describe('bad input', () => {
  it('is a clear page, never a 500, and changes nothing', async () => {
    expect((await boss.get('/console/users/not-a-user')).status).toBe(404);
    expect((await boss.get('/console/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    const cursor = await boss.get('/console/users?cursor=garbage');
    expect(cursor.status).toBe(400);
    expect(cursor.text).toContain('nothing was changed');
    const role = await boss.get('/console/users?role=owner');
    expect(role.status).toBe(400);
    const list = await boss.get('/console/users');
    const a = await makeUser();
    const odd = await postForm(boss, '/console/users/bulk', [['action', 'explode'], ['ids', a.id], ['confirm', 'yes']], list.text);
    expect(odd.status).toBe(400);
    const notIds = await postForm(boss, '/console/users/bulk', [['action', 'delete'], ['ids', 'x'], ['confirm', 'yes']], list.text);
    expect(notIds.status).toBe(404);
    expect((await postForm(boss, `/console/users/${a.id}/explode`, [['confirm', 'yes']], list.text)).status).toBe(404);
    // A form without its CSRF token is refused before anything is read.
    const forged = await boss.agent.post(`/console/users/${a.id}/delete`).type('form').send('confirm=yes');
    expect(forged.status).toBe(403);
    expect((await userOf(a.id)).status).toBe(200);
  });
});

describe('a new user', () => {
  it('with the activation email: pending, and the link goes to their sign-in email', async () => {
    const form = await boss.get('/console/users/new');
    expect(form.status).toBe(200);
    // The default profile is preselected, with the warning about Enterprise.
    expect(form.text).toMatch(/<option value="enterprise" selected>/);
    expect(form.text).toContain('“Enterprise” grants every permission.');
    // The default price list preselected (the option without a list id).
    expect(form.text).toMatch(/<option value="" selected>Default price list/);
    const email = `${unique('new')}@users.test`;
    const res = await boss.post('/console/users/new', { givenName: 'Ada', familyName: 'Lovelace', email, role: 'user', permissionProfile: 'enterprise', activation: 'email' });
    expect(res.status).toBe(303);
    expect(res.headers.location).toMatch(/^\/console\/users\/[0-9a-f-]{36}\?notice=users\.created$/);
    const id = /users\/([0-9a-f-]{36})/.exec(res.headers.location)![1];
    const user = (await userOf(id)).body;
    expect(user).toMatchObject({ givenName: 'Ada', familyName: 'Lovelace', email, state: 'pending', role: 'user' });
    await h.deps.later.idle();
    expect((await keptMail(h, email, 'activation')).text).toContain('/activate?token=');
    const page = await boss.get(res.headers.location);
    expect(page.text).toContain('The activation email is on its way.');
  });

  it('"activate now": the credentials are shown once, on the answer to the post only, and emailed to the address chosen', async () => {
    // The credentials address is prefilled with the tenant's (GET /settings), and can be changed.
    expect((await adminApi(h, t).patch('/settings', { credentialsEmail: 'desk@users.test' })).status).toBe(200);
    const form = await boss.get('/console/users/new');
    expect(form.text).toMatch(/name="credentialsEmail" type="email" value="desk@users.test"/);
    const email = `${unique('now')}@users.test`;
    const to = `${unique('it')}@users.test`;
    const res = await boss.post('/console/users/new', { givenName: 'Grace', familyName: 'Hopper', email, role: 'user', activation: 'now', credentialsEmail: to });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const password = /id="cred-password">([^<]+)</.exec(res.text)![1];
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(res.text).toContain(to);
    expect(res.text).toMatch(/href="\/console\/users\/[0-9a-f-]{36}">Close</);
    // Not kept anywhere the console shows again: the person's page and the list do not carry it.
    const id = /href="\/console\/users\/([0-9a-f-]{36})">Close/.exec(res.text)![1];
    expect((await boss.get(`/console/users/${id}`)).text).not.toContain(password);
    expect((await boss.get('/console/users')).text).not.toContain(password);
    expect((await userOf(id)).body.state).toBe('active');
    await h.deps.later.idle();
    expect(await mailCount(h, to)).toBeGreaterThan(0);
    // The password works (they must change it at first sign-in).
    const person = await signedIn(h, email, password);
    expect((await person.me()).status).toBeLessThan(500);
  });

  it('field errors come back next to their fields, keeping what was typed', async () => {
    await boss.get('/console/users/new');
    const res = await boss.post('/console/users/new', { givenName: 'Keep <me>', familyName: '', email: 'not-an-address', notificationEmail: 'also bad', externalContact: 'Desk 4', role: 'user', activation: 'email' });
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/id="f-familyName-error">is required</);
    expect(res.text).toMatch(/id="f-email-error">must be an email address mail can go to/);
    expect(res.text).toMatch(/id="f-notificationEmail-error">/);
    expect(res.text).toContain('value="Keep &lt;me&gt;"');
    expect(res.text).toContain('value="not-an-address"');
    expect(res.text).toContain('value="Desk 4"');
    expect(res.text).toContain('aria-invalid="true"');
    // Nothing was created.
    expect((await adminApi(h, t).get('/users?q=not-an-address')).body.users).toEqual([]);

    // A sign-in email already in use: the admin API's 409, on the email field.
    const taken = await makeUser();
    const dup = await boss.post('/console/users/new', { givenName: 'Dup', familyName: 'Licate', email: taken.email, role: 'user', activation: 'email' });
    expect(dup.status).toBe(409);
    expect(dup.text).toMatch(/id="f-email-error">/);
    expect(dup.text).toContain('value="Dup"');
  });
});

describe('one person', () => {
  it('edits the details; only what changed is sent', async () => {
    const u = await makeUser({ given: 'Old', family: 'Name' });
    const page = await boss.get(`/console/users/${u.id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('value="Old"');
    const res = await boss.post(`/console/users/${u.id}`, { givenName: 'New', familyName: 'Name', email: u.email, role: 'admin', notificationEmail: 'notes@users.test', externalContact: '', permissionProfile: 'enterprise', servicesShown: '1' });
    expect(res.status).toBe(303);
    expect((await userOf(u.id)).body).toMatchObject({ givenName: 'New', familyName: 'Name', role: 'admin', notificationEmail: 'notes@users.test' });
    await boss.get(`/console/users/${u.id}`);
    const bad = await boss.post(`/console/users/${u.id}`, { givenName: '', familyName: 'Name', email: 'nope', role: 'admin', servicesShown: '1' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="f-email-error">/);
    expect(bad.text).toContain('value="nope"');
    expect((await userOf(u.id)).body.givenName).toBe('New');
  });

  it('activate (confirmed) sends the activation email; reset password is confirmed first; delete is confirmed', async () => {
    const u = await makeUser();
    const page = await boss.get(`/console/users/${u.id}`);
    expect(page.text).toContain(`action="/console/users/${u.id}/activate"`);
    const ask = await boss.post(`/console/users/${u.id}/activate`, {});
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(`An activation email will be sent to ${u.email}`);
    await h.deps.later.idle();
    expect(await mailCount(h, u.email)).toBe(0);
    const done = await boss.post(`/console/users/${u.id}/activate`, { confirm: 'yes' });
    expect(done.status).toBe(303);
    const person = await activatedBrowser(h, u.email);
    expect((await person.me()).status).toBe(200);

    const active = await boss.get(`/console/users/${u.id}`);
    expect(active.text).toContain(`action="/console/users/${u.id}/reset-password"`);
    const reset = await boss.post(`/console/users/${u.id}/reset-password`, {});
    expect(reset.text).toContain('A temporary password will be emailed');
    expect((await person.me()).status).toBe(200);
    expect((await boss.post(`/console/users/${u.id}/reset-password`, { confirm: 'yes' })).status).toBe(303);
    expect((await person.me()).status).toBe(401);
    await h.deps.later.idle();
    await keptMail(h, u.email, 'temporary-password');

    // A temporary password the admin chooses: a weak one is refused next to its field, never echoed.
    await boss.get(`/console/users/${u.id}`);
    const weak = await boss.post(`/console/users/${u.id}/password`, { password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.text).toMatch(/id="f-password-error">/);
    expect(weak.text).not.toContain('value="short"');
    expect((await boss.post(`/console/users/${u.id}/password`, { password: 'a-temporary-passphrase-77' })).status).toBe(303);

    await boss.get(`/console/users/${u.id}`);
    const del = await boss.post(`/console/users/${u.id}/delete`, {});
    expect(del.text).toContain(`You are about to delete Pat Person (${u.email})`);
    expect((await userOf(u.id)).status).toBe(200);
    const gone = await boss.post(`/console/users/${u.id}/delete`, { confirm: 'yes' });
    expect(gone.status).toBe(303);
    expect(gone.headers.location).toBe('/console/users?notice=users.deleted');
    expect((await userOf(u.id)).status).toBe(404);
    expect((await boss.get(`/console/users/${u.id}`)).status).toBe(404);
  });
});

describe('bulk actions', () => {
  it('delete: a confirmation saying how many, then all of them', async () => {
    const a = await makeUser();
    const b = await makeUser();
    const list = await boss.get('/console/users?size=200');
    const ask = await postForm(boss, '/console/users/bulk', [['action', 'delete'], ['ids', a.id], ['ids', b.id]], list.text);
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('You are about to delete 2 users');
    expect((await userOf(a.id)).status).toBe(200);
    const done = await postForm(boss, '/console/users/bulk', [['action', 'delete'], ['ids', a.id], ['ids', b.id], ['confirm', 'yes'], ['back', '/console/users?size=200']], ask.text);
    expect(done.status).toBe(303);
    // Back to the list as it was (its rows per page are not the notice's count).
    expect(done.headers.location).toBe('/console/users?size=200&notice=users.bulkDeleted&count=2');
    expect((await userOf(a.id)).status).toBe(404);
    expect((await userOf(b.id)).status).toBe(404);
    expect((await boss.get(done.headers.location)).text).toContain('2 users were deleted.');
  });

  it('force logout: confirmed, then every session of theirs ends', async () => {
    const a = await makeUser({ activation: 'email' });
    const b = await makeUser({ activation: 'email' });
    const pa = await activatedBrowser(h, a.email);
    const pb = await activatedBrowser(h, b.email);
    const list = await boss.get('/console/users');
    const ask = await postForm(boss, '/console/users/bulk', [['action', 'forceLogout'], ['ids', a.id], ['ids', b.id]], list.text);
    expect(ask.text).toContain('You are about to sign out 2 users');
    expect((await pa.me()).status).toBe(200);
    const done = await postForm(boss, '/console/users/bulk', [['action', 'forceLogout'], ['ids', a.id], ['ids', b.id], ['confirm', 'yes']], ask.text);
    expect(done.status).toBe(303);
    expect((await pa.me()).status).toBe(401);
    expect((await pb.me()).status).toBe(401);
  });

  it('nothing selected: said on the list; all or nothing: one id the admin API refuses and nobody is deleted', async () => {
    const list = await boss.get('/console/users');
    const none = await postForm(boss, '/console/users/bulk', [['action', 'delete']], list.text);
    expect(none.status).toBe(400);
    expect(none.text).toContain('Select at least one user first.');
    const a = await makeUser();
    const stranger = '00000000-0000-4000-8000-000000000000';
    const res = await postForm(boss, '/console/users/bulk', [['action', 'delete'], ['ids', a.id], ['ids', stranger], ['confirm', 'yes']], list.text);
    expect(res.status).toBe(404);
    expect(res.text).toContain('nothing was changed');
    expect((await userOf(a.id)).status).toBe(200);
  });
});

describe('the primary admin', () => {
  it('a second admin is offered nothing that touches them, and a forged post is refused by the admin API', async () => {
    const second = await makeUser({ role: 'admin', activation: 'email' });
    const b = await activatedBrowser(h, second.email);
    const page = await b.get(`/console/users/${t.primaryAdminId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('This is the tenant’s primary admin');
    for (const action of ['reset-password', 'force-logout', 'delete', 'deactivate', 'password']) expect(page.text).not.toContain(`/console/users/${t.primaryAdminId}/${action}"`);
    expect(page.text).not.toContain(`action="/console/users/${t.primaryAdminId}"`);
    const before = (await userOf(t.primaryAdminId)).body;
    for (const action of ['delete', 'reset-password', 'force-logout', 'deactivate']) {
      const forged = await b.post(`/console/users/${t.primaryAdminId}/${action}`, { confirm: 'yes' });
      expect([action, forged.status]).toEqual([action, 403]);
      expect(forged.text).toContain('nothing was changed');
    }
    // In a bulk request too: the whole request is refused, the other person stays.
    const other = await makeUser();
    const list = await b.get('/console/users');
    const bulk = await postForm(b, '/console/users/bulk', [['action', 'delete'], ['ids', other.id], ['ids', t.primaryAdminId], ['confirm', 'yes']], list.text);
    expect(bulk.status).toBe(403);
    expect(bulk.text).toContain('nothing was changed');
    expect((await userOf(other.id)).status).toBe(200);
    await b.get(`/console/users/${t.primaryAdminId}`);
    const edit = await b.post(`/console/users/${t.primaryAdminId}`, { givenName: 'Hijacked', familyName: 'X', email: t.adminEmail, role: 'user' });
    expect(edit.status).toBe(403);
    expect((await userOf(t.primaryAdminId)).body).toEqual(before);
    // The primary admin is still signed in.
    expect((await boss.me()).status).toBe(200);
  });
});

describe('a sub-account admin', () => {
  it('sees only their sub-account’s users', async () => {
    const tag = unique('Sub');
    const admin = await makeUser({ given: tag, family: 'Admin', activation: 'email' });
    const inside = await makeUser({ given: tag, family: 'Inside' });
    const outside = await makeUser({ given: tag, family: 'Outside' });
    const res = await scim(h, t).post('/Groups', {
      schemas: [GROUP, PROVISIO_GROUP],
      displayName: `Dept ${tag}`,
      members: [{ value: admin.id }, { value: inside.id }],
      [PROVISIO_GROUP]: { kind: 'subAccount', admins: [{ value: admin.id }] },
    });
    expect(res.status).toBe(201);
    const b = await activatedBrowser(h, admin.email, GOOD_PASSWORD);
    const list = await b.get(`/console/users?q=${tag}`);
    expect(list.status).toBe(200);
    expect(rowIds(list.text).sort()).toEqual([admin.id, inside.id].sort());
    expect((await b.get(`/console/users/${outside.id}`)).status).toBe(404);
    // Their form has no price list to choose (a tenant-wide setting), and still creates users.
    const form = await b.get('/console/users/new');
    expect(form.status).toBe(200);
    expect(form.text).toContain('Only tenant administrators can choose a price list');
  });
});

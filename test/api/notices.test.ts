// Security notices and IdP passwords (issue 10, "Notifications and passwords from IdPs"): notices
// go to the notification email when set, else the sign-in email (the old one for an email
// change), in the person's language; a password an IdP pushes becomes the person's only with the
// tenant's passwordSync setting, policy-checked. On PGlite and PostgreSQL.
import { browser } from '../support/browser';
import { createTenant, expectScimError, Harness, OPERATOR_TOKEN, PROVISIO_USER, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ops = (...operations: Record<string, unknown>[]) => ({ schemas: [PATCH], Operations: operations });
const GOOD = 'correct-horse-battery-staple-42';

let h: Harness;
let t: TestTenant;
let api: ReturnType<typeof scim>;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Notices', 'owner@notices.test');
  api = scim(h, t);
});
afterAll(() => h.close());

const mail = async (to: string) =>
  (await h.http.get('/operator/v1/mail').query({ to }).set('Authorization', `Bearer ${OPERATOR_TOKEN}`)).body.messages as { template: string; subject: string; text: string }[];
const templates = async (to: string) => (await mail(to)).map((m) => m.template);
const admin = (path: string, body?: object) => h.http.post(`/api/v1${path}`).set('Authorization', `Bearer ${t.token}`).send(body ?? {});
const settings = (body: object) => h.http.patch('/api/v1/settings').set('Authorization', `Bearer ${t.token}`).send(body);

/** An active person with a password, made through the admin API ("activate now"). */
async function activePerson(extra: Record<string, unknown> = {}) {
  const email = `person${++seq}@notices.test`;
  const res = await admin('/users', { givenName: 'Ada', familyName: 'Lovelace', email, activation: 'now', credentialsEmail: 'it@notices.test', ...extra });
  expect(res.status).toBe(201);
  return { id: res.body.user.id as string, email, password: res.body.password as string };
}

describe('security notices', () => {
  it('deactivation: to the notification email when set, else the sign-in email', async () => {
    const a = await activePerson({ notificationEmail: 'a-notify@notices.test' });
    const b = await activePerson();
    await api.patch(`/Users/${a.id}`, ops({ op: 'replace', value: { active: false } })).expect(200);
    await api.patch(`/Users/${b.id}`, ops({ op: 'replace', value: { active: false } })).expect(200);
    expect(await templates('a-notify@notices.test')).toEqual(['account-deactivated']);
    expect(await templates(a.email)).toEqual([]);
    expect(await templates(b.email)).toEqual(['account-deactivated']);
    // Re-sending `active: false` is no new deactivation.
    await api.patch(`/Users/${b.id}`, ops({ op: 'replace', value: { active: false } })).expect(200);
    expect(await templates(b.email)).toEqual(['account-deactivated']);
  });

  it('a changed sign-in email: the old address hears of it, in the person’s language, the new one quoted', async () => {
    const p = await activePerson();
    await api.patch(`/Users/${p.id}`, ops({ op: 'replace', path: 'preferredLanguage', value: 'fr' })).expect(200);
    const next = `moved${seq}@notices.test`;
    await api.patch(`/Users/${p.id}`, ops({ op: 'replace', path: 'userName', value: next })).expect(200);
    const notice = (await mail(p.email)).find((m) => m.template === 'email-changed')!;
    expect(notice.subject).toMatch(/e-mail de connexion/);
    expect(notice.text).toContain(`«\u00a0${next}\u00a0»`);
    expect(await templates(next)).toEqual(['verify-email']);
  });

  it('a changed password: by the person, or by an admin setting a temporary one', async () => {
    const p = await activePerson();
    const b = browser(h.app);
    expect((await b.signIn(p.email, p.password)).headers.location).toBe('/account/password');
    await b.get('/account/password');
    expect((await b.post('/account/password', { password: GOOD })).status).toBe(303);
    expect(await templates(p.email)).toEqual(['password-changed']);
    expect((await admin(`/users/${p.id}/password`, { password: 'a-temporary-passphrase-77' })).status).toBe(204);
    expect(await templates(p.email)).toEqual(['password-changed', 'password-changed']);
  });

  it('an admin reset: the temporary password goes to the sign-in email; a separate notification email is told', async () => {
    const watch = `watch${seq}@notices.test`;
    const p = await activePerson({ notificationEmail: watch });
    expect((await admin(`/users/${p.id}/reset-password`)).status).toBe(202);
    expect(await templates(p.email)).toEqual(['temporary-password']);
    expect(await templates(watch)).toEqual(['password-changed']);
  });
});

describe('passwords pushed by an IdP', () => {
  it('are ignored while passwordSync is off (Okta sends a random one anyway): 200, nothing changes', async () => {
    const p = await activePerson();
    const res = await api.patch(`/Users/${p.id}`, ops({ op: 'replace', path: 'password', value: 'an-idp-pushed-password-1' }));
    expect(res.status).toBe(200);
    expect(res.body.password).toBeUndefined();
    expect((await browser(h.app).signIn(p.email, 'an-idp-pushed-password-1')).status).toBe(401);
  });

  it('become the person’s password with passwordSync on: on create, on PATCH (Okta’s forms), policy-checked', async () => {
    expect((await settings({ passwordSync: true })).body.passwordSync).toBe(true);
    const email = `synced${++seq}@notices.test`;
    const created = await api.post('/Users', { schemas: [USER], userName: email, password: 'first-synced-passphrase-9' });
    expect(created.status).toBe(201);
    expect(created.body[PROVISIO_USER].activationState).toBe('active');
    expect(await templates(email)).toEqual([]);
    const b = browser(h.app);
    // Signed in with the IdP's password; the privacy policy is still theirs to accept.
    expect((await b.signIn(email, 'first-synced-passphrase-9')).headers.location).toBe('/accept-privacy');
    // A path-less replace carrying the password (Okta's password sync).
    await api.patch(`/Users/${created.body.id}`, ops({ op: 'replace', value: { password: 'second-synced-passphrase-9' } })).expect(200);
    expect((await b.me()).status).toBe(401);
    expect((await browser(h.app).signIn(email, 'first-synced-passphrase-9')).status).toBe(401);
    expect((await browser(h.app).signIn(email, 'second-synced-passphrase-9')).status).toBe(303);
    expect(await templates(email)).toEqual(['password-changed']);
    // The same password again changes nothing and tells nobody.
    await api.put(`/Users/${created.body.id}`, { schemas: [USER], userName: email, password: 'second-synced-passphrase-9' }).expect(200);
    expect(await templates(email)).toEqual(['password-changed']);
    // The policy holds: a common password fails the write, and nothing changes.
    expectScimError(await api.patch(`/Users/${created.body.id}`, ops({ op: 'replace', path: 'password', value: 'password1234' })), 400, 'invalidValue');
    expect((await browser(h.app).signIn(email, 'second-synced-passphrase-9')).status).toBe(303);
    await settings({ passwordSync: false });
  });

  it('a pushed password is a change to the person: a sub-account credential pushes none to people it does not fully administer', async () => {
    expect((await settings({ passwordSync: true })).status).toBe(200);
    const p = await activePerson();
    const sub = await api.post('/Groups', { displayName: `Branch ${seq}`, members: [{ value: p.id }], 'urn:provisio:params:scim:schemas:extension:2.0:Group': { kind: 'subAccount' } });
    await api.post('/Groups', { displayName: `Elsewhere ${seq}`, members: [{ value: p.id }] }).expect(201);
    const token = (await admin('/tokens', { name: 'branch', scopes: ['scim'], subAccount: sub.body.id })).body.token;
    const bound = scim(h, { ...t, token });
    expectScimError(await bound.patch(`/Users/${p.id}`, ops({ op: 'replace', path: 'password', value: 'a-bound-pushed-passphrase-3' })), 403);
    expect((await browser(h.app).signIn(p.email, 'a-bound-pushed-passphrase-3')).status).toBe(401);
    await settings({ passwordSync: false });
  });
});

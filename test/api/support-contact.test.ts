// Whom to contact (issue 11, docs/admin-api.md "Settings"): the tenant setting supportContact
// ({name, email?, phone?}) round-trips through the admin API with an error per field, is shown on
// the front door's kept-out messages (in the person's language) and on the console's error pages,
// and is edited on the console's Settings page; unset, the pages name the organisation as before.
// Runs on PGlite and PostgreSQL.
import { Browser, browser, csrfOf } from '../support/browser';
import { activatedBrowser, GOOD_PASSWORD, primaryAdmin } from '../support/console';
import { adminApi, createTenant, expectJsonError, Harness, scim, startHarness, TestTenant, USER } from '../support/harness';

const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const CONTACT = { name: 'the Acme help desk', email: 'help@acme.test', phone: '+33 1 23 45 67 89' };

let h: Harness;
let t: TestTenant;
let admin: Browser;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
  t = await createTenant(h, 'Acme', `owner-${Date.now() % 100000}@acme.test`);
  admin = await primaryAdmin(h, t);
});
afterAll(async () => h.close());
afterEach(async () => {
  await adminApi(h, t).patch('/settings', { supportContact: null });
});

/** A person who signed in once and is now deactivated. */
async function deactivated(extra: Record<string, unknown> = {}): Promise<string> {
  const email = `kept${++seq}-${Date.now() % 100000}@acme.test`;
  const res = await scim(h, t).post('/Users', { schemas: [USER], userName: email, ...extra });
  expect(res.status).toBe(201);
  await activatedBrowser(h, email);
  const off = await scim(h, t).patch(`/Users/${res.body.id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'active', value: false }] });
  expect(off.status).toBe(200);
  return email;
}

describe('the supportContact setting', () => {
  it('round-trips: set, read, change one part, unset', async () => {
    const api = adminApi(h, t);
    expect((await api.get('/settings')).body.supportContact).toBeNull();
    const set = await api.patch('/settings', { supportContact: { ...CONTACT, name: '  the Acme help desk ' } });
    expect(set.status).toBe(200);
    expect(set.body.supportContact).toEqual(CONTACT);
    expect((await api.get('/settings')).body.supportContact).toEqual(CONTACT);
    const nameOnly = await api.patch('/settings', { supportContact: { name: 'Marie at Acme' } });
    expect(nameOnly.body.supportContact).toEqual({ name: 'Marie at Acme', email: null, phone: null });
    const audit = (await api.get('/audit?action=settings.update&limit=1')).body.entries[0];
    expect(audit.changes.set.supportContact).toEqual({ name: 'Marie at Acme', email: null, phone: null });
    expect((await api.patch('/settings', { supportContact: null })).body.supportContact).toBeNull();
  });

  it('refuses each bad part by its field and changes nothing', async () => {
    const api = adminApi(h, t);
    await api.patch('/settings', { supportContact: CONTACT });
    const cases: [unknown, string[]][] = [
      ['help desk', ['supportContact']],
      [{ email: 'help@acme.test' }, ['supportContact.name']],
      [{ name: 'x'.repeat(101) }, ['supportContact.name']],
      [{ name: 'Line\nbreak' }, ['supportContact.name']],
      [{ name: 'Desk', email: 'not an address' }, ['supportContact.email']],
      [{ name: 'Desk', phone: 'call me' }, ['supportContact.phone']],
      [{ name: 'Desk', phone: '1'.repeat(41) }, ['supportContact.phone']],
      [{ name: '', email: 'nope', phone: '??', fax: '1' }, ['supportContact.fax', 'supportContact.name', 'supportContact.email', 'supportContact.phone']],
    ];
    for (const [value, fields] of cases) {
      const res = await api.patch('/settings', { supportContact: value, language: 'fr' });
      expectJsonError(res, 400);
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([...fields].sort());
    }
    const now = (await api.get('/settings')).body;
    expect(now.supportContact).toEqual(CONTACT);
    expect(now.language).toBe('en');
  });

  it('is for tenant-wide credentials only', async () => {
    const api = adminApi(h, t);
    const sub = (await api.post('/sub-accounts', { name: `Contact ${++seq}` })).body.id;
    const token = (await api.post('/tokens', { name: 'bound', scopes: ['admin'], subAccount: sub })).body.token;
    expectJsonError(await adminApi(h, t, token).patch('/settings', { supportContact: CONTACT }), 403);
  });
});

describe('shown where someone is kept out', () => {
  it('the front door names the contact, with its address and number as links, in the person’s language', async () => {
    const en = await deactivated();
    const fr = await deactivated({ preferredLanguage: 'fr' });
    // Unset: the organisation is named, as before.
    const before = await browser(h.app).signIn(en, GOOD_PASSWORD);
    expect(before.status).toBe(401);
    expect(before.text).toContain('contact an administrator of Acme');
    expect(before.text).not.toContain('help@acme.test');

    await adminApi(h, t).patch('/settings', { supportContact: CONTACT });
    const page = await browser(h.app).signIn(en, GOOD_PASSWORD);
    expect(page.status).toBe(401);
    expect(page.text).toContain('Your account at Acme is deactivated');
    expect(page.text).toContain('If you need help or access, contact the Acme help desk.');
    expect(page.text).toContain('<a href="mailto:help@acme.test">help@acme.test</a>');
    expect(page.text).toContain('<a href="tel:+33123456789">+33 1 23 45 67 89</a>');
    expect(page.text).not.toContain('contact an administrator of Acme');

    const french = await browser(h.app).signIn(fr, GOOD_PASSWORD);
    expect(french.text).toContain('Votre compte chez Acme est désactivé');
    expect(french.text).toContain('contactez the Acme help desk.');
  });

  it('a wrong password or an unknown email shows no contact (it would tell who has an account here)', async () => {
    const en = await deactivated();
    await adminApi(h, t).patch('/settings', { supportContact: CONTACT });
    const res = await browser(h.app).signIn(en, 'not-the-password-at-all');
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('help@acme.test');
  });

  it("the console's error pages name the contact", async () => {
    expect((await admin.get('/console/no-such-page')).text).not.toContain('id="support-contact"');
    await adminApi(h, t).patch('/settings', { supportContact: CONTACT });
    const page = await admin.get('/console/no-such-page');
    expect(page.status).toBe(404);
    expect(page.text).toContain('id="support-contact"');
    expect(page.text).toContain('contact the Acme help desk');
  });
});

describe('the console Settings page', () => {
  const post = async (fields: Record<string, string>) => {
    const page = await admin.get('/console/settings');
    const current = Object.fromEntries([...page.text.matchAll(/<input id="f-(\w+)" name="\w+" type="[a-z]+" value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const form = new URLSearchParams({ _csrf: csrfOf(page.text), activationMode: 'activationEmail', language: 'en', ...current, ...fields });
    return admin.agent.post('/console/settings').type('form').send(form.toString());
  };

  it('saves whom to contact, shows a refused part beside its field, and unsets it when emptied', async () => {
    const page = await admin.get('/console/settings');
    expect(page.text).toContain('Whom to contact');
    expect(page.text).toContain('id="f-supportContactName"');
    const saved = await post({ supportContactName: 'the Acme help desk', supportContactEmail: 'help@acme.test', supportContactPhone: '' });
    expect(saved.status).toBe(303);
    expect((await adminApi(h, t).get('/settings')).body.supportContact).toEqual({ name: 'the Acme help desk', email: 'help@acme.test', phone: null });

    const bad = await post({ supportContactPhone: 'call me' });
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/id="f-supportContactPhone"[^>]*aria-invalid="true"/);
    expect(bad.text).toMatch(/id="f-supportContactPhone-error">[^<]*phone number/);
    expect(bad.text).toContain('value="call me"');
    expect((await adminApi(h, t).get('/settings')).body.supportContact.phone).toBeNull();

    const cleared = await post({ supportContactName: '', supportContactEmail: '', supportContactPhone: '' });
    expect(cleared.status).toBe(303);
    expect((await adminApi(h, t).get('/settings')).body.supportContact).toBeNull();
  });

  it('is in French for a French reader', async () => {
    const page = await admin.agent.get('/console/settings').set('Accept-Language', 'fr-FR,fr;q=0.9');
    expect(page.text).toContain('<html lang="fr">');
    expect(page.text).toContain('Qui contacter');
    expect(page.text).toContain('Téléphone (facultatif)');
  });
});

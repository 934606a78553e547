// The console's tenant-administration pages (issue 11): API tokens, audit log, settings, price
// lists, services, permission profiles, single sign-on, SCIM event streams. Each renders in English and French, shows
// a refused field's message beside the field keeping what was typed, asks before anything
// destructive, and does only what the admin API allows the person working (a sub-account admin
// is not offered the tenant-wide pages, and a forged request is refused by the API). Runs on
// PGlite and PostgreSQL.
import type { Browser } from '../support/browser';
import { activatedBrowser, primaryAdmin } from '../support/console';
import { startTestDns, TestDns } from '../support/dns-server';
import { adminApi, createTenant, GROUP, Harness, LOOPBACK_IDP_ENV, PROVISIO_GROUP, scim, startHarness, TestTenant, USER } from '../support/harness';
import { startTestIdp, TestIdp } from '../support/oidc-idp';

let h: Harness;
// SSO: an IdP and a DNS server of this file, both on 127.0.0.1 (the server reads TXT records
// through DNS_SERVERS; loopback issuers need the development settings).
let dns: TestDns;
let idp: TestIdp;
let t: TestTenant;
let admin: Browser;
let seq = 0;

beforeAll(async () => {
  dns = await startTestDns();
  idp = await startTestIdp();
  h = await startHarness({ env: { DNS_SERVERS: dns.address, ...LOOPBACK_IDP_ENV } });
  t = await createTenant(h, 'Acme Partners', `owner-${Date.now() % 100000}@acme.test`);
  admin = await primaryAdmin(h, t);
});
afterAll(async () => {
  await idp?.close();
  await h?.close();
  await dns?.close();
});

async function pendingUser(): Promise<{ id: string; email: string }> {
  const email = `person${++seq}-${Date.now() % 100000}@acme.test`;
  const res = await scim(h, t).post('/Users', { schemas: [USER], userName: email });
  expect(res.status).toBe(201);
  return { id: res.body.id, email };
}

async function subAccount(name: string, adminIds: string[]): Promise<string> {
  const res = await scim(h, t).post('/Groups', {
    schemas: [GROUP, PROVISIO_GROUP],
    displayName: name,
    members: adminIds.map((value) => ({ value })),
    [PROVISIO_GROUP]: { kind: 'subAccount', admins: adminIds.map((value) => ({ value })) },
  });
  if (res.status !== 201) throw new Error(`sub-account: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** The field's error paragraph, as the field partial renders it beside the field. */
const fieldError = (html: string, name: string) => new RegExp(`id="f-${name}"[^>]*aria-invalid="true"[\\s\\S]{0,400}?id="f-${name}-error">([^<]+)<`).exec(html)?.[1];
const inputValue = (html: string, name: string) => new RegExp(`id="f-${name}" name="${name}"[^>]* value="([^"]*)"`).exec(html)?.[1];
/** Pages the admin API refuses outright to a sub-account-bound person. */
const TENANT_WIDE_READS = ['/audit', '/settings', '/price-lists', '/sso', '/event-streams'];
/** Pages whose lists a bound person may read (they assign these to people) but not change. */
const TENANT_WIDE_WRITES: Array<[string, Record<string, string>]> = [
  ['/services', { key: 'forged', name: 'Forged' }],
  ['/permission-profiles', { key: 'forged', name: 'Forged' }],
];
const TENANT_WIDE = [...TENANT_WIDE_READS, ...TENANT_WIDE_WRITES.map(([p]) => p)];
const french = (b: Browser, path: string) => b.agent.get(path).set('Accept-Language', 'fr-FR,fr;q=0.9');

describe('API tokens', () => {
  it('renders in English and in French, listing every credential kind with its last use', async () => {
    await adminApi(h, t).post('/scim-clients', { name: `Entra ${++seq}`, scopes: ['scim'] });
    const en = await admin.get('/console/tokens');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>API tokens</h1>');
    expect(en.text).toContain('Initial token');
    expect(en.text).toContain(`Entra ${seq}`);
    expect(en.text).toContain('SCIM clients');
    // The initial token was just used by this test's calls: its last use shows.
    const fr = await french(admin, '/console/tokens');
    expect(fr.text).toContain('<html lang="fr">');
    expect(fr.text).toContain('<h1>Jetons d&#39;API</h1>');
  });

  it('a bad field is shown beside it, keeping what was typed; nothing is created', async () => {
    const before = (await adminApi(h, t).get('/tokens')).body.tokens.length;
    await admin.get('/console/tokens');
    const res = await admin.post('/console/tokens', { name: 'Okta <prod>', scopes: 'scim', expiresAt: '2001-01-01' });
    expect(res.status).toBe(400);
    expect(fieldError(res.text, 'expiresAt')).toMatch(/in the future/);
    expect(inputValue(res.text, 'name')).toBe('Okta &lt;prod&gt;');
    expect(inputValue(res.text, 'expiresAt')).toBe('2001-01-01');
    const none = await admin.post('/console/tokens', { name: 'No scope' });
    expect(fieldError(none.text, 'scopes') ?? /id="f-scopes-error">([^<]+)</.exec(none.text)?.[1]).toMatch(/choose at least 1/);
    expect((await adminApi(h, t).get('/tokens')).body.tokens.length).toBe(before);
  });

  it('shows the new token’s secret once, in the answer to the creation only, and the secret works', async () => {
    await admin.get('/console/tokens');
    const res = await admin.post('/console/tokens', { name: `Script ${++seq}`, scopes: 'admin', expiresAt: '2099-01-01' });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.location).toBeUndefined();
    const secret = /id="token-secret" class="secret">(pvs_[A-Za-z0-9_-]{43})</.exec(res.text)?.[1];
    expect(secret).toBeDefined();
    expect(res.text).toContain('shown this once');
    // It is a real token of the tenant.
    expect((await adminApi(h, t, secret!).get('/settings')).status).toBe(200);
    // Never again: the list page does not hold it.
    const again = await admin.get('/console/tokens');
    expect(again.text).not.toContain(secret!);
    expect(again.text).toContain(`Script ${seq}`);
    expect(again.text).not.toContain('id="token-secret"');
  });

  it('revoking asks first; only the confirmed request revokes', async () => {
    const made = await adminApi(h, t).post('/tokens', { name: `To revoke ${++seq}`, scopes: ['scim'] });
    await admin.get('/console/tokens');
    const ask = await admin.post(`/console/tokens/tokens/${made.body.id}/revoke`, {});
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(`Revoke “To revoke ${seq}”?`);
    expect(ask.text).toContain('name="confirm" value="yes"');
    expect((await adminApi(h, t).get(`/tokens/${made.body.id}`)).body.revokedAt).toBeNull();
    const done = await admin.post(`/console/tokens/tokens/${made.body.id}/revoke`, { confirm: 'yes' });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe('/console/tokens?notice=tokens.revoked');
    expect((await adminApi(h, t).get(`/tokens/${made.body.id}`)).body.revokedAt).not.toBeNull();
    expect((await admin.get(done.headers.location)).text).toContain('Revoked.');
  });
});

describe('Audit log', () => {
  it('renders in English and French, naming people by their sign-in email and tokens by their name', async () => {
    await adminApi(h, t).post('/tokens', { name: `Named ${++seq}`, scopes: ['scim'] });
    const en = await admin.get('/console/audit');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Audit log</h1>');
    expect(en.text).toContain('<code>token.create</code>');
    expect(en.text).toContain(`Token: Named ${seq}`);
    // Tokens are named, not shown by id.
    expect(en.text).toContain('Token: Initial token');
    const fr = await french(admin, '/console/audit');
    expect(fr.text).toContain('<h1>Journal d&#39;audit</h1>');
  });

  it('filters by action, by person, by target and by dates, a page at a time', async () => {
    const api = adminApi(h, t);
    for (let i = 0; i < 53; i++) expect((await api.post('/services', { key: `pack-${i}`, name: `Pack ${i}` })).status).toBe(201);
    const first = await admin.get('/console/audit?action=service.create');
    expect(first.status).toBe(200);
    expect(first.text.match(/<code>service\.create<\/code>/g)).toHaveLength(50);
    expect(first.text).not.toContain('<code>token.create</code>');
    const older = /href="(\/console\/audit\?action=service.create&amp;before=[^"]+)">Older entries</.exec(first.text)?.[1];
    expect(older).toBeDefined();
    const second = await admin.get(older!.replace(/&amp;/g, '&'));
    expect(second.text.match(/<code>service\.create<\/code>/g)).toHaveLength(3);
    expect(second.text).toContain('Newest entries');
    expect(second.text).not.toContain('Older entries');

    // By target (a service's key), and by the person who acted (their sign-in email).
    const byTarget = await admin.get('/console/audit?target=pack-7');
    expect(byTarget.text.match(/<code>service\.create<\/code>/g)).toHaveLength(1);
    await admin.get('/console/tokens');
    await admin.post('/console/tokens', { name: `By hand ${++seq}`, scopes: 'scim' });
    const byPerson = await admin.get(`/console/audit?actor=${encodeURIComponent(t.adminEmail)}`);
    expect(byPerson.text).toContain('<code>token.create</code>');
    expect(byPerson.text).not.toContain('<code>service.create</code>');
    expect(byPerson.text).toContain(`Person: ${t.adminEmail}`);

    // Dates: the last day is included; a range in the past holds nothing of today.
    const today = new Date().toISOString().slice(0, 10);
    expect((await admin.get(`/console/audit?action=service.create&from=${today}&to=${today}`)).text).toContain('<code>service.create</code>');
    expect((await admin.get('/console/audit?action=service.create&from=2020-01-01&to=2020-12-31')).text).toContain('No entries match.');
  });

  it('a bad filter is shown beside its field, keeping what was typed', async () => {
    const res = await admin.get('/console/audit?from=2026-13-45&action=user.delete');
    expect(res.status).toBe(400);
    expect(fieldError(res.text, 'from')).toMatch(/^must be a date-time/);
    expect(inputValue(res.text, 'from')).toBe('2026-13-45');
    expect(inputValue(res.text, 'action')).toBe('user.delete');
    const nobody = await admin.get('/console/audit?actor=nobody%40acme.test');
    expect(fieldError(nobody.text, 'actor')).toContain('nobody@acme.test');
  });
});

describe('Settings', () => {
  // A tenant of its own: the tenant's language, once stated, outranks the browser's (the other
  // tests read French pages through Accept-Language).
  let t: TestTenant;
  let admin: Browser;
  beforeAll(async () => {
    t = await createTenant(h, 'Settings Co', `owner-${Date.now() % 100000}@settings.test`);
    admin = await primaryAdmin(h, t);
  });

  it('renders in English and French with the tenant’s settings', async () => {
    const en = await admin.get('/console/settings');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Settings</h1>');
    expect(en.text).toMatch(/<option value="activationEmail" selected>/);
    const fr = await french(admin, '/console/settings');
    expect(fr.text).toContain('<h1>Paramètres</h1>');
  });

  it('saves what changed, group-kind rules included, and says so', async () => {
    await admin.get('/console/settings');
    const res = await admin.agent
      .post('/console/settings')
      .type('form')
      .send(
        new URLSearchParams([
          ['_csrf', /name="_csrf" value="([^"]+)"/.exec((await admin.get('/console/settings')).text)![1]],
          ['credentialsEmail', 'it@acme.test'],
          ['activationMode', 'generatedCredentials'],
          ['privacyPolicyVersion', '2026-12'],
          ['language', 'fr'],
          ['ruleKind', 'company'], ['ruleMatch', 'prefix'], ['ruleValue', 'CO-'],
          ['ruleKind', 'subAccount'], ['ruleMatch', 'pattern'], ['ruleValue', 'Dept * (EU)'],
        ]).toString(),
      );
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/console/settings?notice=settings.saved');
    expect((await adminApi(h, t).get('/settings')).body).toMatchObject({
      credentialsEmail: 'it@acme.test',
      activationMode: 'generatedCredentials',
      privacyPolicyVersion: '2026-12',
      language: 'fr',
      groupKindRules: [{ kind: 'company', prefix: 'CO-' }, { kind: 'subAccount', pattern: 'Dept * (EU)' }],
    });
    // Back to the defaults (empty fields are null for the API), so the other tests keep English mail.
    const back = await admin.post('/console/settings', { credentialsEmail: '', activationMode: 'activationEmail', privacyPolicyVersion: '', language: 'en' });
    expect(back.status).toBe(303);
    expect((await adminApi(h, t).get('/settings')).body).toMatchObject({ credentialsEmail: null, privacyPolicyVersion: null, language: 'en', groupKindRules: [] });
  });

  it('the tenant’s own privacy policy, as a link and as text, shown on /privacy; a bad link is refused beside its field', async () => {
    await admin.get('/console/settings');
    const bad = await admin.post('/console/settings', { privacyPolicyUrl: 'ftp://files.acme.test/policy', activationMode: 'activationEmail', language: 'en' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, 'privacyPolicyUrl')).toMatch(/^must be an absolute http or https URL/);
    expect(inputValue(bad.text, 'privacyPolicyUrl')).toBe('ftp://files.acme.test/policy');
    expect((await adminApi(h, t).get('/settings')).body.privacyPolicyUrl).toBeNull();

    await admin.get('/console/settings');
    const ok = await admin.post('/console/settings', { privacyPolicyUrl: 'https://acme.test/privacy', privacyPolicyText: 'We keep <only> what we need.', activationMode: 'activationEmail', language: 'en' });
    expect(ok.status).toBe(303);
    expect((await adminApi(h, t).get('/settings')).body).toMatchObject({ privacyPolicyUrl: 'https://acme.test/privacy', privacyPolicyText: 'We keep <only> what we need.' });
    const form = await admin.get('/console/settings');
    expect(form.text).toContain('We keep &lt;only&gt; what we need.</textarea>');
    const privacy = await admin.get('/privacy');
    expect(privacy.text).toContain('https://acme.test/privacy');
    expect(privacy.text).toContain('We keep &lt;only&gt; what we need.');

    await admin.get('/console/settings');
    await admin.post('/console/settings', { privacyPolicyUrl: '', privacyPolicyText: '', activationMode: 'activationEmail', language: 'en' });
    expect((await adminApi(h, t).get('/settings')).body).toMatchObject({ privacyPolicyUrl: null, privacyPolicyText: null });
  });

  it('a bad value is shown beside its field, keeping what was typed; nothing changes', async () => {
    const before = (await adminApi(h, t).get('/settings')).body;
    await admin.get('/console/settings');
    const res = await admin.post('/console/settings', { credentialsEmail: 'not an address', activationMode: 'activationEmail', privacyPolicyVersion: 'v9', language: 'en', ruleKind: 'company', ruleMatch: 'prefix', ruleValue: 'CO-' });
    expect(res.status).toBe(400);
    expect(fieldError(res.text, 'credentialsEmail')).toMatch(/^must be an email address mail can go to/);
    expect(inputValue(res.text, 'credentialsEmail')).toBe('not an address');
    expect(inputValue(res.text, 'privacyPolicyVersion')).toBe('v9');
    expect(res.text).toContain('name="ruleValue" value="CO-"');
    expect((await adminApi(h, t).get('/settings')).body).toEqual(before);
  });
});

describe('the admin API’s field errors in the reader’s language', () => {
  it('shows a French message beside its field, by the error’s code and with its limit; nothing is created', async () => {
    const other = await createTenant(h, 'Lune SARL', `owner-fr-${Date.now() % 100000}@lune.test`);
    const fr = await primaryAdmin(h, other);
    await fr.get('/console/price-lists');
    expect((await fr.post('/language', { lang: 'fr', back: '/console/price-lists' })).status).toBe(303);
    const before = (await adminApi(h, other).get('/price-lists')).body.priceLists.length;
    const long = await fr.post('/console/price-lists', { name: 'x'.repeat(201) });
    expect(long.status).toBe(400);
    expect(long.headers['content-language']).toBe('fr');
    // The API said maxLength with limit 200 (its English: "must be at most 200 characters").
    expect(fieldError(long.text, 'name')).toBe('doit compter au plus 200 caractères');
    expect(inputValue(long.text, 'name')).toBe('x'.repeat(201));
    await fr.get('/console/price-lists');
    const taken = await fr.post('/console/price-lists', { name: 'standard' });
    expect(taken.status).toBe(409);
    expect(fieldError(taken.text, 'name')).toBe('est déjà utilisé');
    expect((await adminApi(h, other).get('/price-lists')).body.priceLists).toHaveLength(before);
    // The same refusal in English is the English message of the code.
    await admin.get('/console/price-lists');
    expect(fieldError((await admin.post('/console/price-lists', { name: 'x'.repeat(201) })).text, 'name')).toBe('must be at most 200 characters');
  });
});

describe('Price lists', () => {
  const lists = async () => (await adminApi(h, t).get('/price-lists')).body.priceLists as Array<{ id: string; name: string; default: boolean }>;

  it('renders in English and French', async () => {
    const en = await admin.get('/console/price-lists');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Price lists</h1>');
    expect(en.text).toContain('Standard');
    expect((await french(admin, '/console/price-lists')).text).toContain('<h1>Listes de prix</h1>');
  });

  it('creates, renames and makes a list the default (exactly one default)', async () => {
    await admin.get('/console/price-lists');
    const made = await admin.post('/console/price-lists', { name: 'Gold partners' });
    expect(made.status).toBe(303);
    expect((await admin.get(made.headers.location)).text).toContain('Price list created.');
    const gold = (await lists()).find((l) => l.name === 'Gold partners')!;
    await admin.get(`/console/price-lists/${gold.id}`);
    expect((await admin.post(`/console/price-lists/${gold.id}`, { name: 'Gold' })).status).toBe(303);
    await admin.get('/console/price-lists');
    expect((await admin.post(`/console/price-lists/${gold.id}/default`, {})).status).toBe(303);
    const now = await lists();
    expect(now.filter((l) => l.default).map((l) => l.name)).toEqual(['Gold']);
    // The default offers no Delete; the others do.
    const page = await admin.get('/console/price-lists');
    expect(page.text).not.toContain(`/console/price-lists/${gold.id}/delete`);
    expect(page.text).toContain(`/console/price-lists/${now.find((l) => l.name === 'Standard')!.id}/delete`);
    // Back to Standard, for the tests that follow.
    expect((await admin.post(`/console/price-lists/${now.find((l) => l.name === 'Standard')!.id}/default`, {})).status).toBe(303);
  });

  it('a bad or taken name is shown beside the field, keeping what was typed', async () => {
    await admin.get('/console/price-lists');
    const taken = await admin.post('/console/price-lists', { name: 'standard' });
    expect(taken.status).toBe(409);
    expect(fieldError(taken.text, 'name')).toMatch(/already in use/);
    expect(inputValue(taken.text, 'name')).toBe('standard');
    const long = await admin.post('/console/price-lists', { name: 'x'.repeat(201) });
    expect(long.status).toBe(400);
    expect(fieldError(long.text, 'name')).toMatch(/at most 200/);
    expect(inputValue(long.text, 'name')).toBe('x'.repeat(201));
    const gold = (await lists()).find((l) => l.name === 'Gold')!;
    await admin.get(`/console/price-lists/${gold.id}`);
    const blank = await admin.post(`/console/price-lists/${gold.id}`, { name: '  ' });
    expect(blank.status).toBe(400);
    expect(fieldError(blank.text, 'name')).toBe('is required');
  });

  it('deleting asks first and says the users move to the default', async () => {
    const list = (await adminApi(h, t).post('/price-lists', { name: `Old ${++seq}` })).body;
    const user = await pendingUser();
    await adminApi(h, t).patch(`/users/${user.id}`, { priceList: list.id });
    await admin.get('/console/price-lists');
    const ask = await admin.post(`/console/price-lists/${list.id}/delete`, {});
    expect(ask.status).toBe(200);
    expect(ask.text).toContain(`Its users move to the default price list, “Standard”.`);
    expect((await lists()).some((l) => l.id === list.id)).toBe(true);
    const done = await admin.post(`/console/price-lists/${list.id}/delete`, { confirm: 'yes' });
    expect(done.status).toBe(303);
    expect((await lists()).some((l) => l.id === list.id)).toBe(false);
    expect((await adminApi(h, t).get(`/users/${user.id}/price-list`)).body.source).toBe('default');
    // A forged delete of the default is the admin API's refusal, as a page.
    const standard = (await lists()).find((l) => l.default)!;
    await admin.get('/console/price-lists');
    const forged = await admin.post(`/console/price-lists/${standard.id}/delete`, { confirm: 'yes' });
    expect(forged.status).toBe(409);
    expect((await lists()).some((l) => l.id === standard.id)).toBe(true);
  });
});

describe('Services', () => {
  it('renders in English and French', async () => {
    const en = await admin.get('/console/services');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Services</h1>');
    expect((await french(admin, '/console/services')).text).toContain('Créer un service');
  });

  it('creates and changes a service; bad fields are shown beside them, keeping what was typed', async () => {
    await admin.get('/console/services');
    const bad = await admin.post('/console/services', { key: 'Not a key!', name: 'CRM seat', description: 'Sales <team>' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, 'key')).toMatch(/^must be a slug/);
    expect(inputValue(bad.text, 'name')).toBe('CRM seat');
    expect(inputValue(bad.text, 'description')).toBe('Sales &lt;team&gt;');
    const made = await admin.post('/console/services', { key: 'crm', name: 'CRM seat', description: '' });
    expect(made.status).toBe(303);
    const dup = await admin.post('/console/services', { key: 'CRM', name: 'Again', description: '' });
    expect(dup.status).toBe(409);
    expect(fieldError(dup.text, 'key')).toBeDefined();
    await admin.get('/console/services/crm');
    const blankName = await admin.post('/console/services/crm', { name: '', description: 'Kept' });
    expect(blankName.status).toBe(400);
    expect(fieldError(blankName.text, 'name')).toBe('is required');
    expect(inputValue(blankName.text, 'description')).toBe('Kept');
    expect((await admin.post('/console/services/crm', { name: 'CRM', description: 'Sales' })).status).toBe(303);
    expect((await adminApi(h, t).get('/services/crm')).body).toMatchObject({ name: 'CRM', description: 'Sales' });
  });

  it('deleting asks first, then takes the service from its users', async () => {
    await adminApi(h, t).post('/services', { key: 'backup', name: 'Backup' });
    await admin.get('/console/services');
    const ask = await admin.post('/console/services/backup/delete', {});
    expect(ask.text).toContain('taken from every user who has it');
    expect((await adminApi(h, t).get('/services/backup')).status).toBe(200);
    expect((await admin.post('/console/services/backup/delete', { confirm: 'yes' })).status).toBe(303);
    expect((await adminApi(h, t).get('/services/backup')).status).toBe(404);
  });
});

describe('Permission profiles', () => {
  it('renders in English and French, saying that Enterprise grants every permission', async () => {
    const en = await admin.get('/console/permission-profiles');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Permission profiles</h1>');
    expect(en.text).toContain('“Enterprise” grants every permission');
    expect(en.text).toContain('Every permission');
    // The catalogue's permissions are offered as boxes.
    expect(en.text).toContain('name="permissions" value="servers.view"');
    const fr = await french(admin, '/console/permission-profiles');
    expect(fr.text).toContain('<h1>Profils de droits</h1>');
    expect(fr.text).toContain('« Enterprise » accorde tous les droits');
    // Enterprise's own page: no permission boxes, the warning instead.
    const ent = await admin.get('/console/permission-profiles/enterprise');
    expect(ent.text).not.toContain('name="permissions"');
    expect(ent.text).toContain('“Enterprise” grants every permission');
  });

  it('creates with permissions from the catalogue, changes it and makes it the default; bad fields stay beside them', async () => {
    await admin.get('/console/permission-profiles');
    const bad = await admin.post('/console/permission-profiles', { key: '', name: 'Support desk', permissions: 'support.open' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, 'key')).toMatch(/^must be a slug/);
    expect(inputValue(bad.text, 'name')).toBe('Support desk');
    expect(bad.text).toMatch(/name="permissions" value="support.open" checked/);
    const body = new URLSearchParams([
      ['_csrf', /name="_csrf" value="([^"]+)"/.exec(bad.text)![1]],
      ['key', 'support'], ['name', 'Support desk'], ['description', ''],
      ['permissions', 'support.open'], ['permissions', 'servers.view'],
    ]);
    const made = await admin.agent.post('/console/permission-profiles').type('form').send(body.toString());
    expect(made.status).toBe(303);
    expect((await adminApi(h, t).get('/permission-profiles/support')).body.permissions).toEqual(['servers.view', 'support.open']);
    await admin.get('/console/permission-profiles/support');
    expect((await admin.post('/console/permission-profiles/support', { name: 'Support', description: 'First line', permissions: 'billing.view' })).status).toBe(303);
    expect((await adminApi(h, t).get('/permission-profiles/support')).body).toMatchObject({ name: 'Support', permissions: ['billing.view'] });
    await admin.get('/console/permission-profiles');
    expect((await admin.post('/console/permission-profiles/support/default', {})).status).toBe(303);
    expect((await adminApi(h, t).get('/permission-profiles/support')).body.default).toBe(true);
    // Enterprise's name can change; the form sends no permissions for it.
    await admin.get('/console/permission-profiles/enterprise');
    expect((await admin.post('/console/permission-profiles/enterprise', { name: 'Enterprise', description: 'All', builtIn: 'yes' })).status).toBe(303);
    await admin.get('/console/permission-profiles');
    expect((await admin.post('/console/permission-profiles/enterprise/default', {})).status).toBe(303);
  });

  it('deleting asks first and says its people move to the default', async () => {
    await adminApi(h, t).post('/permission-profiles', { key: 'temp', name: 'Temporary', permissions: [] });
    await admin.get('/console/permission-profiles');
    const ask = await admin.post('/console/permission-profiles/temp/delete', {});
    expect(ask.text).toContain('move to the default profile, “Enterprise”');
    expect((await adminApi(h, t).get('/permission-profiles/temp')).status).toBe(200);
    expect((await admin.post('/console/permission-profiles/temp/delete', { confirm: 'yes' })).status).toBe(303);
    expect((await adminApi(h, t).get('/permission-profiles/temp')).status).toBe(404);
    const page = await admin.get('/console/permission-profiles');
    expect(page.text).not.toContain('/console/permission-profiles/enterprise/delete');
  });
});

describe('Single sign-on', () => {
  const SECRET = 'client-secret-never-shown-42';

  it('renders in English and French', async () => {
    const en = await admin.get('/console/sso');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Single sign-on</h1>');
    expect((await french(admin, '/console/sso')).text).toContain('<h1>Authentification unique</h1>');
  });

  it('a bad field is shown beside it, keeping what was typed but never the secret', async () => {
    await admin.get('/console/sso');
    const bad = await admin.post('/console/sso', { issuer: 'not a url', clientId: 'portal', clientSecret: SECRET, emailDomains: 'sso-one.test' });
    expect(bad.status).toBe(400);
    expect(fieldError(bad.text, 'issuer')).toMatch(/issuer must be an absolute URL/);
    expect(inputValue(bad.text, 'clientId')).toBe('portal');
    expect(inputValue(bad.text, 'emailDomains')).toBe('sso-one.test');
    expect(bad.text).not.toContain(SECRET);
    const publicDomain = await admin.post('/console/sso', { issuer: idp.issuer, clientId: 'portal', clientSecret: SECRET, emailDomains: 'gmail.com' });
    expect(publicDomain.status).toBe(400);
    expect(fieldError(publicDomain.text, 'emailDomains')).toMatch(/public email domain/);
    expect(publicDomain.text).not.toContain(SECRET);
    expect((await adminApi(h, t).get('/sso-connections')).body.ssoConnections).toEqual([]);
  });

  it('creates a connection, shows the TXT record per domain, proves it with "Check now", requires SSO after confirming, changes and deletes it', async () => {
    await admin.get('/console/sso');
    // A forged requireSso on creation is ignored: SSO is required only through the confirmed switch.
    const made = await admin.post('/console/sso', { issuer: idp.issuer, clientId: 'portal', clientSecret: SECRET, emailDomains: 'sso-one.test, sso-two.test', requireSso: 'yes' });
    expect(made.status).toBe(303);
    const conn = (await adminApi(h, t).get('/sso-connections')).body.ssoConnections[0];
    expect(conn.requireSso).toBe(false);
    const record = conn.domains[0].record;
    let page = await admin.get('/console/sso');
    expect(page.text).toContain(record.name);
    expect(page.text).toContain(record.value);
    expect(page.text).toContain(conn.redirectUri);
    expect(page.text).not.toContain(SECRET);

    // Check now, before the record is published: the API's words beside the domain.
    const early = await admin.post(`/console/sso/${conn.id}/domains/sso-one.test/verify`, {});
    expect(early.status).toBe(400);
    expect(early.text).toMatch(/id="verify-0-sso-one.test" role="alert">[^<]+</);
    dns.setTxt(record.name, [record.value]);
    const proven = await admin.post(`/console/sso/${conn.id}/domains/sso-one.test/verify`, {});
    expect(proven.status).toBe(303);
    page = await admin.get(proven.headers.location);
    expect(page.text).toContain('Domain proven.');
    expect((await adminApi(h, t).get(`/sso-connections/${conn.id}`)).body.domains[0].verified).toBe(true);

    // Require SSO: confirmed first.
    const ask = await admin.post(`/console/sso/${conn.id}/require`, { requireSso: 'yes' });
    expect(ask.text).toContain('their passwords here stop working');
    expect((await adminApi(h, t).get(`/sso-connections/${conn.id}`)).body.requireSso).toBe(false);
    expect((await admin.post(`/console/sso/${conn.id}/require`, { requireSso: 'yes', confirm: 'yes' })).status).toBe(303);
    expect((await adminApi(h, t).get(`/sso-connections/${conn.id}`)).body.requireSso).toBe(true);
    await admin.get('/console/sso');
    expect((await admin.post(`/console/sso/${conn.id}/require`, { requireSso: 'no' })).status).toBe(303);
    expect((await adminApi(h, t).get(`/sso-connections/${conn.id}`)).body.requireSso).toBe(false);

    // Change: the secret field is empty (kept); a bad domain stays beside its field.
    const edit = await admin.get(`/console/sso/${conn.id}`);
    expect(inputValue(edit.text, 'clientSecret')).toBe('');
    expect(inputValue(edit.text, 'emailDomains')).toBe('sso-one.test, sso-two.test');
    const badEdit = await admin.post(`/console/sso/${conn.id}`, { issuer: idp.issuer, clientId: 'portal-2', clientSecret: SECRET, emailDomains: 'not/a/domain' });
    expect(badEdit.status).toBe(400);
    expect(fieldError(badEdit.text, 'emailDomains')).toMatch(/not a domain name/);
    expect(inputValue(badEdit.text, 'clientId')).toBe('portal-2');
    expect(badEdit.text).not.toContain(SECRET);
    expect((await admin.post(`/console/sso/${conn.id}`, { issuer: idp.issuer, clientId: 'portal-2', clientSecret: '', emailDomains: 'sso-one.test' })).status).toBe(303);
    expect((await adminApi(h, t).get(`/sso-connections/${conn.id}`)).body).toMatchObject({ clientId: 'portal-2', emailDomains: ['sso-one.test'] });

    // Delete: confirmed first.
    await admin.get('/console/sso');
    const del = await admin.post(`/console/sso/${conn.id}/delete`, {});
    expect(del.text).toContain('will no longer sign in through');
    expect((await adminApi(h, t).get(`/sso-connections/${conn.id}`)).status).toBe(200);
    expect((await admin.post(`/console/sso/${conn.id}/delete`, { confirm: 'yes' })).status).toBe(303);
    expect((await adminApi(h, t).get(`/sso-connections/${conn.id}`)).status).toBe(404);
  });
});

describe('Event streams', () => {
  const events = (html: string) => /id="f-events-error">([^<]+)</.exec(html)?.[1];

  it('renders in English and French', async () => {
    const en = await admin.get('/console/event-streams');
    expect(en.status).toBe(200);
    expect(en.text).toContain('<h1>Event streams</h1>');
    expect(en.text).toContain('href="/console/event-streams"');
    const fr = await french(admin, '/console/event-streams');
    expect(fr.text).toContain('<h1>Flux d’événements</h1>');
    expect(fr.text).toContain('Créer un flux d’événements');
  });

  it('refuses a stream without events or a push stream without an endpoint beside the field, keeping what was typed', async () => {
    await admin.get('/console/event-streams');
    const none = await admin.post('/console/event-streams', { name: 'Nothing <at all>', delivery: 'poll', form: 'notice' });
    expect(none.status).toBe(400);
    expect(events(none.text)).toBeTruthy();
    expect(inputValue(none.text, 'name')).toBe('Nothing &lt;at all&gt;');
    const push = await admin.post('/console/event-streams', { name: 'Push', delivery: 'push', endpointUrl: '', events: ['create', 'delete'], form: 'full' });
    expect(push.status).toBe(400);
    expect(fieldError(push.text, 'endpointUrl')).toBeTruthy();
    expect(push.text).toMatch(/name="delivery" value="push" checked/);
    expect(push.text).toMatch(/name="events" value="delete" checked/);
    expect(push.text).not.toMatch(/name="events" value="patch" checked/);
    expect(push.text).toMatch(/name="form" value="full" checked/);
    expect((await adminApi(h, t).get('/event-streams')).body.eventStreams).toEqual([]);
  });

  it('creates a polling stream, shows its URL and backlog, pauses and resumes it, and asks before deleting it with what it holds', async () => {
    await admin.get('/console/event-streams');
    const made = await admin.post('/console/event-streams', { name: 'Product sync', delivery: 'poll', events: ['create', 'patch', 'delete'], form: 'notice' });
    expect(made.status).toBe(303);
    const [stream] = (await adminApi(h, t).get('/event-streams')).body.eventStreams;
    expect(stream).toMatchObject({ name: 'Product sync', delivery: 'poll', events: ['create', 'patch', 'delete'], form: 'notice', state: 'enabled', pending: 0 });
    expect(made.headers.location).toBe(`/console/event-streams/${stream.id}?notice=event-streams.created`);
    const page = await admin.get(made.headers.location);
    expect(page.text).toContain('Event stream created.');
    expect(page.text).toContain(stream.pollUrl);
    // Two changes wait in the stream; the list and the page say so.
    await pendingUser();
    await pendingUser();
    expect((await admin.get('/console/event-streams')).text).toMatch(/data-label="Waiting">2</);
    const paused = await admin.post(`/console/event-streams/${stream.id}/state`, { state: 'paused' });
    expect(paused.status).toBe(303);
    expect((await adminApi(h, t).get(`/event-streams/${stream.id}`)).body.state).toBe('paused');
    expect((await admin.get(`/console/event-streams/${stream.id}`)).text).toContain('This stream is paused');
    await admin.post(`/console/event-streams/${stream.id}/state`, { state: 'enabled' });
    expect((await adminApi(h, t).get(`/event-streams/${stream.id}`)).body.state).toBe('enabled');
    const ask = await admin.post(`/console/event-streams/${stream.id}/delete`, {});
    expect(ask.text).toContain('with the 2 events still waiting in it');
    expect((await adminApi(h, t).get(`/event-streams/${stream.id}`)).status).toBe(200);
    const fr = await admin.agent.post(`/console/event-streams/${stream.id}/delete`).set('Accept-Language', 'fr').type('form').send({ _csrf: (await admin.get('/console/event-streams')).text.match(/name="_csrf" value="([^"]+)"/)![1] });
    expect(fr.text).toContain('avec les 2 événements qui l’attendent encore');
    expect((await admin.post(`/console/event-streams/${stream.id}/delete`, { confirm: 'yes' })).status).toBe(303);
    expect((await adminApi(h, t).get(`/event-streams/${stream.id}`)).status).toBe(404);
    // Another tenant's stream id is not found here.
    const other = await createTenant(h, 'Other streams');
    const theirs = (await adminApi(h, other).post('/event-streams', { name: 'Theirs', delivery: 'poll', events: ['create'], form: 'notice' })).body.id;
    expect((await admin.get(`/console/event-streams/${theirs}`)).status).toBe(404);
  });
});

describe('a sub-account admin', () => {
  let sub: Browser;
  let dept: string;
  beforeAll(async () => {
    const boss = await pendingUser();
    dept = await subAccount(`Dept ${seq}`, [boss.id]);
    sub = await activatedBrowser(h, boss.email);
  });


  it('is not offered the tenant-wide pages, and a forged request is refused by the admin API', async () => {
    const page = await sub.get('/console/tokens');
    expect(page.text).toContain('href="/console/tokens"');
    for (const path of TENANT_WIDE) expect(page.text).not.toContain(`href="/console${path}"`);
    for (const path of TENANT_WIDE_READS) {
      const res = await sub.get(`/console${path}`);
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.text).toContain('needs a tenant-wide credential');
    }
    for (const [path, fields] of TENANT_WIDE_WRITES) {
      await sub.get('/console/tokens');
      const res = await sub.post(`/console${path}`, fields);
      expect([path, res.status]).toEqual([path, 403]);
      expect(res.text).toContain('needs a tenant-wide credential');
      expect((await adminApi(h, t).get(`${path}/forged`)).status).toBe(404);
    }
    // A forged settings change and price list are refused too, and change nothing.
    await sub.get('/console/tokens');
    expect((await sub.post('/console/settings', { language: 'fr', activationMode: 'activationEmail' })).status).toBe(403);
    expect((await sub.post('/console/price-lists', { name: 'Forged list' })).status).toBe(403);
    expect((await adminApi(h, t).get('/settings')).body.language).toBe('en');
    expect((await adminApi(h, t).get('/price-lists')).body.priceLists.some((l: { name: string }) => l.name === 'Forged list')).toBe(false);
  });

  it('works with their sub-account’s tokens only, and creates tokens bound to it', async () => {
    const page = await sub.get('/console/tokens');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('Initial token');
    expect(page.text).not.toContain('id="f-subAccount"');
    const res = await sub.post('/console/tokens', { name: 'Dept script', scopes: 'scim' });
    expect(res.status).toBe(201);
    const listed = (await adminApi(h, t).get('/tokens')).body.tokens.find((k: { name: string }) => k.name === 'Dept script');
    expect(listed.subAccount).toBe(dept);
  });
});

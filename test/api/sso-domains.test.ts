// Email domains route /login only after DNS proof (issue 9 point 7; docs/sso.md "Proving your
// domains"). The server reads `_provisio-challenge.<domain>` TXT through DNS_SERVERS, here a DNS
// server of this file on 127.0.0.1 (test/support/dns-server.ts). Public mail domains can never be
// claimed; an unproven claim blocks nobody and routes only the claiming tenant's own users;
// proven domains are exclusive across tenants; claims made before migration 0010 start unproven.
import * as m0010 from '../../migrations/0010_sso_policy';
import { browser } from '../support/browser';
import { startTestDns, TestDns } from '../support/dns-server';
import { createTenant, ERROR, Harness, LOOPBACK_IDP_ENV, scim, startHarness, TestTenant, USER } from '../support/harness';
import { startTestIdp, TestIdp } from '../support/oidc-idp';
import request from 'supertest';

let h: Harness;
let dns: TestDns;
let idp: TestIdp;
let owner: TestTenant;
let squatter: TestTenant;
let third: TestTenant;

beforeAll(async () => {
  dns = await startTestDns();
  h = await startHarness({ env: { DNS_SERVERS: dns.address, ...LOOPBACK_IDP_ENV } });
  owner = await createTenant(h, 'Owner', 'boss@owner-admin.test');
  squatter = await createTenant(h, 'Squatter', 'boss@squatter-admin.test');
  third = await createTenant(h, 'Third', 'boss@third-admin.test');
  idp = await startTestIdp();
});
afterAll(async () => {
  await idp?.close();
  await h?.close();
  await dns?.close();
});

const api = (t: TestTenant) => ({
  get: (p: string) => h.http.get(`/api/v1${p}`).set('Authorization', `Bearer ${t.token}`),
  post: (p: string, body?: unknown) => h.http.post(`/api/v1${p}`).set('Authorization', `Bearer ${t.token}`).send((body ?? {}) as object),
  patch: (p: string, body: unknown) => h.http.patch(`/api/v1${p}`).set('Authorization', `Bearer ${t.token}`).send(body as object),
});

function expectJsonError(res: request.Response, status: number, scimType?: string, detail?: RegExp) {
  expect({ status: res.status, schemas: res.body.schemas }).toEqual({ status, schemas: [ERROR] });
  if (scimType) expect(res.body.scimType).toBe(scimType);
  if (detail) expect(res.body.detail).toMatch(detail);
}

let n = 0;
async function connect(t: TestTenant, domains: string[]) {
  const res = await api(t).post('/sso-connections', { issuer: idp.issuer, clientId: `c${++n}`, clientSecret: 'secret-0123456789', emailDomains: domains });
  if (res.status !== 201) throw new Error(`connection: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; domains: { domain: string; verified: boolean; verifiedAt: string | null; record: { name: string; type: string; value: string } }[] };
}

const verify = (t: TestTenant, connectionId: string, domain: string) => api(t).post(`/sso-connections/${connectionId}/domains/${domain}/verify`);

/** Email first at /login: where the page sends this address. */
async function routeOf(email: string): Promise<string> {
  const b = browser(h.app);
  await b.get('/login');
  const res = await b.post('/login', { email });
  if (res.status === 303) return res.headers.location;
  expect(res.status).toBe(200);
  expect(res.text).toContain('name="password"');
  return 'password';
}
const startOf = (connectionId: string, email: string) => `/login/oidc/${connectionId}/start?login_hint=${encodeURIComponent(email)}`;

describe('proving a domain with a DNS TXT record', () => {
  it('a new claim is unproven and answers the record to add, per tenant and domain; emailDomains keeps working', async () => {
    const c = await connect(owner, ['proof.test', 'proof2.test']);
    expect(c.domains).toEqual([
      { domain: 'proof.test', verified: false, verifiedAt: null, record: { name: '_provisio-challenge.proof.test', type: 'TXT', value: expect.stringMatching(/^provisio-domain-verification=[\w-]{43}$/) } },
      { domain: 'proof2.test', verified: false, verifiedAt: null, record: { name: '_provisio-challenge.proof2.test', type: 'TXT', value: expect.stringMatching(/^provisio-domain-verification=[\w-]{43}$/) } },
    ]);
    expect(c.domains[0].record.value).not.toBe(c.domains[1].record.value);
    expect((await api(owner).get(`/sso-connections/${c.id}`).expect(200)).body).toMatchObject({ emailDomains: ['proof.test', 'proof2.test'], domains: c.domains });
  });

  it('verify: 400 in words when the record is missing, carries another value or the resolver cannot answer; 200 once published, audited', async () => {
    const c = await connect(owner, ['verify.test']);
    const record = c.domains[0].record;
    const missing = await verify(owner, c.id, 'verify.test');
    expectJsonError(missing, 400, 'invalidValue', /No TXT record was found at _provisio-challenge\.verify\.test/);
    dns.setTxt(record.name, ['provisio-domain-verification=someone-elses-value', 'v=spf1 -all']);
    expectJsonError(await verify(owner, c.id, 'verify.test'), 400, 'invalidValue', /does not carry the expected value \(2 records found\)\. Its value must be exactly provisio-domain-verification=/);
    dns.failing = true;
    try {
      const down = await verify(owner, c.id, 'verify.test');
      expectJsonError(down, 400, 'invalidValue', /The DNS could not be asked just now/);
      expect(down.body.detail).not.toMatch(/SERVFAIL|ECONN|127\.0\.0\.1/);
    } finally {
      dns.failing = false;
    }
    expect((await api(owner).get(`/sso-connections/${c.id}`).expect(200)).body.domains[0].verified).toBe(false);
    expect(dns.questions).toContain('TXT _provisio-challenge.verify.test');

    // Published (among other records): proven.
    dns.setTxt(record.name, ['v=spf1 -all', record.value]);
    const ok = await verify(owner, c.id, 'VERIFY.test');
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ domain: 'verify.test', verified: true, verifiedAt: expect.any(String), record });
    expect((await api(owner).get(`/sso-connections/${c.id}`).expect(200)).body.domains[0]).toEqual(ok.body);
    const audit = await api(owner).get('/audit?action=ssoConnection.domain.verify').expect(200);
    expect(audit.body.entries[0]).toMatchObject({ target: { type: 'SsoConnection', id: c.id }, changes: { domain: 'verify.test' } });
    // Asking again answers the same state.
    expect((await verify(owner, c.id, 'verify.test').expect(200)).body).toEqual(ok.body);
    // A domain the connection does not claim, another tenant's connection: 404.
    expectJsonError(await verify(owner, c.id, 'other.test'), 404);
    expectJsonError(await verify(third, c.id, 'verify.test'), 404);
  });

  it('public mail domains can never be claimed (400 invalidValue), on create and on change', async () => {
    for (const domain of ['gmail.com', 'Outlook.com', 'hotmail.com', 'yahoo.com', 'icloud.com', 'proton.me', 'gmx.de']) {
      const res = await api(owner).post('/sso-connections', { issuer: idp.issuer, clientId: 'c', clientSecret: 's', emailDomains: ['mine.test', domain] });
      expectJsonError(res, 400, 'invalidValue', new RegExp(`"${domain.toLowerCase().replace('.', '\\.')}" is a public email domain`));
    }
    const c = await connect(owner, ['public-patch.test']);
    expectJsonError(await api(owner).patch(`/sso-connections/${c.id}`, { emailDomains: ['public-patch.test', 'gmail.com'] }), 400, 'invalidValue');
    expect(await h.owner((db) => db('sso_domains').whereIn('domain', ['gmail.com', 'mine.test']))).toEqual([]);
  });
});

describe('who a domain belongs to', () => {
  let squat: Awaited<ReturnType<typeof connect>>;
  let real: Awaited<ReturnType<typeof connect>>;

  it("an unproven claim does not keep the owner out; a proven domain is the prover's alone (409 that names nobody)", async () => {
    squat = await connect(squatter, ['acme-corp.test']);
    real = await connect(owner, ['acme-corp.test']);
    // The squatter cannot prove it: the owner's DNS carries the owner's value only.
    dns.setTxt('_provisio-challenge.acme-corp.test', [real.domains[0].record.value]);
    expectJsonError(await verify(squatter, squat.id, 'acme-corp.test'), 400, 'invalidValue', /does not carry the expected value/);
    expect((await verify(owner, real.id, 'acme-corp.test').expect(200)).body.verified).toBe(true);
    // Now nobody else claims it, and the squatter cannot prove it even with its value published too.
    const late = await api(third).post('/sso-connections', { issuer: idp.issuer, clientId: 'late', clientSecret: 's', emailDomains: ['acme-corp.test'] });
    expectJsonError(late, 409, 'uniqueness', /"acme-corp\.test" is already used by another SSO connection/);
    expect(late.body.detail).not.toMatch(/Owner/);
    expect(late.body.detail).not.toContain(owner.id);
    dns.setTxt('_provisio-challenge.acme-corp.test', [real.domains[0].record.value, squat.domains[0].record.value]);
    expectJsonError(await verify(squatter, squat.id, 'acme-corp.test'), 409, 'uniqueness');
    expect(await h.owner((db) => db('sso_domains').where({ domain: 'acme-corp.test' }).whereNotNull('verified_at').select('tenant_id'))).toEqual([{ tenant_id: owner.id }]);
  });

  it('/login: a proven domain routes everyone to its connection; an unproven claim only the claiming tenant\'s own users, never anyone else', async () => {
    await scim(h, owner).post('/Users', { schemas: [USER], userName: 'ann@acme-corp.test' }).expect(201);
    await scim(h, squatter).post('/Users', { schemas: [USER], userName: 'sam@acme-corp.test' }).expect(201);
    // Proven by the owner: its users, the squatter's user with an address there, and unknown addresses.
    for (const email of ['ann@acme-corp.test', 'sam@acme-corp.test', 'nobody@acme-corp.test']) expect(await routeOf(email)).toBe(startOf(real.id, email));

    // Unproven claims by two tenants: each tenant's own users go to its IdP, anyone else to the password step.
    const a = await connect(owner, ['shared-open.test']);
    const b = await connect(squatter, ['shared-open.test']);
    await scim(h, owner).post('/Users', { schemas: [USER], userName: 'olga@shared-open.test' }).expect(201);
    await scim(h, squatter).post('/Users', { schemas: [USER], userName: 'sid@shared-open.test' }).expect(201);
    await scim(h, third).post('/Users', { schemas: [USER], userName: 'tom@shared-open.test' }).expect(201);
    expect(await routeOf('olga@shared-open.test')).toBe(startOf(a.id, 'olga@shared-open.test'));
    expect(await routeOf('SID@shared-open.test')).toBe(startOf(b.id, 'sid@shared-open.test'));
    expect(await routeOf('tom@shared-open.test')).toBe('password');
    expect(await routeOf('nobody@shared-open.test')).toBe('password');
  });

  it('a tenant holds a domain on one of its connections', async () => {
    const res = await api(owner).post('/sso-connections', { issuer: idp.issuer, clientId: 'twice', clientSecret: 's', emailDomains: ['acme-corp.test'] });
    expectJsonError(res, 409, 'uniqueness');
  });
});

describe('migration 0010', () => {
  it('claims made before it start unproven, each with its own challenge; links made before it count as automatic', async () => {
    const connectionId = '0190c0de-0000-7000-8000-00000000a010';
    const userId = (await scim(h, third).post('/Users', { schemas: [USER], userName: 'old@legacy.test' }).expect(201)).body.id;
    await h.owner(async (trx) => {
      await m0010.down(trx);
      const at = new Date();
      await trx('sso_connections').insert({ tenant_id: third.id, id: connectionId, issuer: idp.issuer, client_id: 'old', client_secret_sealed: 'v1.x.y', email_domains: ['legacy.test', 'legacy2.test'], created_at: at, updated_at: at });
      await trx('sso_domains').insert([
        { domain: 'legacy.test', tenant_id: third.id, connection_id: connectionId },
        { domain: 'legacy2.test', tenant_id: third.id, connection_id: connectionId },
      ]);
      await trx('sso_identities').insert({ tenant_id: third.id, connection_id: connectionId, subject: 'old-sub', user_id: userId, linked_at: at });
      await m0010.up(trx);
    });
    const domains = await h.owner((db) => db('sso_domains').where({ connection_id: connectionId }).orderBy('domain').select(['domain', 'challenge', 'verified_at']));
    expect(domains).toEqual([
      { domain: 'legacy.test', challenge: expect.stringMatching(/^[\w-]{43}$/), verified_at: null },
      { domain: 'legacy2.test', challenge: expect.stringMatching(/^[\w-]{43}$/), verified_at: null },
    ]);
    expect(domains[0].challenge).not.toBe(domains[1].challenge);
    expect(await h.owner((db) => db('sso_identities').where({ connection_id: connectionId }).select(['subject', 'linked_by']))).toEqual([{ subject: 'old-sub', linked_by: 'first-sign-in' }]);
    expect((await api(third).get(`/sso-connections/${connectionId}`).expect(200)).body).toMatchObject({ requireSso: false, domains: [{ domain: 'legacy.test', verified: false }, { domain: 'legacy2.test', verified: false }] });
    // Unproven now: only the tenant's own users are routed to it.
    expect(await routeOf('old@legacy.test')).toBe(startOf(connectionId, 'old@legacy.test'));
    expect(await routeOf('stranger@legacy.test')).toBe('password');
  });
});

// Where the server connects for an SSO connection (issue 9 point 9; docs/sso.md "Network
// rules"). Loopback only: a DNS server of this file on 127.0.0.1 names hosts, and the only
// listeners are ours on 127.0.0.1. Two servers under test: one with the operator's defaults
// (https only, public addresses only) and one with the development settings
// (SSO_ALLOW_INSECURE_ISSUERS, SSO_ALLOW_PRIVATE_ISSUERS). Address ranges are unit tables
// (test/unit/sso-network.test.ts), never real connections.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ISSUER_UNREACHABLE } from '../../server/sso/oidc';
import { startTestDns, TestDns } from '../support/dns-server';
import { createTenant, ERROR, Harness, LOOPBACK_IDP_ENV, startHarness, TestTenant } from '../support/harness';
import { startTestIdp, TestIdp } from '../support/oidc-idp';

let strict: Harness;
let dev: Harness;
let strictTenant: TestTenant;
let devTenant: TestTenant;
let dns: TestDns;
let idp: TestIdp;
/** A TCP listener on 127.0.0.1 that counts connections and closes each at once. */
let trap: net.Server;
let trapPort: number;
let trapped = 0;

beforeAll(async () => {
  dns = await startTestDns();
  dns.setA('idp.private.test', ['127.0.0.1']);
  dns.setA('idp.metadata.test', ['169.254.169.254']);
  strict = await startHarness({ env: { DNS_SERVERS: dns.address } });
  dev = await startHarness({ env: { DNS_SERVERS: dns.address, ...LOOPBACK_IDP_ENV } });
  strictTenant = await createTenant(strict, 'Strict');
  devTenant = await createTenant(dev, 'Dev');
  idp = await startTestIdp();
  trap = net.createServer((socket) => {
    trapped++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as AddressInfo).port;
});
afterAll(async () => {
  // When beforeAll timed out before the listener existed, waiting on its close would hang this
  // hook, and nothing below it (the servers and their pools) would ever be closed.
  if (trap) await new Promise((resolve) => trap.close(resolve));
  await idp?.close();
  await strict?.close();
  await dev?.close();
  await dns?.close();
});

const create = (h: Harness, t: TestTenant, issuer: string) =>
  h.http.post('/api/v1/sso-connections').set('Authorization', `Bearer ${t.token}`).send({ issuer, clientId: 'c', clientSecret: 'secret-0123456789', emailDomains: ['issuer.test'] });

function expectRefused(res: { status: number; body: { schemas?: string[]; detail?: string } }, detail: RegExp | string) {
  expect({ status: res.status, schemas: res.body.schemas }).toEqual({ status: 400, schemas: [ERROR] });
  if (typeof detail === 'string') expect(res.body.detail).toBe(detail);
  else expect(res.body.detail).toMatch(detail);
}

/** No network detail in what the admin reads: no errno, no address, no port (no digit at all). */
function expectNoNetworkDetail(detail: string) {
  expect(detail).not.toMatch(/E[A-Z]{4,}|127\.0\.0\.1|169\.254|\d/);
}

describe('with the operator\'s defaults', () => {
  it('an http issuer is 400 and nothing is fetched, on loopback too', async () => {
    const before = idp.requests.length;
    expectRefused(await create(strict, strictTenant, idp.issuer), /issuer must use https \(plain http is accepted only for an IdP on this machine, and only when the operator enables SSO_ALLOW_INSECURE_ISSUERS/);
    expectRefused(await create(strict, strictTenant, 'http://idp.example.com'), /^issuer must use https$/);
    expect(idp.requests.length).toBe(before);
  });

  it('an https issuer whose name resolves to a loopback address is 400 with the generic message, and no connection is made', async () => {
    const asked = dns.questions.length;
    const res = await create(strict, strictTenant, `https://idp.private.test:${trapPort}`);
    expectRefused(res, ISSUER_UNREACHABLE);
    expectNoNetworkDetail(res.body.detail);
    // The name was resolved through DNS_SERVERS, and the server stopped there.
    expect(dns.questions.slice(asked)).toContain('A idp.private.test');
    expect(trapped).toBe(0);
    expect(strict.logs.some((l) => l.includes('sso issuer discovery failed') && l.includes('a loopback address'))).toBe(true);
    expect(await strict.owner((db) => db('sso_connections').where({ tenant_id: strictTenant.id }))).toEqual([]);
  });

  it('an IP-literal issuer on a private or loopback address is refused the same way', async () => {
    for (const issuer of [`https://127.0.0.1:${trapPort}`, `https://[::1]:${trapPort}`, `https://[::ffff:127.0.0.1]:${trapPort}`]) {
      const res = await create(strict, strictTenant, issuer);
      expectRefused(res, ISSUER_UNREACHABLE);
    }
    expect(trapped).toBe(0);
  });
});

describe('with the development settings', () => {
  it('an issuer on a closed loopback port is 400 with a generic message: no ECONNREFUSED, no port', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const res = await create(dev, devTenant, `http://127.0.0.1:${port}`);
    expectRefused(res, ISSUER_UNREACHABLE);
    expectNoNetworkDetail(res.body.detail);
    expect(res.body.detail).not.toContain(String(port));
    // The operator's log has what happened.
    expect(dev.logs.some((l) => l.includes('sso issuer discovery failed') && l.includes('ECONNREFUSED'))).toBe(true);
  });

  it('private addresses allowed: the checked address is the one connected to (here our listener, which answers nothing useful)', async () => {
    const before = trapped;
    const res = await create(dev, devTenant, `https://idp.private.test:${trapPort}`);
    expectRefused(res, ISSUER_UNREACHABLE);
    expect(trapped).toBe(before + 1);
  });

  it('link-local addresses (cloud metadata) stay refused even then, and so does a name with any address not allowed', async () => {
    const asked = dns.questions.length;
    expectRefused(await create(dev, devTenant, 'https://idp.metadata.test'), ISSUER_UNREACHABLE);
    expect(dns.questions.slice(asked)).toContain('A idp.metadata.test');
    expect(dev.logs.some((l) => l.includes('idp.metadata.test') && l.includes('linkLocal'))).toBe(true);
    const before = trapped;
    dns.setA('idp.mixed.test', ['127.0.0.1', '0.0.0.0']);
    expectRefused(await create(dev, devTenant, `https://idp.mixed.test:${trapPort}`), ISSUER_UNREACHABLE);
    expect(trapped).toBe(before);
  });

  it('plain http to a host that is not loopback is refused, whatever it resolves to', async () => {
    expectRefused(await create(dev, devTenant, `http://idp.private.test:${trapPort}`), /^issuer must use https$/);
  });

  it('a loopback IdP works (the settings the other SSO tests run with)', async () => {
    const res = await create(dev, devTenant, idp.issuer);
    expect(res.status).toBe(201);
  });
});

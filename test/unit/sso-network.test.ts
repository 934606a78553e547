// The network rules of SSO (issue 9 point 9, server/sso/network.ts) as tables: address classes
// (IPv4, IPv6, IPv4-mapped IPv6), what may be connected to with and without
// SSO_ALLOW_PRIVATE_ISSUERS, schemes, and the choice of the one address connected to — with a
// resolver injected here, so no test ever connects to any of these addresses. The pinning of the
// connection to the checked address is shown against a listener of ours on 127.0.0.1.
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { addressAllowed, AddressClass, checkScheme, classifyAddress, EgressError, guardedFetch, isLoopbackHost, NameResolver, pickAddress } from '../../server/sso/network';

const resolverOf = (answers: Record<string, string[] | Error>): NameResolver & { asked: string[] } => {
  const asked: string[] = [];
  return {
    asked,
    async addresses(host) {
      asked.push(host);
      const a = answers[host];
      if (!a) throw new Error(`${host}: ENOTFOUND`);
      if (a instanceof Error) throw a;
      return a;
    },
    async txt() {
      return [];
    },
  };
};

describe('classifyAddress', () => {
  it.each<[string, AddressClass]>([
    ['93.184.216.34', 'public'],
    ['8.8.8.8', 'public'],
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.254', 'cgnat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:8.8.8.8', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['2001:db8::1', 'reserved'],
    ['2002:a00:1::1', 'reserved'],
    ['64:ff9b::a00:1', 'reserved'],
    // ipaddr.js reads the deprecated IPv4-compatible form as the IPv4 address it carries.
    ['::127.0.0.1', 'loopback'],
    ['4000::1', 'reserved'],
    ['not-an-address', 'reserved'],
    ['999.1.1.1', 'reserved'],
  ])('%s → %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe('addressAllowed', () => {
  it.each<[AddressClass, boolean, boolean]>([
    ['public', false, true],
    ['public', true, true],
    ['private', false, false],
    ['private', true, true],
    ['loopback', false, false],
    ['loopback', true, true],
    ['cgnat', false, false],
    ['cgnat', true, true],
    // Never, whatever the operator allows: no IdP lives there; 169.254.169.254 is cloud metadata.
    ['linkLocal', true, false],
    ['unspecified', true, false],
    ['multicast', true, false],
    ['broadcast', true, false],
    ['reserved', true, false],
  ])('%s with private %s → %s', (cls, allowPrivate, allowed) => {
    expect(addressAllowed(cls, allowPrivate)).toBe(allowed);
  });
});

describe('checkScheme', () => {
  it.each<[string, boolean, boolean]>([
    ['https://idp.example.com/', false, true],
    ['http://idp.example.com/', true, false],
    ['http://127.0.0.1:8080/', false, false],
    ['http://127.0.0.1:8080/', true, true],
    ['http://[::1]:8080/', true, true],
    ['http://localhost:8080/', true, true],
    ['http://10.0.0.1/', true, false],
    ['ftp://idp.example.com/', true, false],
  ])('%s (insecure allowed: %s) → %s', (url, allowInsecure, ok) => {
    if (ok) expect(() => checkScheme(new URL(url), allowInsecure)).not.toThrow();
    else expect(() => checkScheme(new URL(url), allowInsecure)).toThrow(EgressError);
  });

  it('knows loopback hosts by name and literal', () => {
    expect(['localhost', 'a.localhost', '127.0.0.2', '[::1]', '::ffff:127.0.0.1'].map(isLoopbackHost)).toEqual([true, true, true, true, true]);
    expect(['example.com', '10.0.0.1', 'localhost.example.com'].map(isLoopbackHost)).toEqual([false, false, false]);
  });
});

describe('pickAddress', () => {
  it('every address of the name must be allowed; the first IPv4 one is used', async () => {
    const r = resolverOf({
      'idp.example': ['2606:4700:4700::1111', '93.184.216.34'],
      'mixed.example': ['93.184.216.34', '10.0.0.7'],
      'mapped.example': ['::ffff:192.168.0.1'],
      'meta.example': ['169.254.169.254'],
      'inside.example': ['10.0.0.7'],
    });
    expect(await pickAddress('idp.example', { resolver: r, allowPrivate: false })).toEqual({ address: '93.184.216.34', family: 4 });
    await expect(pickAddress('mixed.example', { resolver: r, allowPrivate: false })).rejects.toThrow(/10\.0\.0\.7, a private address/);
    await expect(pickAddress('mapped.example', { resolver: r, allowPrivate: false })).rejects.toThrow(/a private address/);
    await expect(pickAddress('meta.example', { resolver: r, allowPrivate: true })).rejects.toThrow(/a linkLocal address/);
    expect(await pickAddress('inside.example', { resolver: r, allowPrivate: true })).toEqual({ address: '10.0.0.7', family: 4 });
    await expect(pickAddress('unknown.example', { resolver: r, allowPrivate: true })).rejects.toThrow(EgressError);
  });

  it('an IP literal is judged as itself, without asking DNS', async () => {
    const r = resolverOf({});
    await expect(pickAddress('[::ffff:127.0.0.1]', { resolver: r, allowPrivate: false })).rejects.toThrow(/loopback/);
    expect(await pickAddress('[::1]', { resolver: r, allowPrivate: true })).toEqual({ address: '::1', family: 6 });
    expect(r.asked).toEqual([]);
  });
});

describe('guardedFetch', () => {
  it('connects to exactly the address it checked: a later DNS answer (rebinding) is never used', async () => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      // First answer loopback (checked, allowed in development), every later one a metadata
      // address: the name is resolved once, and the socket goes to the first answer. The name
      // exists nowhere else, so reaching our listener proves the pinned lookup was used.
      let calls = 0;
      const resolver: NameResolver = {
        addresses: async () => (calls++ === 0 ? ['127.0.0.1'] : ['169.254.169.254']),
        txt: async () => [],
      };
      const fetch = guardedFetch({ resolver, allowPrivate: true, allowInsecure: false });
      await expect(fetch(`https://rebind.invalid:${port}/.well-known/openid-configuration`, { method: 'GET', headers: {} })).rejects.toThrow();
      expect({ calls, connections }).toEqual({ calls: 1, connections: 1 });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses before connecting: a refused address or scheme is an EgressError, and the resolver is asked at most once', async () => {
    const r = resolverOf({ 'meta.invalid': ['169.254.169.254'] });
    const fetch = guardedFetch({ resolver: r, allowPrivate: true, allowInsecure: true });
    await expect(fetch('https://meta.invalid/latest/meta-data/', { method: 'GET', headers: {} })).rejects.toThrow(EgressError);
    await expect(fetch('http://meta.invalid/latest/meta-data/', { method: 'GET', headers: {} })).rejects.toThrow(/https only/);
    await expect(fetch('https://[fe80::1]/', { method: 'GET', headers: {} })).rejects.toThrow(/linkLocal/);
    expect(r.asked).toEqual(['meta.invalid']);
  });
});

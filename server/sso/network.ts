// Where the server may connect for an SSO connection (issue 9 point 9, docs/sso.md "Network
// rules"). An admin types an issuer URL; the server then fetches its discovery document and the
// endpoints it names (JWKS, token, userinfo). Without rules, that is a request forgery tool: an
// admin token could make the server fetch http://169.254.169.254/ (cloud metadata), a database
// port on the private network, or probe which internal ports are open by reading the errors.
//
// - Names are resolved through the operator's resolver (DNS_SERVERS), every address is
//   classified, and a name with any address that is not public is refused unless the operator
//   allows private networks (SSO_ALLOW_PRIVATE_ISSUERS). Link-local, unspecified, multicast,
//   broadcast and reserved addresses are refused even then: no IdP lives there, and
//   169.254.169.254 is where cloud metadata does.
// - The socket connects to exactly the address that was checked (the lookup is pinned): a DNS
//   answer that changes between the check and the connection (DNS rebinding) is never used.
//   TLS still verifies the certificate against the host name.
// - Plain http only to a loopback host, and only with SSO_ALLOW_INSECURE_ISSUERS (development).
// - The reasons (addresses, errno codes, ports) are for the log; callers show people a message
//   without them (sso/oidc.ts), so answers never tell what is on a network.
// Unit tables with an injected resolver: test/unit/sso-network.test.ts; over HTTP on loopback:
// test/api/sso-issuers.test.ts.
import http from 'node:http';
import https from 'node:https';
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

export type AddressClass = 'public' | 'private' | 'loopback' | 'cgnat' | 'linkLocal' | 'unspecified' | 'multicast' | 'broadcast' | 'reserved';

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * What kind of address this is. IPv4-mapped IPv6 (::ffff:10.0.0.1) is judged as the IPv4 address
 * it carries; IPv6 outside 2000::/3 and the ranges that embed IPv4 addresses (6to4, Teredo,
 * NAT64) are 'reserved', since they can lead to any IPv4 address. Anything unparsable: 'reserved'.
 */
export function classifyAddress(address: string): AddressClass {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.parse(address.replace(/^\[|\]$/g, ''));
  } catch {
    return 'reserved';
  }
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).isIPv4MappedAddress()) ip = (ip as ipaddr.IPv6).toIPv4Address();
  const range = ip.range();
  switch (range) {
    case 'unicast':
      if (ip.kind() === 'ipv6' && !(ip as ipaddr.IPv6).match(GLOBAL_UNICAST_V6 as [ipaddr.IPv6, number])) return 'reserved';
      return 'public';
    case 'private':
    case 'uniqueLocal':
      return 'private';
    case 'loopback':
      return 'loopback';
    case 'carrierGradeNat':
      return 'cgnat';
    case 'linkLocal':
      return 'linkLocal';
    case 'unspecified':
      return 'unspecified';
    case 'multicast':
      return 'multicast';
    case 'broadcast':
      return 'broadcast';
    default:
      return 'reserved';
  }
}

/** Whether the server may connect to an address of this class. */
export function addressAllowed(cls: AddressClass, allowPrivate: boolean): boolean {
  if (cls === 'public') return true;
  return allowPrivate && (cls === 'private' || cls === 'loopback' || cls === 'cgnat');
}

/** A DNS question that got no usable answer: the name (or record) does not exist, or the resolver could not be asked. */
export class DnsLookupError extends Error {
  constructor(
    readonly kind: 'notFound' | 'unavailable',
    detail: string,
  ) {
    super(detail);
    this.name = 'DnsLookupError';
  }
}

/** The DNS questions the server asks; tests inject their own. */
export interface NameResolver {
  /** Every A and AAAA address of a host name. */
  addresses(host: string): Promise<string[]>;
  /** The TXT records at a name, each record's strings joined (RFC 7208 §3.3 style). */
  txt(name: string): Promise<string[]>;
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN', 'NODATA']);
const lookupError = (err: unknown, question: string) => {
  const code = (err as { code?: string }).code ?? 'unknown';
  return new DnsLookupError(NOT_FOUND.has(code) ? 'notFound' : 'unavailable', `${question}: ${code}`);
};

/** RFC 6761 §6.3: localhost names are loopback and never go to DNS. */
const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/**
 * The resolver of node:dns over the operator's servers (DNS_SERVERS), else the system's
 * configured nameservers (resolv.conf; /etc/hosts is not consulted). Short timeouts: a person or
 * an admin is waiting for the answer.
 */
export function dnsResolver(servers?: string[]): NameResolver {
  const resolver = new Resolver({ timeout: 2500, tries: 2 });
  if (servers?.length) resolver.setServers(servers);
  return {
    async addresses(host) {
      if (isLocalhostName(host)) return ['127.0.0.1', '::1'];
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
      if (found.length) return found;
      const errors = [v4, v6].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => lookupError(r.reason, host));
      throw errors.find((e) => e.kind === 'unavailable') ?? errors[0] ?? new DnsLookupError('notFound', `${host}: no address`);
    },
    async txt(name) {
      try {
        return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
      } catch (err) {
        throw lookupError(err, name);
      }
    },
  };
}

/** The server refused to connect, or could not; `message` is for the log only. */
export class EgressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EgressError';
  }
}

export interface EgressRules {
  resolver: NameResolver;
  allowPrivate: boolean;
  allowInsecure: boolean;
}

const bare = (hostname: string) => hostname.replace(/^\[|\]$/g, '');

/** A loopback host by name or literal (plain http is possible only to these). */
export function isLoopbackHost(hostname: string): boolean {
  const host = bare(hostname).toLowerCase();
  if (isLocalhostName(host)) return true;
  return isIP(host) !== 0 && classifyAddress(host) === 'loopback';
}

/** Refuses a URL the server must not fetch for reasons of scheme alone. */
export function checkScheme(url: URL, allowInsecure: boolean): void {
  if (url.protocol === 'https:') return;
  if (url.protocol === 'http:' && allowInsecure && isLoopbackHost(url.hostname)) return;
  throw new EgressError(`refused ${url.protocol} URL to ${url.hostname}: https only${allowInsecure ? ' (plain http only to a loopback host)' : ''}`);
}

/**
 * The one address the server will connect to for this host: every address the name has must be
 * allowed (a name with one private address among public ones is refused: the resolver's order
 * is not ours to trust), and the first is used, IPv4 first.
 */
export async function pickAddress(hostname: string, rules: Pick<EgressRules, 'resolver' | 'allowPrivate'>): Promise<{ address: string; family: 4 | 6 }> {
  const host = bare(hostname).toLowerCase();
  let addresses: string[];
  if (isIP(host) !== 0) addresses = [host];
  else {
    try {
      addresses = await rules.resolver.addresses(host);
    } catch (err) {
      throw new EgressError(`cannot resolve ${host}: ${(err as Error).message}`);
    }
  }
  if (!addresses.length) throw new EgressError(`${host} has no address`);
  for (const a of addresses) {
    const cls = classifyAddress(a);
    if (!addressAllowed(cls, rules.allowPrivate)) throw new EgressError(`refused ${host}: it resolves to ${a}, a ${cls} address${rules.allowPrivate ? '' : ' (SSO_ALLOW_PRIVATE_ISSUERS is off)'}`);
  }
  const ordered = [...addresses].sort((a, b) => isIP(a) - isIP(b));
  return { address: ordered[0], family: isIP(ordered[0]) as 4 | 6 };
}

/** What openid-client hands a custom fetch (its `customFetch` option). */
export interface FetchInit {
  body?: unknown;
  headers: Record<string, string>;
  method: string;
  redirect?: 'manual';
  signal?: AbortSignal;
}

/** Largest response the server reads from an IdP: discovery, JWKS, token and userinfo answers are a few KiB. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

async function bodyBytes(body: unknown): Promise<Buffer | undefined> {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (body instanceof URLSearchParams) return Buffer.from(body.toString());
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  if (body instanceof ReadableStream) return Buffer.from(await new Response(body).arrayBuffer());
  throw new EgressError('unsupported request body');
}

/**
 * A fetch for openid-client that keeps to the rules above, over node:http/https with the
 * connection pinned to the checked address. Redirects are not followed (openid-client asks for
 * 'manual'); answers larger than MAX_RESPONSE_BYTES are cut off with an error.
 */
export function guardedFetch(rules: EgressRules): (url: string, init: FetchInit) => Promise<Response> {
  return async (raw, init) => {
    const url = new URL(raw);
    checkScheme(url, rules.allowInsecure);
    const { address, family } = await pickAddress(url.hostname, rules);
    const body = await bodyBytes(init.body);
    const host = bare(url.hostname);
    const headers: Record<string, string> = { ...init.headers, 'accept-encoding': 'identity' };
    if (body) headers['content-length'] = String(body.length);
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      const req = transport.request(
        {
          protocol: url.protocol,
          hostname: host,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          method: init.method,
          headers,
          agent: false,
          signal: init.signal,
          servername: isIP(host) ? undefined : host,
          // The socket goes to the address checked above, whatever DNS says by now.
          lookup: ((_name: string, options: { all?: boolean }, cb: (...args: unknown[]) => void) =>
            options?.all ? cb(null, [{ address, family }]) : cb(null, address, family)) as never,
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) return void req.destroy(new EgressError(`answer from ${host} larger than ${MAX_RESPONSE_BYTES} bytes`));
            chunks.push(chunk);
          });
          res.on('error', reject);
          res.on('end', () => {
            const out = new Headers();
            for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
              try {
                out.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
              } catch {
                // A header value fetch would refuse: left out.
              }
            }
            const status = res.statusCode ?? 502;
            const empty = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
            try {
              resolve(new Response(empty ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: out }));
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };
}

/** Words for the log about a failed fetch or lookup (the errno code is useful there, and only there). */
export function egressDetail(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: { message?: string; code?: string } };
  const parts = [e?.message, e?.code, e?.cause?.message, e?.cause?.code].filter(Boolean);
  return parts.length ? parts.join(' / ') : String(err);
}

// A real OpenID Provider for tests: oidc-provider 9 in-process on 127.0.0.1 (plain http, which
// sso/oidc.ts accepts only for loopback issuers). Browserless: its own interaction endpoint logs
// in the account named by `login_hint` (no login form: devInteractions off) and consent comes
// from loadExistingGrant, so followLogin() walks a whole authorization-code + PKCE sign-in with
// fetch and a cookie jar. Clients can be added after start, since
// the redirect URI contains the id of a connection created against this IdP's issuer.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Adapter, AdapterPayload, Configuration, KoaContextWithOIDC } from 'oidc-provider';

export interface TestAccount {
  sub: string;
  email?: string;
  /** Left out of the claims when undefined (like Entra, which never sends it). */
  email_verified?: boolean | string;
}

export interface TestIdpOptions {
  /**
   * true (default): email and email_verified in the ID token (conformIdTokenClaims off).
   * false: oidc-provider's default conformIdTokenClaims, where an ID token issued with an access
   * token for userinfo carries only `sub` and the email is in userinfo alone (OIDC Core §5.4).
   */
  emailInIdToken?: boolean;
  /** The issuer the provider names, from its own origin (default: the origin itself). */
  issuerFor?: (origin: string) => string;
}

export interface TestIdp {
  /** What an admin would configure as the issuer (http://127.0.0.1:<port>). */
  issuer: string;
  origin: string;
  addClient(c: { clientId: string; clientSecret: string; redirectUris: string[] }): void;
  /** The account `login_hint` logs in (the hint is the address typed at /login, usually). */
  setAccount(loginHint: string, account: TestAccount): void;
  /** Paths requested at the IdP (without query), in order — e.g. '/me' for userinfo calls. */
  requests: string[];
  close(): Promise<void>;
}

/** oidc-provider 9 warns "Unsupported runtime" once when loaded on Node 20: only that line is silenced. */
function loadProvider(): typeof import('oidc-provider').default {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('Unsupported runtime')) return;
    warn(...args);
  };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('oidc-provider') as typeof import('oidc-provider')).default;
  } finally {
    console.warn = warn;
  }
}

/** A per-IdP in-memory store (oidc-provider's own memory adapter is one store for the whole process). */
function memoryAdapter() {
  const items = new Map<string, { payload: AdapterPayload; expiresAt?: number }>();
  const index = new Map<string, string>();
  const byGrant = new Map<string, Set<string>>();
  return (name: string): Adapter => {
    const key = (id: string) => `${name}:${id}`;
    const find = async (id: string) => {
      const item = items.get(key(id));
      if (!item) return undefined;
      if (item.expiresAt !== undefined && item.expiresAt < Date.now()) {
        items.delete(key(id));
        return undefined;
      }
      return item.payload;
    };
    return {
      async upsert(id, payload, expiresIn) {
        items.set(key(id), { payload: { ...payload }, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined });
        if (payload.uid) index.set(`${name}:uid:${payload.uid}`, id);
        if (payload.userCode) index.set(`${name}:userCode:${payload.userCode}`, id);
        if (payload.grantId) {
          const set = byGrant.get(payload.grantId) ?? new Set<string>();
          set.add(key(id));
          byGrant.set(payload.grantId, set);
        }
      },
      find,
      async findByUid(uid) {
        const id = index.get(`${name}:uid:${uid}`);
        return id === undefined ? undefined : find(id);
      },
      async findByUserCode(userCode) {
        const id = index.get(`${name}:userCode:${userCode}`);
        return id === undefined ? undefined : find(id);
      },
      async consume(id) {
        const item = items.get(key(id));
        if (item) item.payload.consumed = Math.floor(Date.now() / 1000);
      },
      async destroy(id) {
        items.delete(key(id));
      },
      async revokeByGrantId(grantId) {
        for (const k of byGrant.get(grantId) ?? []) items.delete(k);
        byGrant.delete(grantId);
      },
    };
  };
}

export async function startTestIdp(opts: TestIdpOptions = {}): Promise<TestIdp> {
  const Provider = loadProvider();
  const accounts = new Map<string, TestAccount>();
  const requests: string[] = [];
  const adapter = memoryAdapter();
  const clients = adapter('Client');
  let handler: http.RequestListener = (_req, res) => res.end();
  const server = http.createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = opts.issuerFor ? opts.issuerFor(origin) : origin;

  const accountBySub = (sub: string) => [...accounts.values()].find((a) => a.sub === sub);
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const configuration: Configuration = {
    adapter,
    jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'test-key', use: 'sig', alg: 'RS256' }] as never },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: opts.emailInIdToken === false,
    // Explicit lifetimes (seconds): the defaults work but print a notice each.
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 3600, IdToken: 600, Interaction: 600, Session: 3600 },
    features: { devInteractions: { enabled: false } },
    async findAccount(_ctx, sub) {
      const account = accountBySub(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          ...(account.email !== undefined ? { email: account.email } : {}),
          ...(account.email_verified !== undefined ? { email_verified: account.email_verified } : {}),
        }),
      };
    },
    // Consent without a screen: every sign-in gets a grant of what our client asks for.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  handler = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    requests.push(path);
    if (!path.startsWith('/interaction/')) return void callback(req, res);
    // The login "form": the account named by login_hint, or access_denied for an unknown one.
    (async () => {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name !== 'login') {
        return provider.interactionFinished(req, res, { error: 'access_denied', error_description: `unexpected prompt ${details.prompt.name}` });
      }
      const account = accounts.get(String(details.params.login_hint ?? ''));
      if (!account) return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'unknown account' });
      return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false });
    })().catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  };

  return {
    issuer,
    origin,
    requests,
    addClient(c) {
      void clients.upsert(c.clientId, {
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: c.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      });
    },
    setAccount(loginHint, account) {
      accounts.set(loginHint, account);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Cookies per origin (scheme, host and port: the IdP and our app share 127.0.0.1). */
export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  header(url: URL): string {
    return [...(this.byOrigin.get(url.origin) ?? new Map()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  store(url: URL, res: Response): void {
    const jar = this.byOrigin.get(url.origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && new Date(a.split('=')[1]).getTime() < Date.now()));
      if (expired || !value) jar.delete(name);
      else jar.set(name, value);
    }
    this.byOrigin.set(url.origin, jar);
  }

  /** One cookie's value for an origin (undefined when not held). */
  get(origin: string, name: string): string | undefined {
    return this.byOrigin.get(origin)?.get(name);
  }

  /** Replaces a cookie's value (a test tampering with what the browser sends back). */
  set(origin: string, name: string, value: string): void {
    const jar = this.byOrigin.get(origin) ?? new Map<string, string>();
    jar.set(name, value);
    this.byOrigin.set(origin, jar);
  }

  /** Forgets every cookie of an origin (signing out of the IdP, say). */
  clear(origin: string): void {
    this.byOrigin.delete(origin);
  }

  /** The cookie names held for an origin (for asserting what a response set). */
  names(origin: string): string[] {
    return [...(this.byOrigin.get(origin)?.keys() ?? [])];
  }
}

export interface FollowOptions {
  /** Rewrites each URL before it is fetched (our PUBLIC_URL → where the test app listens; tampering). */
  resolve?: (url: URL) => URL;
  /** Stops at the response of the first URL for which this is true, redirect or not. */
  until?: (url: URL) => boolean;
  maxHops?: number;
}

export interface FollowResult {
  response: Response;
  /** The URL of the last response (as fetched, after resolve). */
  url: URL;
  /** Every URL fetched, in order. */
  hops: URL[];
}

/** Follows a sign-in through redirects like a browser would: our /start, the IdP, our callback. */
export async function followLogin(startUrl: string, jar: CookieJar, opts: FollowOptions = {}): Promise<FollowResult> {
  const hops: URL[] = [];
  let next = new URL(startUrl);
  for (let i = 0; i < (opts.maxHops ?? 20); i++) {
    const url = opts.resolve ? opts.resolve(next) : next;
    hops.push(url);
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
    jar.store(url, response);
    const location = response.headers.get('location');
    if (opts.until?.(url) || response.status < 300 || response.status >= 400 || !location) return { response, url, hops };
    await response.arrayBuffer();
    next = new URL(location, url);
  }
  throw new Error(`followLogin: more than ${opts.maxHops ?? 20} redirects: ${hops.map(String).join(' → ')}`);
}

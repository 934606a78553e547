// The console is a client of the admin API (issue 11: "a page can do nothing the API would
// refuse"). Each page's reads and changes are admin API requests over HTTP to the admin router,
// served by this instance on a loopback port of its own (127.0.0.1, an ephemeral port opened at
// the first call), with the person's session cookie and, on changes, the form's CSRF token as
// X-CSRF-Token. So the admin API authenticates the session, checks the CSRF token, applies the
// authority of the account the person works in, validates, audits — exactly as for a script; the
// console adds only pages around it. Why a real socket rather than an in-process injector:
// Express 5 replaces the request's prototype with its own, which breaks injectors built on fake
// IncomingMessage objects (light-my-request fails inside express's handler); a loopback HTTP
// call costs well under a millisecond and uses nothing but Node's http.
// test/api/console.test.ts, "the console answers what the admin API answers".
import express, { Request, RequestHandler } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One field error of the admin API (docs/admin-api.md, "Field errors"). */
export interface FieldProblem {
  field: string;
  detail: string;
  path?: string;
  code?: string;
  params?: Record<string, unknown>;
}

/** An admin API answer: the status and the parsed JSON body (null for 204). */
export interface ApiAnswer<T = any> {
  status: number;
  ok: boolean;
  body: T;
}

/** What an admin API error says (http/error-handler.ts renders it). */
export interface ApiProblem {
  status: number;
  detail: string;
  scimType?: string;
  errors?: FieldProblem[];
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface AdminApi {
  get<T = any>(path: string, query?: Record<string, string | undefined>): Promise<ApiAnswer<T>>;
  send<T = any>(method: Exclude<Method, 'GET'>, path: string, body?: unknown): Promise<ApiAnswer<T>>;
}

/** The admin API failed for a reason that is not the person's input (5xx): the console's error page. */
export class AdminApiUnavailable extends Error {
  constructor(
    readonly status: number,
    readonly path: string,
  ) {
    super(`admin API answered ${status} for ${path}`);
  }
}

export class AdminClient {
  private handler?: RequestHandler;
  private server?: Promise<{ server: http.Server; base: string }>;

  /** The admin router this client calls (app.ts hands it over once built). */
  attach(adminRouter: RequestHandler): void {
    const app = express();
    app.disable('x-powered-by');
    app.set('query parser', 'simple');
    app.set('etag', false);
    // The console's own requests arrive from loopback with the person's address in X-Forwarded-For.
    app.set('trust proxy', 'loopback');
    app.use('/api/v1', adminRouter);
    this.handler = app as unknown as RequestHandler;
  }

  private listen(): Promise<{ server: http.Server; base: string }> {
    if (!this.handler) throw new Error('AdminClient: no admin router attached');
    const handler = this.handler;
    this.server ??= new Promise((resolve, reject) => {
      const server = http.createServer(handler as unknown as http.RequestListener);
      server.keepAliveTimeout = 30_000;
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        // Never keeps the process alive by itself; close() ends it on shutdown.
        server.unref();
        resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      });
    });
    return this.server;
  }

  async close(): Promise<void> {
    const s = await this.server?.catch(() => undefined);
    this.server = undefined;
    if (!s) return;
    s.server.closeAllConnections();
    await new Promise<void>((resolve) => s.server.close(() => resolve()));
  }

  /** The admin API as the person signed in on `req` (their cookie; their form's CSRF token for changes). */
  for(req: Request): AdminApi {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (typeof req.headers.cookie === 'string') headers.cookie = req.headers.cookie;
    if (req.ip) headers['x-forwarded-for'] = req.ip;
    const csrf = (req.body as Record<string, unknown> | undefined)?._csrf;
    if (typeof csrf === 'string') headers['x-csrf-token'] = csrf;
    const call = async (method: Method, path: string, query?: Record<string, string | undefined>, body?: unknown): Promise<ApiAnswer> => {
      const { base } = await this.listen();
      const url = new URL(`/api/v1${path}`, base);
      for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, v);
      const res = await fetch(url, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
      });
      if (res.status >= 500) throw new AdminApiUnavailable(res.status, path);
      const text = await res.text();
      return { status: res.status, ok: res.status < 300, body: text ? (JSON.parse(text) as unknown) : null };
    };
    return {
      get: (path, query) => call('GET', path, query),
      send: (method, path, body) => call(method, path, undefined, body),
    };
  }
}

/** Translates a message key with values; undefined when the language has no message there. */
export type Translate = (key: string, values: Record<string, unknown>) => string | undefined;

/**
 * The per-field problems of an admin API error, by field name, and its message. Each field's
 * message is the reader's language's for the error's `code` (locales/<lang>/api-errors.json,
 * with the error's params: a length's limit, the allowed values), else the API's English
 * detail; a field keeps its first error.
 */
export function problemsOf(answer: ApiAnswer, translate?: Translate): { fields: Record<string, string>; message: string } {
  const p = (answer.body ?? {}) as ApiProblem;
  const fields: Record<string, string> = {};
  for (const e of p.errors ?? []) {
    if (e.field in fields) continue;
    const values = Object.fromEntries(Object.entries(e.params ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map((x) => (x === null ? 'null' : String(x))).join(', ') : v]));
    // {{detail}}: the API's English, which the English messages use where it says more than a
    // general message could (what a pattern means, why an address is refused).
    fields[e.field] = (e.code && translate?.(`api-errors:codes.${e.code}`, { ...values, detail: e.detail })) || e.detail;
  }
  // A 400's summary in the reader's language (its fields say the rest); a refusal (403, 409) keeps the API's detail.
  const count = Object.keys(fields).length;
  const summary = answer.status === 400 && count && translate?.('api-errors:summary', { count });
  return { fields, message: summary || (p.detail ?? `The request was refused (${answer.status}).`) };
}

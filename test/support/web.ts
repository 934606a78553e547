// The front door over a real listening socket on 127.0.0.1, for journeys that cross to an IdP
// (test/support/oidc-idp.ts): fetch with a cookie jar per browser, forms with their CSRF token,
// and the mail the server kept (no SMTP_URL: read through the operator API, docs/emails.md).
import type { Express } from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { csrfOf, linkToken } from './browser';
import { Harness, OPERATOR_TOKEN } from './harness';
import { CookieJar, followLogin, FollowResult } from './oidc-idp';

export interface Web {
  /** Where the app listens: http://127.0.0.1:<port>. */
  base: string;
  /** Our PUBLIC_URL's URLs → the listening app (the IdP redirects to PUBLIC_URL). */
  toApp(url: URL): URL;
  page(jar: CookieJar, path: string, init?: RequestInit): Promise<Response>;
  /** Posts a form with the CSRF token of `csrfFrom` (a page's HTML). */
  form(jar: CookieJar, path: string, fields: Record<string, string>, csrfFrom: string): Promise<Response>;
  /** Follows redirects from a path of ours through the IdP and back, like a browser. */
  follow(jar: CookieJar, location: string, opts?: { until?: (url: URL) => boolean; tamper?: (url: URL) => void }): Promise<FollowResult>;
  close(): Promise<void>;
}

export async function listen(app: Express, publicUrl: string): Promise<Web> {
  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const toApp = (url: URL) => (url.origin === publicUrl ? new URL(url.pathname + url.search, base) : url);
  const page = async (jar: CookieJar, path: string, init: RequestInit = {}) => {
    const url = new URL(path, base);
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) } });
    jar.store(url, res);
    return res;
  };
  return {
    base,
    toApp,
    page,
    form: (jar, path, fields, csrfFrom) =>
      page(jar, path, { method: 'POST', body: new URLSearchParams({ ...fields, _csrf: csrfOf(csrfFrom) }).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    follow: (jar, location, opts = {}) =>
      followLogin(new URL(location, base).toString(), jar, {
        resolve: (url) => {
          const target = toApp(url);
          opts.tamper?.(target);
          return target;
        },
        until: opts.until,
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The newest mail the server kept for this address, by template. */
export async function keptMail(h: Harness, to: string, template: string): Promise<{ text: string }> {
  const res = await h.http.get(`/operator/v1/mail?to=${encodeURIComponent(to)}`).set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
  const m = (res.body.messages as { template: string; text: string }[]).find((x) => x.template === template);
  if (!m) throw new Error(`no ${template} mail to ${to}: ${JSON.stringify(res.body)}`);
  return m;
}

/** How many mails the server kept for this address (any template). */
export async function mailCount(h: Harness, to: string): Promise<number> {
  const res = await h.http.get(`/operator/v1/mail?to=${encodeURIComponent(to)}`).set('Authorization', `Bearer ${OPERATOR_TOKEN}`);
  return res.body.messages.length;
}

/** Activates a pending person through their emailed link with this password; returns the page it lands on. */
export async function activate(h: Harness, web: Web, jar: CookieJar, email: string, password: string): Promise<Response> {
  const token = linkToken((await keptMail(h, email, 'activation')).text, '/activate');
  const form = await (await web.page(jar, `/activate?token=${token}`)).text();
  return web.form(jar, '/activate', { token, password, acceptPrivacy: 'yes' }, form);
}

/** Email first at /login: the answer (a redirect to the IdP's start, or the password page). */
export async function loginStep(web: Web, jar: CookieJar, email: string): Promise<Response> {
  const page = await (await web.page(jar, '/login')).text();
  return web.form(jar, '/login', { email }, page);
}

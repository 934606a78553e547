// A small browser for the front door's pages over supertest: keeps cookies (supertest's agent),
// reads the CSRF token out of the last form it was shown, and submits forms as a browser would
// (application/x-www-form-urlencoded). Nothing of the server is mocked.
import type { Express } from 'express';
import request from 'supertest';

export const csrfOf = (html: string): string => {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error(`no CSRF field in page: ${html.slice(0, 300)}`);
  return m[1];
};

/** The secret of a link of ours in an email body, e.g. linkToken(text, '/activate'). */
export function linkToken(text: string, path: string): string {
  const m = new RegExp(`${path.replace(/\//g, '\\/')}\\?token=([A-Za-z0-9_-]{43})`).exec(text);
  if (!m) throw new Error(`no ${path} link in: ${text}`);
  return m[1];
}

/** A browser; `headers` go with every request (Accept-Language, as a browser sends it). */
export function browser(app: Express, opts: { headers?: Record<string, string> } = {}) {
  const agent = request.agent(app);
  const withHeaders = (r: request.Test) => (opts.headers ? r.set(opts.headers) : r);
  let lastHtml = '';
  const cookies = new Map<string, string>();
  const remember = (res: request.Response) => {
    if (typeof res.text === 'string' && res.text.includes('_csrf')) lastHtml = res.text;
    for (const c of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  };
  return {
    agent,
    async get(path: string) {
      return remember(await withHeaders(agent.get(path)));
    },
    /** Posts a form with the CSRF token of the last page shown (or none when csrf is false); an array is a repeated field (checkboxes). */
    async post(path: string, fields: Record<string, string | string[]>, opts: { csrf?: boolean } = {}) {
      const body = new URLSearchParams();
      for (const [k, v] of Object.entries(fields)) for (const x of ([] as string[]).concat(v)) body.append(k, x);
      if (opts.csrf !== false) body.set('_csrf', csrfOf(lastHtml));
      return remember(await withHeaders(agent.post(path)).type('form').send(body.toString()));
    },
    /** The session cookie's `name=value`, to present it to another instance. */
    cookie(name = 'provisio.sid'): string | undefined {
      const v = cookies.get(name);
      return v ? `${name}=${v}` : undefined;
    },
    /** Every Set-Cookie header of the last responses, by cookie name (to check its flags). */
    setCookies: cookies,
    me() {
      return agent.get('/api/v1/me');
    },
    /** Email first, then the password: the whole local sign-in. */
    async signIn(email: string, password: string) {
      await this.get('/login');
      const step = await this.post('/login', { email });
      if (!step.text.includes('name="password"')) throw new Error(`expected the password step, got ${step.status}: ${step.text.slice(0, 200)}`);
      return this.post('/login/password', { email, password });
    },
  };
}
export type Browser = ReturnType<typeof browser>;

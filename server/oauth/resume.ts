// Where an authorize request waits while its person signs in (RFC 6749 §4.1.1: the authorization
// server authenticates the resource owner, then comes back to the request). The request's own
// URL (path and query, never another origin) is sealed with the server key (security/keys.ts,
// its own label) in a short-lived cookie, like the OIDC sign-in's state (sso/flow-state.ts): no
// session row for an anonymous visitor, nothing a third party can plant (a forged or tampered
// cookie does not open), and the request is checked again in full when it is resumed.
// The front door's landing (front-door/sign-in.ts) sends a person who just signed in back to it;
// the authorize page clears it once it is shown. test/api/oauth-code.test.ts
import type { Request, Response } from 'express';
import type { SecretBox } from '../security/keys';

export const RESUME_LABEL = 'oauth-authorize-resume';
export const RESUME_COOKIE = 'provisio.oauth';
/** Ten minutes to sign in. */
export const RESUME_TTL_MS = 10 * 60 * 1000;
/** Only our own authorize URL is ever resumed. */
const AUTHORIZE_PATH = /^\/oauth\/authorize\?[^\s#]{1,4000}$/;

export class AuthorizeResume {
  constructor(
    private readonly box: SecretBox,
    private readonly clock: () => Date,
    private readonly secure: boolean,
  ) {}

  /** Remembers the authorize request (req.originalUrl) for after the sign-in. */
  set(res: Response, url: string): void {
    if (!AUTHORIZE_PATH.test(url)) return;
    const value = this.box.seal(JSON.stringify({ url, expiresAt: this.clock().getTime() + RESUME_TTL_MS }), RESUME_LABEL);
    res.cookie(RESUME_COOKIE, value, { httpOnly: true, sameSite: 'lax', secure: this.secure, maxAge: RESUME_TTL_MS, path: '/' });
  }

  /** The authorize URL to go back to, if a live one is waiting in this browser. */
  pending(req: Request): string | undefined {
    const raw = (req.cookies as Record<string, unknown> | undefined)?.[RESUME_COOKIE];
    if (typeof raw !== 'string' || !raw) return undefined;
    try {
      const v = JSON.parse(this.box.open(raw, RESUME_LABEL)) as { url?: unknown; expiresAt?: unknown };
      if (typeof v.url !== 'string' || !AUTHORIZE_PATH.test(v.url) || typeof v.expiresAt !== 'number' || v.expiresAt <= this.clock().getTime()) return undefined;
      return v.url;
    } catch {
      return undefined;
    }
  }

  clear(req: Request, res: Response): void {
    if ((req.cookies as Record<string, unknown> | undefined)?.[RESUME_COOKIE] !== undefined) res.clearCookie(RESUME_COOKIE, { path: '/', secure: this.secure, httpOnly: true, sameSite: 'lax' });
  }
}

// "Known device" cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): after
// a successful sign-in — password, activation link or reset link — the browser gets a signed,
// long-lived cookie bound to that account's sign-in email. A password sign-in from a browser
// holding one for the email typed is counted per device (front-door/rate-limit.ts), not against
// the account-wide budget nor the per-address limits, so an attacker guessing from other
// machines can slow everyone else down but cannot lock the real person out of their own browser
// (issue 9, point 6; test/api/front-door.test.ts, "rate limits").
//
// The cookie only changes which rate limit applies; it never signs anyone in. It holds no email:
// each entry is `<nonce>.<issued, epoch seconds>.<HMAC-SHA256(key, email, nonce, issued)>`, so
// it proves "this browser signed in as this email before" only to the server, and only for that
// email. Up to five accounts per browser, newest first.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

export const DEVICE_COOKIE_DAYS = 180;
const MAX_ACCOUNTS = 5;

export interface DeviceCookieOptions {
  /** HMAC key (security/keys.ts, derived for this purpose alone). */
  secret: string;
  /** PUBLIC_URL is https: the cookie is Secure and __Host- prefixed. */
  secure: boolean;
  clock: () => Date;
}

export class DeviceCookies {
  readonly name: string;

  constructor(private readonly o: DeviceCookieOptions) {
    this.name = o.secure ? '__Host-provisio.device' : 'provisio.device';
  }

  private mac(email: string, nonce: string, issued: string): string {
    return createHmac('sha256', this.o.secret).update(`device\n${email.trim().toLowerCase()}\n${nonce}\n${issued}`).digest('base64url');
  }

  private entries(req: Request): string[] {
    const raw = (req.cookies as Record<string, unknown> | undefined)?.[this.name];
    return typeof raw === 'string' && raw.length <= 1000 ? raw.split('~').slice(0, MAX_ACCOUNTS) : [];
  }

  /** Whether this entry is one we issued for this email and has not expired. */
  private valid(entry: string, email: string): boolean {
    const [nonce, issued, mac] = entry.split('.');
    if (!nonce || !issued || !mac || !/^\d{1,12}$/.test(issued)) return false;
    const age = this.o.clock().getTime() / 1000 - Number(issued);
    if (age < 0 || age > DEVICE_COOKIE_DAYS * 86_400) return false;
    const expected = Buffer.from(this.mac(email, nonce, issued));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /**
   * The device id (nonce) of this browser for this email, when it holds a valid cookie for it:
   * the key the rate limits count it under. Undefined for anyone else.
   */
  trusted(req: Request, email: string): string | undefined {
    const entry = this.entries(req).find((e) => this.valid(e, email));
    return entry?.split('.')[0];
  }

  /** After a successful sign-in: this browser is a known device of this email from now on. */
  remember(req: Request, res: Response, email: string): void {
    const others = this.entries(req).filter((e) => !this.valid(e, email));
    const nonce = randomBytes(16).toString('base64url');
    const issued = String(Math.floor(this.o.clock().getTime() / 1000));
    const value = [`${nonce}.${issued}.${this.mac(email, nonce, issued)}`, ...others].slice(0, MAX_ACCOUNTS).join('~');
    res.cookie(this.name, value, { httpOnly: true, sameSite: 'lax', secure: this.o.secure, path: '/', maxAge: DEVICE_COOKIE_DAYS * 86_400_000 });
  }
}

// Known-device cookies (server/front-door/device-cookie.ts): what makes one count for an email —
// issued by us (HMAC), for that email, not older than DEVICE_COOKIE_DAYS — and that a browser
// keeps one per account, at most five. Issue 9, point 6.
import type { Request, Response } from 'express';
import { DEVICE_COOKIE_DAYS, DeviceCookies } from '../../server/front-door/device-cookie';

let now = Date.parse('2026-11-21T09:00:00Z');
const clock = () => new Date(now);
const devices = new DeviceCookies({ secret: 'a-test-secret-of-some-length', secure: false, clock });
const other = new DeviceCookies({ secret: 'another-secret', secure: false, clock });

/** Issues a cookie (as after a sign-in) and returns its value. */
function issue(d: DeviceCookies, email: string, current?: string): string {
  let value = '';
  const res = { cookie: (_name: string, v: string) => void (value = v) } as unknown as Response;
  d.remember(req(current), res, email);
  return value;
}
const req = (value?: string) => ({ cookies: value === undefined ? {} : { 'provisio.device': value } }) as unknown as Request;

describe('DeviceCookies', () => {
  it('counts for the email it was issued for, in any letter case, and for no other', () => {
    const v = issue(devices, 'Ada@Acme.test');
    expect(v).not.toMatch(/ada|acme/i);
    expect(devices.trusted(req(v), 'ada@acme.test')).toEqual(expect.any(String));
    expect(devices.trusted(req(v), 'eve@acme.test')).toBeUndefined();
    expect(devices.trusted(req(), 'ada@acme.test')).toBeUndefined();
  });

  it('refuses one signed with another key, altered, or older than its lifetime', () => {
    const v = issue(devices, 'ada@acme.test');
    expect(other.trusted(req(v), 'ada@acme.test')).toBeUndefined();
    const [nonce, issued, mac] = v.split('.');
    expect(devices.trusted(req(`${nonce}.${Number(issued) + 1}.${mac}`), 'ada@acme.test')).toBeUndefined();
    expect(devices.trusted(req(`x${nonce}.${issued}.${mac}`), 'ada@acme.test')).toBeUndefined();
    expect(devices.trusted(req('garbage'), 'ada@acme.test')).toBeUndefined();
    const saved = now;
    now += (DEVICE_COOKIE_DAYS + 1) * 86_400_000;
    try {
      expect(devices.trusted(req(v), 'ada@acme.test')).toBeUndefined();
    } finally {
      now = saved;
    }
  });

  it('keeps one entry per account, newest first, at most five; a new sign-in replaces that account\'s entry', () => {
    let v = '';
    for (let i = 1; i <= 7; i++) v = issue(devices, `p${i}@acme.test`, v || undefined);
    expect(v.split('~')).toHaveLength(5);
    expect(devices.trusted(req(v), 'p7@acme.test')).toBeDefined();
    expect(devices.trusted(req(v), 'p3@acme.test')).toBeDefined();
    expect(devices.trusted(req(v), 'p2@acme.test')).toBeUndefined();
    const before = devices.trusted(req(v), 'p5@acme.test');
    const again = issue(devices, 'p5@acme.test', v);
    expect(again.split('~')).toHaveLength(5);
    expect(devices.trusted(req(again), 'p5@acme.test')).not.toBe(before);
    expect(devices.trusted(req(again), 'p7@acme.test')).toBeDefined();
  });
});

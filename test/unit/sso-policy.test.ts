// The primary admin's SSO rule (issue 9 point 5, server/sso/policy.ts) and the sealed OIDC flow
// state (issue 9 point 12, server/sso/flow-state.ts) as tables.
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../server/security/keys';
import { FLOW_TTL_MS, FlowSeal } from '../../server/sso/flow-state';
import { linkHonoured, mayLinkAtFirstSignIn } from '../../server/sso/policy';

describe('the primary admin and SSO links', () => {
  it.each<[boolean, 'self' | 'first-sign-in', boolean]>([
    [false, 'first-sign-in', true],
    [false, 'self', true],
    [true, 'first-sign-in', false],
    [true, 'self', true],
  ])('primary admin %s, link made by %s → honoured %s', (primaryAdmin, linkedBy, honoured) => {
    expect(linkHonoured({ primaryAdmin }, linkedBy)).toBe(honoured);
  });

  it('only people other than the primary admin are linked at a first sign-in', () => {
    expect([mayLinkAtFirstSignIn({ primaryAdmin: false }), mayLinkAtFirstSignIn({ primaryAdmin: true })]).toEqual([true, false]);
  });
});

describe('the sealed flow state', () => {
  const box = new SecretBox(randomBytes(32));
  let now = Date.parse('2026-11-21T09:00:00Z');
  const seal = new FlowSeal(box, () => new Date(now));
  const id = '0190c0de-0000-7000-8000-000000000001';
  const flow = { connectionId: id, codeVerifier: 'v'.repeat(43), state: 's'.repeat(43), nonce: 'n'.repeat(43), mode: 'sign-in' as const };

  it('opens what it sealed, for the same connection, within its lifetime', () => {
    const value = seal.seal(flow);
    expect(value).not.toContain('v'.repeat(43));
    expect(seal.open(value, id.toUpperCase())).toEqual({ ok: true, flow: { ...flow, expiresAt: now + FLOW_TTL_MS } });
  });

  it.each<[string, (v: string) => string | undefined, RegExp]>([
    ['missing', () => undefined, /no sign-in state cookie/],
    ['tampered', (v) => v.slice(0, -2) + (v.endsWith('A') ? 'BB' : 'AA'), /does not open/],
    ['sealed for another use', () => box.seal(JSON.stringify(flow), 'sso-client-secret'), /does not open/],
    ['sealed with another key', () => new FlowSeal(new SecretBox(randomBytes(32)), () => new Date(now)).seal(flow), /does not open/],
    ['malformed', () => box.seal(JSON.stringify({ connectionId: id }), 'oidc-flow-state'), /malformed/],
    ['for another connection', () => seal.seal({ ...flow, connectionId: '0190c0de-0000-7000-8000-000000000002' }), /another connection/],
  ])('refuses a state that is %s', (_name, make, reason) => {
    const out = seal.open(make(seal.seal(flow)), id);
    expect(out).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });

  it('refuses it once expired', () => {
    const value = seal.seal(flow);
    now += FLOW_TTL_MS;
    expect(seal.open(value, id)).toEqual({ ok: false, reason: 'the sign-in state expired' });
  });
});

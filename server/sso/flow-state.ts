// Where an OIDC sign-in keeps its state between the start and the callback (issue 9 point 12):
// the PKCE verifier, `state` and `nonce` (and, for linking, who asked) sealed with the server key
// (AES-256-GCM, security/keys.ts, its own label) in a short-lived cookie of the browser that
// started it. No session row is written for an anonymous visitor: a row per click on "Continue"
// would let anyone fill the sessions table, and a session store that inserts only at sign-in
// (issue 9 point 10) would lose the state.
//
// The cookie is the binding to the browser (a callback arriving in another browser has none:
// login CSRF fails), sealing keeps the verifier secret and makes the content unforgeable (a
// tampered cookie does not open), and it expires after FLOW_TTL_MS inside the seal as well as in
// the browser. It is cleared at the callback; the code it goes with works once at the IdP.
// Tests: test/api/sso-front-door.test.ts ("anonymous requests create no session rows").
import type { SecretBox } from '../security/keys';

export const FLOW_LABEL = 'oidc-flow-state';
/** Ten minutes to sign in at the IdP. */
export const FLOW_TTL_MS = 10 * 60 * 1000;
export const FLOW_COOKIE = 'provisio.oidc';
/** Sent only to the OIDC routes. */
export const FLOW_COOKIE_PATH = '/login/oidc/';

export interface FlowState {
  connectionId: string;
  codeVerifier: string;
  state: string;
  nonce: string;
  /** 'sign-in' from /login; 'link' from the account page of a signed-in person. */
  mode: 'sign-in' | 'link';
  /** The signed-in person who asked to link (mode 'link'). */
  tenantId?: string;
  userId?: string;
  /** Epoch ms. */
  expiresAt: number;
}

export type FlowOpen = { ok: true; flow: FlowState } | { ok: false; reason: string };

export class FlowSeal {
  constructor(
    private readonly box: SecretBox,
    private readonly clock: () => Date,
  ) {}

  seal(flow: Omit<FlowState, 'expiresAt'>): string {
    return this.box.seal(JSON.stringify({ ...flow, expiresAt: this.clock().getTime() + FLOW_TTL_MS }), FLOW_LABEL);
  }

  /** The state in a cookie value, or why there is none usable (for the log). */
  open(value: string | undefined, connectionId: string): FlowOpen {
    if (!value) return { ok: false, reason: 'no sign-in state cookie (expired, another browser, or the sign-in did not start here)' };
    let flow: FlowState;
    try {
      flow = JSON.parse(this.box.open(value, FLOW_LABEL));
    } catch {
      return { ok: false, reason: 'the sign-in state cookie does not open (tampered with, or sealed with another SECRET_KEY)' };
    }
    const text = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 200;
    if (!flow || !text(flow.connectionId) || !text(flow.codeVerifier) || !text(flow.state) || !text(flow.nonce) || typeof flow.expiresAt !== 'number' || !['sign-in', 'link'].includes(flow.mode)) {
      return { ok: false, reason: 'the sign-in state cookie is malformed' };
    }
    if (flow.expiresAt <= this.clock().getTime()) return { ok: false, reason: 'the sign-in state expired' };
    if (flow.connectionId !== connectionId.toLowerCase()) return { ok: false, reason: 'the sign-in state belongs to another connection' };
    return { ok: true, flow };
  }
}

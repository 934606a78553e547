// What the front door's parts promise each other: the session's contents and the sign-in
// service the password form and the OIDC callback both finish through (front-door/sign-in.ts),
// so every way in applies the same rules (active, not pending-blocked, sub-accounts, privacy).
import type { Request, Response } from 'express';
import 'express-session';

export type SignInMethod = 'password' | 'oidc';

/** Who a session belongs to once signed in. */
export interface SessionUser {
  tenantId: string;
  userId: string;
  method: SignInMethod;
  /** Epoch ms of the sign-in: the absolute timeout counts from here. */
  signedInAt: number;
  /** The account (tenant or sub-account group id) the person is working in; undefined: the tenant. */
  accountId?: string;
}

declare module 'express-session' {
  interface SessionData {
    user?: SessionUser;
    /** Set until the person changes a temporary password / accepts the current privacy policy. */
    mustChangePassword?: boolean;
    mustAcceptPrivacy?: boolean;
    /** The email typed on the first step of /login, for the password step. */
    loginEmail?: string;
  }
}

export interface EligibleUser {
  userId: string;
  activationState: 'pending' | 'active';
}

export interface SignIn {
  /**
   * The user of this tenant whose sign-in email this is, if they may sign in now: exists, active,
   * not blocked by deactivated sub-accounts. Pending users are returned (with their state) for
   * the caller to decide; undefined otherwise.
   */
  findEligible(tenantId: string, email: string): Promise<EligibleUser | undefined>;
  /** Starts a fresh session (new id) for this person and answers with the redirect onward. */
  complete(req: Request, res: Response, who: { tenantId: string; userId: string; method: SignInMethod; verifiedEmail?: string }): Promise<void>;
  /** Answers the sign-in page again with a message (front.json `login.<code>`) that never tells whether an email exists. */
  fail(req: Request, res: Response, code: 'oidcFailed' | 'cannotSignIn', status?: number): void;
}
